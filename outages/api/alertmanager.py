"""Prometheus Alertmanager webhook: firing alerts labelled with an area open
an incident, and resolve it when they resolve; idempotent per alert fingerprint.

Labels read: `area` (area slugs separated by commas, required), `service`
(service slugs, optional), `impact` (none/minor/major/critical) or else
`severity` (critical → critical, warning/minor → minor, info → none, else
major). Annotations read: `summary` (title; else the alertname label) and
`description` (the first update's message).

A token acts as its user, on that user's teams' areas only (outages.permissions,
the admin's rule): an alert naming another team's area is ignored. Fingerprints
are scoped per token user, so another team's fingerprint, firing or resolved,
never reaches this team's incidents.

Every write goes through outages.services, as the admin's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import permissions, services
from ..models import AlertmanagerAlert, Impact, Incident, Service, ServiceArea
from .serializers import parse_timestamp

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
STATUSES = ("firing", "resolved")


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


def _slugs(value: str) -> list[str]:
    return [slug.strip() for slug in text(value, 2000).split(",") if slug.strip()]


def _check(payload) -> None:
    """The payload's shape, as its OpenAPI schema says: anything else is not from Alertmanager."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError(_("Expected an Alertmanager webhook payload with a list of alerts."))
    if len(payload["alerts"]) > MAX_ALERTS:
        raise PayloadError(_("Too many alerts in one payload."))
    if "version" in payload and not isinstance(payload["version"], str):
        raise PayloadError(_("version must be a string."))
    if "status" in payload and payload["status"] not in STATUSES:
        raise PayloadError(_("status must be firing or resolved."))
    for number, alert in enumerate(payload["alerts"], start=1):
        problem = _alert_problem(alert)
        if problem:
            raise PayloadError(_("Alert %(number)d: %(problem)s") % {"number": number, "problem": problem})


def _alert_problem(alert) -> str | None:
    if not isinstance(alert, dict):
        return _("an alert must be an object.")
    fingerprint = alert.get("fingerprint")
    if not isinstance(fingerprint, str) or not 1 <= len(fingerprint) <= 64:
        return _("fingerprint must be a string of 1 to 64 characters.")
    if alert.get("status") not in STATUSES:
        return _("status must be firing or resolved.")
    for name, required in (("labels", True), ("annotations", False)):
        if name not in alert and not required:
            continue
        value = alert.get(name)
        if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
            return _("%(name)s must map names to strings.") % {"name": name}
    if parse_timestamp(alert.get("startsAt")) is None:
        return _("startsAt must be an RFC 3339 time.")
    if "endsAt" in alert and not isinstance(alert["endsAt"], str):
        return _("endsAt must be a string.")
    return None


def receive(payload, *, user) -> Result:
    _check(payload)
    result = Result()
    for alert in payload["alerts"]:
        try:
            with transaction.atomic():
                if alert["status"] == "firing":
                    _fire(alert, user=user, result=result)
                else:
                    _resolve(alert, user=user, result=result)
        except ValidationError as error:
            result.ignore(alert["fingerprint"], "; ".join(error.messages))
        except IntegrityError:
            # The same alert delivered twice at once: the other delivery opened it.
            result.ignore(alert["fingerprint"], _("Already being handled."))
    return result


def scope_of(user) -> str:
    return f"user:{user.pk}"


def _link(fingerprint: str, user) -> AlertmanagerAlert | None:
    """This user's link for the fingerprint; a link from before scopes is
    adopted only if the user may manage its incident."""
    links = AlertmanagerAlert.objects.select_for_update().select_related("incident")
    link = links.filter(scope=scope_of(user), fingerprint=fingerprint).first()
    if link is not None:
        return link
    legacy = links.filter(scope="", fingerprint=fingerprint).first()
    if legacy is not None and permissions.can_manage(user, legacy.incident):
        legacy.scope = scope_of(user)
        legacy.save(update_fields=["scope", "updated_at"])
        return legacy
    return None


def _fire(alert: dict, *, user, result: Result) -> None:
    fingerprint, labels = text(alert["fingerprint"], 64), alert["labels"]
    annotations, starts_at = alert.get("annotations", {}), parse_timestamp(alert["startsAt"])
    link = _link(fingerprint, user)
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
    outside = permissions.areas_outside(user, areas)
    if outside:
        slugs = ", ".join(sorted(area.slug for area in outside))
        result.ignore(fingerprint, _("This token's user does not work on: %(slugs)s.") % {"slugs": slugs})
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
        AlertmanagerAlert.objects.create(
            scope=scope_of(user), fingerprint=fingerprint, incident=incident, starts_at=starts_at
        )
    result.opened.append(incident.pk)


def _resolve(alert: dict, *, user, result: Result) -> None:
    fingerprint, annotations = text(alert["fingerprint"], 64), alert.get("annotations", {})
    link = _link(fingerprint, user)
    if link is None or not permissions.can_manage(user, link.incident):
        result.ignore(fingerprint, _("No incident was opened for this alert."))
        return
    incident = Incident.objects.get(pk=link.incident_id)
    if not incident.is_active:
        result.unchanged.append(incident.pk)
        return
    message = text(annotations.get("resolved") or "", 10000) or _("The alert has cleared.")
    services.resolve(incident, message=message, author=user)
    result.resolved.append(incident.pk)
