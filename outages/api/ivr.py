"""The voice line: what is wrong in the caller's area and when it will be
fixed, as plain text for text-to-speech or as SSML. By area slug, or by the
caller's postcode; ?lang= picks the language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ..models import AREA_STATUS_RANK, AreaStatus, ServiceArea
from ..queries import announcements, current
from .http import json_error, public_get

CONTENT_TYPES = {"txt": "text/plain; charset=utf-8", "ssml": "application/ssml+xml; charset=utf-8"}
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _language(request: HttpRequest) -> str | None:
    lang = request.GET.get("lang", settings.LANGUAGE_CODE)
    return lang if lang in LANGUAGE_CODES else None


def _speak(area: ServiceArea, incidents, fmt: str, lang: str) -> HttpResponse:
    with translation.override(lang):
        announcement = announcements.announce(area, incidents)
        body = announcement.ssml() if fmt == "ssml" else announcement.text()
    response = HttpResponse(body + "\n", content_type=CONTENT_TYPES[fmt])
    response["Content-Language"] = lang
    return response


def _bad_language() -> HttpResponse:
    return json_error(
        400, _("Unknown language; use one of: %(codes)s.") % {"codes": ", ".join(LANGUAGE_CODES)}, parameters=["lang"]
    )


@public_get(params=["lang"], cors=False)
def area_announcement(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    lang = _language(request)
    if lang is None:
        return _bad_language()
    area = ServiceArea.objects.filter(slug=slug).first()
    if area is None:
        return json_error(404, _("No area with this slug."))
    return _speak(area, current.area_incidents_now([area.pk]).get(area.pk, []), fmt, lang)


@public_get(params=["postcode", "lang"], cors=False)
def postcode_announcement(request: HttpRequest, fmt: str) -> HttpResponse:
    """For a system that knows the caller's postcode; where several areas cover
    it, the one with the worst status speaks."""
    lang = _language(request)
    if lang is None:
        return _bad_language()
    raw = request.GET.get("postcode", "")
    if not current.normalize_postcode(raw) or len(raw) > 32:
        return json_error(400, _("Give a postcode: ?postcode=1051."), parameters=["postcode"])
    areas = current.areas_for_postcode(raw)
    if not areas:
        return json_error(404, _("No area covers this postcode."))
    by_area = current.area_incidents_now(area.pk for area in areas)
    statuses = {area.pk: current.worst(i.area_status for i in by_area.get(area.pk, [])) for area in areas}
    area = max(areas, key=lambda a: AREA_STATUS_RANK[AreaStatus(statuses[a.pk])])
    return _speak(area, by_area.get(area.pk, []), fmt, lang)
