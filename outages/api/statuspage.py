"""Public JSON: Statuspage v2-compatible endpoints, our native endpoints and
the OpenAPI document. Read-only; every response comes from outages.queries
through outages.api_serializers, so it says what the page says."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..models import ServiceArea
from ..queries import current
from . import openapi
from . import serializers as s
from .http import json_error, json_response, public_get

POSTCODE = re.compile(current.POSTCODE_PATTERN.removesuffix("$"))


def _v2(comps: current.Components, **sections) -> HttpResponse:
    """Every v2 response starts with the page; Last-Modified is the page's updated_at."""
    updated_at = comps.page_updated_at
    response = json_response({"page": s.page(updated_at), **sections})
    response.last_modified = updated_at
    return response


@public_get()
def v2_summary(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    return _v2(
        comps,
        components=s.components(comps),
        incidents=[s.incident(incident, comps) for incident in current.unresolved_incidents()],
        scheduled_maintenances=[s.incident(window, comps) for window in current.summary_maintenances()],
        status=s.status(comps.overall),
    )


@public_get()
def v2_status(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    return _v2(comps, status=s.status(comps.overall))


@public_get()
def v2_components(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    return _v2(comps, components=s.components(comps))


@public_get()
def v2_incidents(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    return _v2(comps, incidents=[s.incident(incident, comps) for incident in current.recent_incidents()])


@public_get()
def v2_incidents_unresolved(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    return _v2(comps, incidents=[s.incident(incident, comps) for incident in current.unresolved_incidents()])


def _maintenances(which: str):
    @public_get()
    def view(request: HttpRequest) -> HttpResponse:
        comps = current.components()
        windows = current.maintenances(which)
        return _v2(comps, scheduled_maintenances=[s.incident(window, comps) for window in windows])

    view.__name__ = f"v2_scheduled_maintenances_{which}"
    return view


v2_scheduled_maintenances = _maintenances("all")
v2_scheduled_maintenances_upcoming = _maintenances("upcoming")
v2_scheduled_maintenances_active = _maintenances("active")


# --- native ------------------------------------------------------------------------


@public_get()
def areas(request: HttpRequest) -> HttpResponse:
    comps = current.components()
    response = json_response(
        {
            "updated_at": s.timestamp(comps.page_updated_at),
            "status": comps.overall,
            "areas": [s.native_area(area, comps.status_of(area)) for area in comps.areas],
        }
    )
    response.last_modified = comps.page_updated_at
    return response


@public_get()
def area(request: HttpRequest, slug: str) -> HttpResponse:
    found = ServiceArea.objects.select_related("region").filter(slug=slug).first()
    if found is None:
        return json_error(404, _("No area with this slug."))
    return json_response(s.native_area_detail(current.area_card(found)))


@public_get(params=["postcode"])
def lookup(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("postcode", "")
    if not raw.strip():
        return json_error(400, _("Give a postcode: ?postcode=1051."), parameters=["postcode"])
    if not POSTCODE.fullmatch(raw):
        return json_error(400, _("This is not a postcode."), parameters=["postcode"])
    postcode = current.normalize_postcode(raw)
    found = current.areas_for_postcode(postcode)
    statuses = current.area_statuses(area.pk for area in found)
    return json_response(
        {
            "postcode": postcode,
            "areas": [s.native_area(area, statuses.get(area.pk, "operational")) for area in found],
        }
    )


@public_get(max_age=300)
def openapi_document(request: HttpRequest) -> HttpResponse:
    return json_response(openapi.document())


@csrf_exempt  # it changes nothing; a POST to a wrong path gets the JSON 404 too
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other /api/ path: a JSON 404 (or the slash Django would have added)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found and request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    response = json_error(404, _("There is no such API endpoint."))
    response["Access-Control-Allow-Origin"] = "*"
    return response
