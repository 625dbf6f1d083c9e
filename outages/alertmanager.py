"""Prometheus Alertmanager webhook: firing alerts labelled with an area open
an incident, and resolve it when they resolve; idempotent per alert fingerprint.

Labels read: `area` (area slugs separated by commas, required), `service`
(service slugs, optional), `impact` (none/minor/major/critical) or else
`severity` (critical → critical, warning/minor → minor, info → none, else
major). Annotations read: `summary` (title; else the alertname label) and
`description` (the first update's message).

Every write goes through outages.services, as the admin's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import services
from .models import AlertmanagerAlert, Impact, Incident, Service, ServiceArea

SEVERITY_TO_IMPACT = {
    "critical": Impact.CRITICAL,
    "page": Impact.CRITICAL,
    "error": Impact.MAJOR,
    "major": Impact.MAJOR,
    "warning": Impact.MINOR,
    "minor": Impact.MINOR,
    "info": Impact.NONE,
    "none": Impact.NONE,
}
MAX_ALERTS = 500


class PayloadError(ValueError):
    """The request is not an Alertmanager webhook payload."""


@dataclass
class Result:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    ignored: list[dict] = field(default_factory=list)

    def ignore(self, fingerprint: str, reason: str) -> None:
        self.ignored.append({"fingerprint": fingerprint, "reason": str(reason)})

    def as_dict(self) -> dict:
        return {"opened": self.opened, "resolved": self.resolved, "unchanged": self.unchanged, "ignored": self.ignored}


def text(value, max_length: int) -> str:
    """Operator-ish text from outside: a string, without NULs or lone surrogates, bounded."""
    if not isinstance(value, str):
        return ""
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return value[:max_length]


def _strings(mapping) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {str(key): value for key, value in mapping.items() if isinstance(value, str)}


def _slugs(value: str) -> list[str]:
    return [slug.strip() for slug in text(value, 2000).split(",") if slug.strip()]


def receive(payload, *, user) -> Result:
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError(_("Expected an Alertmanager webhook payload with a list of alerts."))
    alerts = payload["alerts"]
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(_("Too many alerts in one payload."))
    result = Result()
    for alert in alerts:
        _receive_one(alert, user=user, result=result)
    return result


def _receive_one(alert, *, user, result: Result) -> None:
    if not isinstance(alert, dict):
        result.ignore("", _("An alert must be an object."))
        return
    fingerprint = text(alert.get("fingerprint"), 65)
    status = alert.get("status")
    starts_at = parse_datetime(text(alert.get("startsAt"), 64)) if isinstance(alert.get("startsAt"), str) else None
    if not fingerprint or len(fingerprint) > 64:
        result.ignore(fingerprint[:64], _("An alert needs a fingerprint (at most 64 characters)."))
        return
    if status not in ("firing", "resolved"):
        result.ignore(fingerprint, _("An alert's status is firing or resolved."))
        return
    if starts_at is None or starts_at.tzinfo is None:
        result.ignore(fingerprint, _("An alert needs startsAt, a time with a time zone."))
        return
    try:
        with transaction.atomic():
            if status == "firing":
                _fire(fingerprint, starts_at, _strings(alert.get("labels")), _strings(alert.get("annotations")),
                      user=user, result=result)
            else:
                _resolve(fingerprint, _strings(alert.get("annotations")), user=user, result=result)
    except ValidationError as error:
        result.ignore(fingerprint, "; ".join(error.messages))
    except IntegrityError:
        # The same alert delivered twice at once: the other delivery opened it.
        result.ignore(fingerprint, _("Already being handled."))


def _fire(fingerprint, starts_at, labels, annotations, *, user, result: Result) -> None:
    link = AlertmanagerAlert.objects.select_for_update().select_related("incident").filter(fingerprint=fingerprint).first()
    if link and (link.incident.is_active or starts_at <= link.starts_at):
        # Still open, or a replay of a firing that has since resolved.
        result.unchanged.append(link.incident_id)
        return
    slugs = _slugs(labels.get("area", ""))
    areas = list(ServiceArea.objects.filter(slug__in=slugs)) if slugs else []
    if not slugs:
        result.ignore(fingerprint, _("The alert has no area label."))
        return
    if len(areas) != len(set(slugs)):
        unknown = sorted(set(slugs) - {area.slug for area in areas})
        result.ignore(fingerprint, _("Unknown area: %(slugs)s.") % {"slugs": ", ".join(unknown)})
        return
    impact = labels.get("impact", "")
    if impact not in Impact.values:
        impact = SEVERITY_TO_IMPACT.get(labels.get("severity", "").lower(), Impact.MAJOR)
    title = text(annotations.get("summary") or labels.get("alertname") or _("Alert"), 200).strip() or _("Alert")
    incident = services.open_incident(
        title=title,
        areas=areas,
        services=Service.objects.filter(slug__in=_slugs(labels.get("service", ""))),
        impact=impact,
        message=text(annotations.get("description", ""), 10000),
        author=user,
    )
    if link:
        link.incident, link.starts_at = incident, starts_at
        link.save(update_fields=["incident", "starts_at", "updated_at"])
    else:
        AlertmanagerAlert.objects.create(fingerprint=fingerprint, incident=incident, starts_at=starts_at)
    result.opened.append(incident.pk)


def _resolve(fingerprint, annotations, *, user, result: Result) -> None:
    link = AlertmanagerAlert.objects.select_for_update().filter(fingerprint=fingerprint).first()
    if link is None:
        result.ignore(fingerprint, _("No incident was opened for this alert."))
        return
    incident = Incident.objects.get(pk=link.incident_id)
    if not incident.is_active:
        result.unchanged.append(incident.pk)
        return
    message = text(annotations.get("resolved") or "", 10000) or _("The alert has cleared.")
    services.resolve(incident, message=message, author=user)
    result.resolved.append(incident.pk)
