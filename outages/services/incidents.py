"""Incidents and maintenance, every write: open_incident, post_update, resolve, edit_incident.

The admin, the management commands, the API and the tests all call these.
One module, though long: the incident's rules (statuses, ETAs, promises,
versions, the audit trail) are enforced by these functions together.
Each runs in a transaction; what must happen after a write (live push,
notifications) is registered with transaction.on_commit, so a rolled-back
write tells nobody anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import events, i18n
from ..models import (
    CLOSED_STATUSES,
    CLOSING_STATUS,
    STATUSES_BY_KIND,
    AuditAction,
    CrewStatus,
    EtaStage,
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
from ..queries import cadence, estimates
from . import audit

# post_update(eta=KEEP) carries the current ETA forward; eta=None clears it.
KEEP = object()

# The incident fields the audit log follows (besides areas and services).
AUDITED_FIELDS = [
    "title",
    "kind",
    "status",
    "impact",
    "cause",
    "cause_detail",
    "customers_affected",
    "crew_status",
    "scheduled_for",
    "scheduled_until",
]
UPDATE_FIELDS = ["message", "eta", "next_update_at"]
STALE_MESSAGE = gettext_lazy(
    "Someone else changed this incident after you opened it. Reload the page to see their change, then make yours again."
)


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


def _validate_eta_stage(eta_stage: str | None, eta, status: str) -> None:
    """A stage is a choice; an area-wide or on-site estimate needs an ETA to be an estimate of."""
    if eta_stage is None:
        return
    _validate_choice(eta_stage, EtaStage, "eta_stage")
    if eta_stage != EtaStage.ASSESSING and eta is None and status not in CLOSED_STATUSES:
        raise ValidationError({"eta_stage": _("Give an estimated restoration time with this estimate stage.")})


def eta_stage_after(eta_stage: str | None, eta, current: str) -> str:
    """The stage an update leaves: no ETA is "assessing"; an ETA keeps the stage
    given, else the current one, and a first ETA becomes an area-wide estimate."""
    if eta is None:
        return EtaStage.ASSESSING
    if eta_stage:
        return eta_stage
    return EtaStage.AREA_WIDE if current == EtaStage.ASSESSING else current


def validate_new_incident(
    *,
    title,
    areas,
    impact,
    status,
    eta,
    started_at=None,
    crew_status=None,
    next_update_at=None,
    customers_affected=None,
    eta_stage=None,
) -> None:
    """Everything open_incident checks, callable by a form before it saves."""
    now = timezone.now()
    _validate_eta_stage(eta_stage, eta, status)
    _validate_crew_status(crew_status)
    _validate_next_update(next_update_at, status, now)
    _validate_customers(customers_affected)
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


def _validate_next_update(next_update_at: datetime | None, status: str, now: datetime) -> None:
    if next_update_at is None or status in CLOSED_STATUSES:
        return
    if timezone.is_naive(next_update_at):
        raise ValidationError({"next_update_at": _("The time of the next update needs a time zone.")})
    if next_update_at <= now:
        raise ValidationError({"next_update_at": _("The next update must be promised for a time in the future.")})


def _validate_crew_status(crew_status) -> None:
    if crew_status is not None:
        _validate_choice(crew_status, CrewStatus, "crew_status")


def _validate_customers(value) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValidationError({"customers_affected": _("The number of customers affected must be zero or more.")})


def validate_update(
    incident: Incident,
    *,
    status: str,
    eta=KEEP,
    reopen: bool = False,
    at: datetime | None = None,
    crew_status: str | None = None,
    next_update_at: datetime | None = None,
    eta_stage: str | None = None,
):
    """Everything post_update checks; returns the ETA the update will carry."""
    now = at or timezone.now()
    _validate_crew_status(crew_status)
    _validate_next_update(next_update_at, status, now)
    if at is not None and at > timezone.now():
        raise ValidationError({"at": _("An update cannot be dated in the future.")})
    _validate_choice(status, STATUSES_BY_KIND[incident.kind], "status")
    if incident.is_closed and status not in CLOSED_STATUSES and not reopen:
        raise ValidationError({"status": _("This incident is resolved. Reopen it explicitly to post a new status.")})
    if eta is KEEP:
        eta = incident.eta
        if eta is not None and eta <= now and status not in CLOSED_STATUSES:
            # An ETA that has passed is not carried forward silently.
            eta = None
    else:
        _validate_eta(eta, status, now)
    _validate_eta_stage(eta_stage, eta, status)
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
    customers_affected: int | None = None,
    crew_status: str = CrewStatus.NOT_ASSIGNED,
    next_update_at: datetime | None = None,
    message_translations: dict[str, str] | None = None,
    eta_stage: str | None = None,
    title_translations: dict[str, str] | None = None,
    cause_detail_translations: dict[str, str] | None = None,
) -> Incident:
    """Open an incident for the given areas and post its first update.

    message_translations (and title_, cause_detail_translations): the text in
    other languages, {"hu": ..., "he": ...}.
    eta_stage: how firm the ETA is (EtaStage); None: area-wide with an ETA, assessing without."""
    areas = list(areas)
    started_at = started_at or timezone.now()
    validate_new_incident(
        title=title,
        areas=areas,
        impact=impact,
        status=status,
        eta=eta,
        started_at=started_at,
        crew_status=crew_status,
        next_update_at=next_update_at,
        customers_affected=customers_affected,
        eta_stage=eta_stage,
    )
    title = title.strip()
    if next_update_at is None:
        next_update_at = cadence.default_promise(kind=Kind.INCIDENT, impact=impact, status=status, now=timezone.now())

    incident = Incident(
        title=title,
        title_translations=clean_message_translations(title_translations, "title_translations"),
        impact=impact,
        status=status,
        cause=cause,
        cause_detail=cause_detail.strip(),
        cause_detail_translations=clean_message_translations(cause_detail_translations, "cause_detail_translations"),
        started_at=started_at,
        customers_affected=customers_affected,
        crew_status=crew_status,
    )
    incident.full_clean(exclude=["areas", "services"])
    incident.save()
    IncidentArea.objects.bulk_create(
        [IncidentArea(incident=incident, area=area, added_at=started_at) for area in areas]
    )
    incident.services.set(list(services))
    refresh_estimate(incident)
    update = _record_update(
        incident,
        status=status,
        message=message,
        eta=eta,
        author=author,
        now=started_at,
        next_update_at=next_update_at,
        audit_action=None,
        message_translations=message_translations,
        eta_stage=eta_stage,
    )
    audit.record(
        incident,
        AuditAction.OPENED,
        user=author,
        update=update,
        changes=audit.diff(
            {},
            {
                **audit.snapshot(incident, AUDITED_FIELDS),
                **audit.snapshot(update, UPDATE_FIELDS),
                "areas": audit.as_text(areas),
                "services": audit.as_text(list(incident.services.all())),
            },
        ),
    )
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
    crew_status: str | None = None,
    next_update_at: datetime | None = None,
    message_translations: dict[str, str] | None = None,
    eta_stage: str | None = None,
) -> IncidentUpdate:
    """Post a timeline entry; the incident's status, ETA and crew status follow it.

    eta_stage: how firm the ETA is (EtaStage); None keeps it (a first ETA is an
    area-wide estimate; no ETA is always "assessing").

    crew_status=None keeps the current crew status. next_update_at is this
    update's promise of when the next one comes (None: the impact's cadence,
    settings.UPDATE_CADENCE_MINUTES, from now; impact none: no promise).

    A resolved incident takes a non-resolved update only with reopen=True, so
    nobody reopens an outage by a slip of the status menu. `at` records an
    update that happened earlier (imports, history); it defaults to now.
    message_translations gives the message in other languages ({"hu": ...}):
    customers read theirs where given, `message` otherwise.
    """
    # Lock the row so two operators posting at once are applied in turn.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    eta = validate_update(
        incident,
        status=status,
        eta=eta,
        reopen=reopen,
        at=at,
        crew_status=crew_status,
        next_update_at=next_update_at,
        eta_stage=eta_stage,
    )
    at = at or timezone.now()
    latest = incident.updates.order_by("-created_at").values_list("created_at", flat=True).first()
    if latest and at < latest:
        raise ValidationError({"at": _("An update cannot be dated before the previous one.")})
    if next_update_at is None:
        # No promise given: the impact's cadence (settings.UPDATE_CADENCE_MINUTES) from now.
        next_update_at = cadence.default_promise(
            kind=incident.kind, impact=incident.impact, status=status, now=timezone.now()
        )
    update = _record_update(
        incident,
        status=status,
        message=message,
        eta=eta,
        author=author,
        now=at,
        crew_status=crew_status,
        next_update_at=next_update_at,
        message_translations=message_translations,
        eta_stage=eta_stage,
    )
    events.incident_changed(
        incident, area_ids=set(incident.incident_areas.values_list("area_id", flat=True)), update=update
    )
    return update


def resolve(
    incident: Incident,
    *,
    message: str = "",
    author=None,
    at: datetime | None = None,
    message_translations: dict[str, str] | None = None,
) -> IncidentUpdate:
    """Resolve an incident, or complete a maintenance window."""
    return post_update(
        incident,
        status=CLOSING_STATUS[incident.kind],
        message=message,
        author=author,
        at=at,
        message_translations=message_translations,
    )


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
    customers_affected: int | None = None,
    message_translations: dict[str, str] | None = None,
    title_translations: dict[str, str] | None = None,
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
        title_translations=clean_message_translations(title_translations, "title_translations"),
        impact=impact,
        status=MaintenanceStatus.SCHEDULED,
        cause="planned_work",
        started_at=scheduled_for,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        customers_affected=customers_affected,
    )
    _validate_customers(customers_affected)
    maintenance.full_clean(exclude=["areas", "services"])
    maintenance.save()
    IncidentArea.objects.bulk_create(
        [IncidentArea(incident=maintenance, area=area, added_at=scheduled_for) for area in areas]
    )
    maintenance.services.set(list(services))
    update = _record_update(
        maintenance,
        status=MaintenanceStatus.SCHEDULED,
        message=message,
        eta=None,
        author=author,
        now=now,
        audit_action=None,
        message_translations=message_translations,
    )
    audit.record(
        maintenance,
        AuditAction.SCHEDULED,
        user=author,
        update=update,
        changes=audit.diff(
            {},
            {**audit.snapshot(maintenance, AUDITED_FIELDS), "message": update.message, "areas": audit.as_text(areas)},
        ),
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
    customers_affected=KEEP,
    area_customers: dict[int, int | None] | None = None,
    scheduled_for: datetime | None = None,
    scheduled_until: datetime | None = None,
    expected_version: int | None = None,
    author=None,
    title_translations: dict[str, str] | None = None,
    cause_detail_translations: dict[str, str] | None = None,
) -> Incident:
    """Change an incident's facts (not its status: that is post_update's).
    title_translations, cause_detail_translations: the other languages' text (replaced whole when given).

    expected_version: the version the editor saw; if someone changed the
    incident since, nothing is saved (ValidationError), so no change is
    silently overwritten. area_customers: {area id: estimate} per area."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and expected_version != incident.version:
        raise ValidationError(STALE_MESSAGE, code="stale")
    old_area_ids = set(incident.incident_areas.values_list("area_id", flat=True))
    before = _edit_snapshot(incident)
    if customers_affected is not KEEP:
        _validate_customers(customers_affected)
        incident.customers_affected = customers_affected
    if scheduled_for is not None or scheduled_until is not None:
        if not incident.is_maintenance:
            raise ValidationError({"scheduled_for": _("Only planned maintenance has a scheduled window.")})
        incident.scheduled_for = scheduled_for or incident.scheduled_for
        incident.scheduled_until = scheduled_until or incident.scheduled_until
        if incident.scheduled_until <= incident.scheduled_for:
            raise ValidationError({"scheduled_until": _("A maintenance window must end after it starts.")})
        if incident.status == MaintenanceStatus.SCHEDULED:
            incident.started_at = incident.scheduled_for
    if title is not None:
        incident.title = title.strip()
    if impact is not None:
        _validate_choice(impact, Impact, "impact")
        incident.impact = impact
    if cause is not None:
        incident.cause = cause
    if cause_detail is not None:
        incident.cause_detail = cause_detail.strip()
    for field, given in (("title", title_translations), ("cause_detail", cause_detail_translations)):
        if given is not None:
            setattr(incident, f"{field}_translations", clean_message_translations(given, f"{field}_translations"))
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
    if area_customers is not None:
        for area_id, count in area_customers.items():
            _validate_customers(count)
            IncidentArea.objects.filter(incident=incident, area_id=area_id).update(customers_affected=count)
    if incident.is_active:
        refresh_estimate(incident)
    after = _edit_snapshot(incident)
    changes = audit.diff(before, after)
    if changes:
        Incident.objects.filter(pk=incident.pk).update(version=models.F("version") + 1)
        incident.refresh_from_db(fields=["version"])
        audit.record(incident, AuditAction.EDITED, user=author, changes=changes)
    events.incident_changed(incident, area_ids=old_area_ids | new_area_ids)
    return incident


def _record_update(
    incident: Incident,
    *,
    status,
    message,
    eta,
    author,
    now,
    crew_status=None,
    next_update_at=None,
    audit_action=AuditAction.UPDATE_POSTED,
    message_translations=None,
    eta_stage=None,
) -> IncidentUpdate:
    """The one place where an incident's status, ETA, crew status, promise
    and times follow its latest update."""
    if status in CLOSED_STATUSES:
        eta = None
        next_update_at = None
    before = audit.snapshot(incident, ["status", "eta", "eta_stage", "crew_status", "next_update_at"])
    update = IncidentUpdate.objects.create(
        incident=incident,
        status=status,
        message=(message or "").strip(),
        message_translations=clean_message_translations(message_translations),
        eta=eta,
        previous_eta=incident.eta,
        created_at=now,
        author=author,
        crew_status=crew_status or incident.crew_status,
        next_update_at=next_update_at,
    )
    incident.status = status
    incident.eta = eta
    incident.eta_stage = eta_stage_after(eta_stage, eta, incident.eta_stage)
    incident.crew_status = update.crew_status
    incident.next_update_at = next_update_at
    incident.promise_lapse_announced = False
    incident.version += 1
    if incident.kind == Kind.MAINTENANCE and status != MaintenanceStatus.SCHEDULED and incident.started_at > now:
        # A window starts when the work really starts (early, or cancelled before it began).
        incident.started_at = now
    if status in CLOSED_STATUSES:
        incident.resolved_at = incident.resolved_at or now
    else:
        incident.resolved_at = None
    incident.save(
        update_fields=[
            "status",
            "eta",
            "eta_stage",
            "started_at",
            "resolved_at",
            "updated_at",
            "crew_status",
            "next_update_at",
            "promise_lapse_announced",
            "version",
        ]
    )
    if audit_action:
        after = audit.snapshot(incident, ["status", "eta", "eta_stage", "crew_status", "next_update_at"])
        audit.record(
            incident,
            audit_action,
            user=author,
            update=update,
            changes={**audit.diff(before, after), **({"message": [None, update.message]} if update.message else {})},
        )
    return update


def refresh_estimate(incident: Incident) -> None:
    """Store the automatic first estimate from the incident's facts now (outages.queries.estimates)."""
    found = estimates.estimate_for(incident)
    minutes, samples = (found.minutes, found.samples) if found else (None, None)
    if (minutes, samples) != (incident.estimate_minutes, incident.estimate_samples):
        incident.estimate_minutes, incident.estimate_samples = minutes, samples
        Incident.objects.filter(pk=incident.pk).update(estimate_minutes=minutes, estimate_samples=samples)


def _edit_snapshot(incident: Incident) -> dict:
    """What edit_incident compares before and after, for the audit log."""
    return {
        **audit.snapshot(incident, AUDITED_FIELDS),
        "areas": audit.as_text(list(incident.areas.all())),
        "services": audit.as_text(list(incident.services.all())),
        "area_customers": _area_customers_text(incident),
    }


def _area_customers_text(incident: Incident) -> str:
    rows = incident.incident_areas.select_related("area").exclude(customers_affected=None).order_by("area__name")
    return ", ".join(f"{row.area.name}: {row.customers_affected}" for row in rows)


@transaction.atomic
def add_areas(incident: Incident, areas: Iterable[ServiceArea], *, author=None) -> Incident:
    """Add areas to an incident while it grows (areas it has already are left as they are)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    old_area_ids = set(incident.incident_areas.values_list("area_id", flat=True))
    new = [area for area in areas if area.pk not in old_area_ids]
    if not new:
        return incident
    IncidentArea.objects.bulk_create([IncidentArea(incident=incident, area=area) for area in new])
    Incident.objects.filter(pk=incident.pk).update(version=models.F("version") + 1)
    incident.refresh_from_db(fields=["version"])
    audit.record(incident, AuditAction.AREAS_ADDED, user=author, changes={"areas": [None, audit.as_text(new)]})
    events.incident_changed(incident, area_ids=old_area_ids | {area.pk for area in new})
    return incident


def resolve_many(incidents: Iterable[Incident], *, message: str = "", author=None) -> int:
    """Resolve (or complete) every open one of the given incidents, each in its own transaction."""
    resolved = 0
    for incident in incidents:
        if incident.is_closed:
            continue
        resolve(incident, message=message, author=author)
        resolved += 1
    return resolved


def start_maintenance(window: Incident, *, at: datetime | None = None) -> IncidentUpdate | None:
    """scheduled -> in_progress, once: None if someone already moved it on."""
    with transaction.atomic():
        window = Incident.objects.select_for_update().get(pk=window.pk)
        if window.kind != Kind.MAINTENANCE or window.status != MaintenanceStatus.SCHEDULED:
            return None
        return post_update(
            window,
            status=MaintenanceStatus.IN_PROGRESS,
            at=at,
            message=i18n.in_default_language(gettext_lazy("The planned maintenance has started.")),
            message_translations=i18n.translations_of(gettext_lazy("The planned maintenance has started.")),
        )


def complete_maintenance(window: Incident, *, at: datetime | None = None) -> IncidentUpdate | None:
    """in_progress / verifying -> completed, once: None if it is not running."""
    with transaction.atomic():
        window = Incident.objects.select_for_update().get(pk=window.pk)
        if window.kind != Kind.MAINTENANCE or window.status not in (
            MaintenanceStatus.IN_PROGRESS,
            MaintenanceStatus.VERIFYING,
        ):
            return None
        return post_update(
            window,
            status=MaintenanceStatus.COMPLETED,
            at=at,
            message=i18n.in_default_language(gettext_lazy("The planned maintenance is complete.")),
            message_translations=i18n.translations_of(gettext_lazy("The planned maintenance is complete.")),
        )


# An update's message in several languages --------------------------------


def clean_message_translations(
    translations: dict[str, str] | None, field: str = "message_translations"
) -> dict[str, str]:
    """{"hu": "...", "he": "..."} with blank ones dropped; a language the site
    does not offer (or the default one, which is `message`) is refused."""
    offered = set(i18n.other_languages())
    cleaned: dict[str, str] = {}
    for code, text in (translations or {}).items():
        if code not in offered:
            raise ValidationError(
                {
                    field: _("“%(code)s” is not one of the other languages: %(codes)s.")
                    % {"code": code, "codes": ", ".join(sorted(offered))}
                }
            )
        if not isinstance(text, str):
            raise ValidationError({field: _("A translated message must be text.")})
        if text.strip():
            cleaned[code] = text.strip()
    return cleaned
