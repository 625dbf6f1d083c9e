"""Every write: open_incident, post_update, resolve, edit_incident.

The admin, the management commands, the API and the tests all call these.
Each runs in a transaction; what must happen after a write (live push,
notifications) is registered with transaction.on_commit, so a rolled-back
write tells nobody anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .models import (
    CLOSED_STATUSES,
    CLOSING_STATUS,
    STATUSES_BY_KIND,
    Impact,
    Incident,
    IncidentArea,
    IncidentStatus,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    Service,
    ServiceArea,
)

# post_update(eta=KEEP) carries the current ETA forward; eta=None clears it.
KEEP = object()


def _validate_eta(eta: datetime | None, status: str, now: datetime) -> None:
    if eta is None or status in CLOSED_STATUSES:
        return
    if timezone.is_naive(eta):
        raise ValidationError({"eta": _("The estimated restoration time needs a time zone.")})
    if eta <= now:
        raise ValidationError({"eta": _("The estimated restoration time must be in the future.")})


def _validate_choice(value: str, choices, field: str) -> None:
    if value not in choices.values:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def validate_new_incident(*, title, areas, impact, status, eta, started_at=None) -> None:
    """Everything open_incident checks, callable by a form before it saves."""
    now = timezone.now()
    if not (title or "").strip():
        raise ValidationError({"title": _("An incident needs a title.")})
    if not list(areas):
        raise ValidationError({"areas": _("Choose at least one affected area.")})
    _validate_choice(impact, Impact, "impact")
    _validate_choice(status, IncidentStatus, "status")
    if status == IncidentStatus.RESOLVED:
        raise ValidationError({"status": _("A new incident cannot start resolved.")})
    _validate_eta(eta, status, now)
    if started_at and started_at > now:
        raise ValidationError({"started_at": _("An incident cannot start in the future.")})


def validate_update(incident: Incident, *, status: str, eta=KEEP, reopen: bool = False, at: datetime | None = None):
    """Everything post_update checks; returns the ETA the update will carry."""
    now = at or timezone.now()
    if at is not None and at > timezone.now():
        raise ValidationError({"at": _("An update cannot be dated in the future.")})
    _validate_choice(status, STATUSES_BY_KIND[incident.kind], "status")
    if incident.is_closed and status not in CLOSED_STATUSES and not reopen:
        raise ValidationError(
            {"status": _("This incident is resolved. Reopen it explicitly to post a new status.")}
        )
    if eta is KEEP:
        eta = incident.eta
        if eta is not None and eta <= now and status not in CLOSED_STATUSES:
            # An ETA that has passed is not carried forward silently.
            eta = None
    else:
        _validate_eta(eta, status, now)
    return eta


@transaction.atomic
def open_incident(
    *,
    title: str,
    areas: Iterable[ServiceArea],
    services: Iterable[Service] = (),
    impact: str = Impact.MAJOR,
    status: str = IncidentStatus.INVESTIGATING,
    message: str = "",
    eta: datetime | None = None,
    cause: str = "",
    cause_detail: str = "",
    author=None,
    started_at: datetime | None = None,
) -> Incident:
    """Open an incident for the given areas and post its first update."""
    areas = list(areas)
    started_at = started_at or timezone.now()
    validate_new_incident(title=title, areas=areas, impact=impact, status=status, eta=eta, started_at=started_at)
    title = title.strip()

    incident = Incident(
        title=title, impact=impact, status=status, cause=cause, cause_detail=cause_detail.strip(), started_at=started_at
    )
    incident.full_clean(exclude=["areas", "services"])
    incident.save()
    IncidentArea.objects.bulk_create(
        [IncidentArea(incident=incident, area=area, added_at=started_at) for area in areas]
    )
    incident.services.set(list(services))
    update = _record_update(incident, status=status, message=message, eta=eta, author=author, now=started_at)
    events.incident_changed(incident, area_ids={area.pk for area in areas}, update=update)
    return incident


@transaction.atomic
def post_update(
    incident: Incident,
    *,
    status: str,
    message: str = "",
    eta=KEEP,
    author=None,
    reopen: bool = False,
    at: datetime | None = None,
) -> IncidentUpdate:
    """Post a timeline entry; the incident's status and ETA follow it.

    A resolved incident takes a non-resolved update only with reopen=True, so
    nobody reopens an outage by a slip of the status menu. `at` records an
    update that happened earlier (imports, history); it defaults to now.
    """
    # Lock the row so two operators posting at once are applied in turn.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    eta = validate_update(incident, status=status, eta=eta, reopen=reopen, at=at)
    at = at or timezone.now()
    latest = incident.updates.order_by("-created_at").values_list("created_at", flat=True).first()
    if latest and at < latest:
        raise ValidationError({"at": _("An update cannot be dated before the previous one.")})
    update = _record_update(incident, status=status, message=message, eta=eta, author=author, now=at)
    events.incident_changed(
        incident, area_ids=set(incident.incident_areas.values_list("area_id", flat=True)), update=update
    )
    return update


def resolve(incident: Incident, *, message: str = "", author=None, at: datetime | None = None) -> IncidentUpdate:
    """Resolve an incident, or complete a maintenance window."""
    return post_update(incident, status=CLOSING_STATUS[incident.kind], message=message, author=author, at=at)


@transaction.atomic
def schedule_maintenance(
    *,
    title: str,
    areas: Iterable[ServiceArea],
    scheduled_for: datetime,
    scheduled_until: datetime,
    services: Iterable[Service] = (),
    message: str = "",
    impact: str = Impact.MINOR,
    author=None,
) -> Incident:
    """Announce a planned maintenance window; its status starts as `scheduled`."""
    areas = list(areas)
    if not (title or "").strip():
        raise ValidationError({"title": _("A maintenance window needs a title.")})
    if not areas:
        raise ValidationError({"areas": _("Choose at least one affected area.")})
    _validate_choice(impact, Impact, "impact")
    if scheduled_for is None or scheduled_until is None or scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": _("A maintenance window must end after it starts.")})
    now = timezone.now()
    maintenance = Incident(
        kind=Kind.MAINTENANCE,
        title=title.strip(),
        impact=impact,
        status=MaintenanceStatus.SCHEDULED,
        cause="planned_work",
        started_at=scheduled_for,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
    )
    maintenance.full_clean(exclude=["areas", "services"])
    maintenance.save()
    IncidentArea.objects.bulk_create(
        [IncidentArea(incident=maintenance, area=area, added_at=scheduled_for) for area in areas]
    )
    maintenance.services.set(list(services))
    update = _record_update(
        maintenance, status=MaintenanceStatus.SCHEDULED, message=message, eta=None, author=author, now=now
    )
    events.incident_changed(maintenance, area_ids={area.pk for area in areas}, update=update)
    return maintenance


@transaction.atomic
def edit_incident(
    incident: Incident,
    *,
    title: str | None = None,
    impact: str | None = None,
    cause: str | None = None,
    cause_detail: str | None = None,
    areas: Iterable[ServiceArea] | None = None,
    services: Iterable[Service] | None = None,
) -> Incident:
    """Change an incident's facts (not its status: that is post_update's)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    old_area_ids = set(incident.incident_areas.values_list("area_id", flat=True))
    if title is not None:
        incident.title = title.strip()
    if impact is not None:
        _validate_choice(impact, Impact, "impact")
        incident.impact = impact
    if cause is not None:
        incident.cause = cause
    if cause_detail is not None:
        incident.cause_detail = cause_detail.strip()
    incident.full_clean(exclude=["areas", "services"])
    incident.save()
    new_area_ids = old_area_ids
    if areas is not None:
        new_area_ids = {area.pk for area in areas}
        if not new_area_ids:
            raise ValidationError({"areas": _("Choose at least one affected area.")})
        IncidentArea.objects.filter(incident=incident).exclude(area_id__in=new_area_ids).delete()
        # An area added while the incident grows is affected from now, not
        # from the incident's start.
        IncidentArea.objects.bulk_create(
            [IncidentArea(incident=incident, area_id=pk) for pk in new_area_ids - old_area_ids]
        )
    if services is not None:
        incident.services.set(list(services))
    events.incident_changed(incident, area_ids=old_area_ids | new_area_ids)
    return incident


def _record_update(incident: Incident, *, status, message, eta, author, now) -> IncidentUpdate:
    """The one place where an incident's status, ETA and times follow its latest update."""
    if status in CLOSED_STATUSES:
        eta = None
    update = IncidentUpdate.objects.create(
        incident=incident,
        status=status,
        message=(message or "").strip(),
        eta=eta,
        previous_eta=incident.eta,
        created_at=now,
        author=author,
    )
    incident.status = status
    incident.eta = eta
    if incident.kind == Kind.MAINTENANCE and status != MaintenanceStatus.SCHEDULED and incident.started_at > now:
        # A window starts when the work really starts (early, or cancelled before it began).
        incident.started_at = now
    if status in CLOSED_STATUSES:
        incident.resolved_at = incident.resolved_at or now
    else:
        incident.resolved_at = None
    incident.save(update_fields=["status", "eta", "started_at", "resolved_at", "updated_at"])
    return update
