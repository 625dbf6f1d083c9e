"""The management API for automation: open incidents, post updates, resolve,
and the Alertmanager webhook receiver.

Authenticated by API token only (Authorization: Bearer sp_…): a browser's
session cookie never counts, which is why these views can be csrf_exempt.
A token can do what its user may do (outages.add_incident to open,
outages.change_incident to update), on its user's teams' areas only
(outages.permissions, the rule the admin follows): another team's incident is
a 404, another team's area a 403. Every write goes through outages.services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from .. import permissions, services
from ..models import Incident, Service, ServiceArea
from ..queries import current
from ..services import api_tokens
from ..site import absolute
from . import alertmanager
from . import serializers as s
from .http import json_error, json_response

MAX_BODY = 1024 * 1024
MESSAGE_MAX_LENGTH = 10000


class BadRequest(Exception):
    def __init__(self, message, fields: dict | None = None):
        super().__init__(message)
        self.fields = fields


def token_api(*permissions: str) -> Callable:
    """POST only, a live token whose user has the permissions, and a JSON object body."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                response = json_error(405, _("Only POST is allowed here."))
                response["Allow"] = "POST"
                return response
            token = api_tokens.authenticate(request.headers.get("Authorization", ""))
            if token is None:
                response = json_error(401, _("An API token is needed: Authorization: Bearer <token>."))
                response["WWW-Authenticate"] = 'Bearer realm="api"'
                return response
            if not all(token.user.has_perm(permission) for permission in permissions):
                return json_error(403, _("This token's user may not do this."))
            try:
                data = _json_body(request)
                return view(request, token, data, *args, **kwargs)
            except BadRequest as error:
                extra = {"fields": error.fields} if error.fields else {}
                return json_error(400, str(error), **extra)
            except ValidationError as error:
                fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
                return json_error(400, " ".join(error.messages), fields=fields)

        return wrapper

    return decorator


def _json_body(request: HttpRequest):
    if len(request.body) > MAX_BODY:
        raise BadRequest(_("The request body is too large."))
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(_("The request body must be JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    return data


def _check_text(value: str, field: str) -> str:
    if "\x00" in value:
        raise BadRequest(_("Text may not contain NUL characters."), {field: [_("Contains a NUL character.")]})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(_("Text must be valid Unicode."), {field: [_("Not valid Unicode.")]}) from None
    return value


def _string(data: dict, field: str, default: str = "", max_length: int = MESSAGE_MAX_LENGTH) -> str:
    value = data.get(field, default)
    if not isinstance(value, str):
        raise BadRequest(_("%(field)s must be a string.") % {"field": field}, {field: [_("Must be a string.")]})
    if len(value) > max_length:
        raise BadRequest(_("%(field)s is too long.") % {"field": field}, {field: [_("Too long.")]})
    return _check_text(value, field)


def _slug_list(data: dict, field: str, model) -> list:
    value = data.get(field, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(
            _("%(field)s must be a list of slugs.") % {"field": field}, {field: [_("Must be a list of slugs.")]}
        )
    slugs = {_check_text(item, field) for item in value}
    found = list(model.objects.filter(slug__in=slugs))
    unknown = sorted(slugs - {obj.slug for obj in found})
    if unknown:
        message = _("Unknown %(field)s: %(slugs)s.") % {"field": field, "slugs": ", ".join(unknown)}
        raise BadRequest(message, {field: [message]})
    return found


def _eta(data: dict):
    """Absent: KEEP; null: None; otherwise an RFC 3339 time (with its offset)."""
    if "eta" not in data:
        return services.KEEP
    value = data["eta"]
    if value is None:
        return None
    parsed = s.parse_timestamp(value)
    if parsed is None:
        message = _("eta must be an ISO 8601 time, e.g. 2026-11-24T16:30:00+01:00.")
        raise BadRequest(message, {"eta": [message]})
    return parsed


def _unknown_fields(data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        message = _("Unknown field: %(names)s.") % {"names": ", ".join(unknown)}
        raise BadRequest(message, {name: [_("Unknown field.")] for name in unknown})


def _other_languages(translations: dict) -> dict[str, str]:
    """A stored map as the API takes it: the other languages only (the default is the plain field)."""
    return {code: text for code, text in translations.items() if code != settings.LANGUAGE_CODE and text}


def _incident_json(pk: int) -> dict:
    """The native API's incident (in the request's language), plus what operators gave
    in every language: title, cause_detail and their other-language maps."""
    incident = current.with_card_data(Incident.objects.filter(pk=pk)).get()
    return {
        **s.native_incident(incident),
        "title_translations": _other_languages(incident.title_translations),
        "cause_detail": incident.cause_detail,
        "cause_detail_translations": _other_languages(incident.cause_detail_translations),
    }


NEW_INCIDENT_FIELDS = {
    "title",
    "areas",
    "services",
    "impact",
    "status",
    "message",
    "message_translations",
    "eta",
    "cause",
    "cause_detail",
    "eta_stage",
    "title_translations",
    "cause_detail_translations",
}


def _translations(data: dict, field: str = "message_translations", max_length: int = 10000) -> dict[str, str]:
    """{"hu": "...", "he": "..."} for message_translations, title_translations or
    cause_detail_translations; the services check the language codes."""
    value = data.get(field) or {}
    if not isinstance(value, dict) or not all(
        isinstance(text, str) and len(text) <= max_length for text in value.values()
    ):
        message = _("%(field)s must be an object of texts by language code.") % {"field": field}
        raise BadRequest(message, {field: [message]})
    for text in value.values():
        _check_text(text, field)
    return value


@token_api("outages.add_incident")
def incidents(request: HttpRequest, token, data: dict) -> HttpResponse:
    """Open an incident: the same service function as the admin's."""
    _unknown_fields(data, NEW_INCIDENT_FIELDS)
    if "title" not in data:
        raise BadRequest(_("title is required."), {"title": [_("Required.")]})
    if not data.get("areas"):
        raise BadRequest(_("areas is required: a list of area slugs."), {"areas": [_("Required.")]})
    eta = _eta(data)
    areas = _slug_list(data, "areas", ServiceArea)
    outside = permissions.areas_outside(token.user, areas)
    if outside:
        message = _("This token's user does not work on: %(slugs)s.") % {
            "slugs": ", ".join(sorted(area.slug for area in outside))
        }
        return json_error(403, message, fields={"areas": [message]})
    incident = services.open_incident(
        title=_string(data, "title", max_length=200),
        areas=areas,
        services=_slug_list(data, "services", Service),
        impact=_string(data, "impact", "major"),
        status=_string(data, "status", "investigating"),
        message=_string(data, "message"),
        message_translations=_translations(data),
        eta=None if eta is services.KEEP else eta,
        cause=_string(data, "cause", max_length=30),
        cause_detail=_string(data, "cause_detail", max_length=200),
        eta_stage=_string(data, "eta_stage", max_length=12) or None,
        author=token.user,
        title_translations=_translations(data, "title_translations", max_length=200),
        cause_detail_translations=_translations(data, "cause_detail_translations", max_length=200),
    )
    response = json_response(_incident_json(incident.pk), status=201)
    response["Location"] = absolute(f"/api/manage/incidents/{incident.pk}/")
    return response


@token_api("outages.change_incident")
def incident_updates(request: HttpRequest, token, data: dict, pk: int) -> HttpResponse:
    """Post an update; status "resolved" (or "completed" for maintenance) resolves."""
    # Another team's incident is answered as if it did not exist.
    incident = permissions.incidents_for(token.user).filter(pk=pk).first()
    if incident is None:
        return json_error(404, _("No incident with this id."))
    _unknown_fields(data, {"status", "message", "message_translations", "eta", "reopen", "eta_stage"})
    if "status" not in data:
        raise BadRequest(_("status is required."), {"status": [_("Required.")]})
    reopen = data.get("reopen", False)
    if not isinstance(reopen, bool):
        raise BadRequest(_("reopen must be true or false."), {"reopen": [_("Must be a boolean.")]})
    update = services.post_update(
        incident,
        status=_string(data, "status", max_length=20),
        message=_string(data, "message"),
        message_translations=_translations(data),
        eta=_eta(data),
        author=token.user,
        reopen=reopen,
        eta_stage=_string(data, "eta_stage", max_length=12) or None,
    )
    body = {
        "id": update.pk,
        "status": update.status,
        "message": update.message,
        "message_translations": _other_languages(update.message_translations),
        "eta": s.timestamp(update.eta),
        "created_at": s.timestamp(update.created_at),
        "incident": _incident_json(incident.pk),
    }
    return json_response(body, status=201)


@token_api("outages.add_incident", "outages.change_incident")
def alertmanager_webhook(request: HttpRequest, token, data: dict) -> HttpResponse:
    try:
        result = alertmanager.receive(data, user=token.user)
    except alertmanager.PayloadError as error:
        raise BadRequest(str(error)) from None
    return json_response(result.as_dict())
