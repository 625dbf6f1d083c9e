"""Service credits: when an outage has lasted long enough to earn customers
compensation under a CreditPolicy.

Read side: pure computation from what the database already records.

- An incident is *open* while its status is an active one (investigating,
  identified, monitoring; in progress, verifying for maintenance). Its open
  periods come from the update timeline, so an incident that was resolved and
  reopened counts only the time it was open, not the gap between.
- An area's outage starts when the area joined the incident
  (IncidentArea.added_at): an area added later counts from then.
- A policy's threshold is crossed when the open time is strictly longer than
  its minimum ("over 20 minutes"): exactly 20:00 is not, 20:00.000001 is.
- Durations are differences of aware datetimes, so time zones and daylight-
  saving changes cannot stretch or shrink them.
- Planned maintenance earns nothing unless the policy says so; an incident
  below the policy's minimum impact earns nothing; switched-off policies count
  nowhere (pages, push, export).

Recording each crossing of an ongoing outage (so the notice is pushed live
the moment it appears) is a write: outages.services.credits. The billing
export is outages.queries.credit_export.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import i18n
from ..models import (
    ACTIVE_STATUSES,
    IMPACT_RANK,
    CreditPolicy,
    Incident,
    IncidentArea,
    IncidentUpdate,
    Kind,
    Service,
    ServiceArea,
)

log = logging.getLogger(__name__)

Period = tuple[datetime, datetime | None]  # end None: still open


# Loading: a constant number of queries for any number of incidents ---------


def with_credit_data(incidents):
    """Prefetch what credits_for() reads: the timeline's statuses, when each
    area joined, and the active policies of the incident's services."""
    return incidents.prefetch_related(
        Prefetch(
            "updates",
            queryset=IncidentUpdate.objects.only("id", "incident_id", "status", "created_at").order_by(
                "created_at", "id"
            ),
            to_attr="credit_timeline",
        ),
        Prefetch(
            "incident_areas",
            queryset=IncidentArea.objects.select_related("area").order_by("area__name", "area_id"),
            to_attr="credit_areas",
        ),
        # Nested under "services", so it reuses a "services" prefetch already there.
        Prefetch(
            "services__credit_policies", queryset=CreditPolicy.objects.filter(active=True), to_attr="active_policies"
        ),
    )


def _timeline(incident: Incident) -> list:
    if hasattr(incident, "credit_timeline"):
        return incident.credit_timeline
    return list(incident.updates.order_by("created_at", "id").only("id", "status", "created_at"))


def area_links(incident: Incident) -> list[IncidentArea]:
    """The incident's area links with their areas, by area name: as
    with_credit_data prefetched them, else read now."""
    if hasattr(incident, "credit_areas"):
        return incident.credit_areas
    return list(incident.incident_areas.select_related("area").order_by("area__name", "area_id"))


def _policies(incident: Incident) -> list[tuple[Service, CreditPolicy]]:
    pairs = []
    for service in incident.services.all():
        active = getattr(service, "active_policies", None)
        if active is None:
            active = list(service.credit_policies.filter(active=True))
        pairs.extend((service, policy) for policy in active)
    return pairs


# Pure computation ----------------------------------------------------------


def open_periods(incident: Incident, timeline=None) -> list[Period]:
    """When the incident was open, in order, from its timeline of updates."""
    timeline = _timeline(incident) if timeline is None else timeline
    periods: list[Period] = []
    start = None
    for update in sorted(timeline, key=lambda u: (u.created_at, u.pk or 0)):
        if update.status in ACTIVE_STATUSES:
            if start is None:
                start = update.created_at
        elif start is not None:
            periods.append((start, update.created_at))
            start = None
    if start is not None:
        periods.append((start, None))
    if not timeline and incident.status in ACTIVE_STATUSES:
        periods.append((incident.started_at, None))
    if periods and incident.kind == Kind.INCIDENT and incident.started_at < periods[0][0]:
        # An incident is open from its recorded start even if the first update came later.
        periods[0] = (incident.started_at, periods[0][1])
    return periods


def clip(periods: list[Period], since: datetime) -> list[Period]:
    """The parts of the periods from `since` on (an area that joined later)."""
    clipped = []
    for start, end in periods:
        if end is not None and end <= since:
            continue
        clipped.append((max(start, since), end))
    return clipped


def open_time(periods: list[Period], now: datetime) -> timedelta:
    """How long the periods add up to by `now` (an open period runs until now)."""
    total = timedelta()
    for start, end in periods:
        stop = now if end is None else min(end, now)
        if stop > start:
            total += stop - start
    return total


def crossing_time(periods: list[Period], threshold: timedelta) -> datetime | None:
    """The instant the open time reaches `threshold` with more to come, or None
    if it never goes past it. Past this instant the outage is "over" the threshold."""
    total = timedelta()
    for start, end in periods:
        if end is None or total + (end - start) > threshold:
            return start + (threshold - total)
        total += end - start
    return None


def policy_applies(policy: CreditPolicy, incident: Incident) -> bool:
    if incident.kind == Kind.MAINTENANCE and not policy.include_maintenance:
        return False
    return IMPACT_RANK[incident.impact] >= IMPACT_RANK[policy.min_impact]


@dataclass
class Outage:
    """One area and service of an incident: how long it has been out, and the credits earned."""

    incident: Incident
    area: ServiceArea
    service: Service
    start: datetime | None  # None: the area was never affected while the incident was open
    end: datetime | None  # None: still open
    duration: timedelta
    credits: list[Credit]


@dataclass
class Credit:
    incident: Incident
    area: ServiceArea
    service: Service
    policy: CreditPolicy
    start: datetime
    end: datetime | None
    duration: timedelta
    crossed_at: datetime


def outages_for(incident: Incident, now: datetime | None = None, *, area: ServiceArea | None = None) -> list[Outage]:
    """For each affected area × service with a credit policy: the outage so far and the credits it earned by `now`."""
    now = now or timezone.now()
    policies = _policies(incident)
    if not policies:
        return []
    periods = open_periods(incident)
    by_service: dict[int, tuple[Service, list[CreditPolicy]]] = {}
    for service, policy in policies:
        by_service.setdefault(service.pk, (service, []))[1].append(policy)
    outages = []
    for link in area_links(incident):
        if area is not None and link.area_id != area.pk:
            continue
        mine = clip(periods, link.added_at)
        duration = open_time(mine, now)
        start = mine[0][0] if mine else None
        end = mine[-1][1] if mine else None
        for service, service_policies in by_service.values():
            credits = []
            for policy in service_policies:
                if not policy_applies(policy, incident):
                    continue
                crossed = crossing_time(mine, timedelta(minutes=policy.min_duration))
                if crossed is not None and crossed < now:
                    credits.append(Credit(incident, link.area, service, policy, start, end, duration, crossed))
            outages.append(Outage(incident, link.area, service, start, end, duration, credits))
    return outages


def credits_for(incident: Incident, now: datetime | None = None, *, area: ServiceArea | None = None) -> list[Credit]:
    return [credit for outage in outages_for(incident, now, area=area) for credit in outage.credits]


# What customers read --------------------------------------------------------


def threshold_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    hours_text = ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minutes_text = ngettext("%(count)d minute", "%(count)d minutes", rest) % {"count": rest}
    if not hours:
        return minutes_text
    if not rest:
        return hours_text
    return _("%(hours)s %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}


@dataclass
class Notice:
    """One policy's credit, for the areas of an incident that earned it."""

    policy: CreditPolicy
    service: Service
    areas: list[ServiceArea]
    ongoing: bool

    @property
    def threshold(self) -> str:
        return threshold_text(self.policy.min_duration)

    @property
    def area_names(self) -> str:
        return get_text_list([i18n.isolate(area.localized_name) for area in self.areas], _("and"))

    def text(self) -> str:
        """The sentence every channel shows: the page, the widget, the API, messages.
        In a right-to-left language each name and the credit's wording is isolated."""
        values = {
            "threshold": self.threshold,
            "service": i18n.isolate(self.service.localized_name),
            "areas": self.area_names,
            "credit": i18n.isolate(self.policy.localized_credit),
        }
        if self.ongoing:
            return (
                _(
                    "This outage has lasted over %(threshold)s. %(service)s customers in %(areas)s "
                    "will receive %(credit)s as a credit automatically."
                )
                % values
            )
        return (
            _(
                "This outage lasted over %(threshold)s. %(service)s customers in %(areas)s "
                "will receive %(credit)s as a credit automatically."
            )
            % values
        )

    def as_json(self) -> dict:
        return {
            "service": self.service.slug,
            "areas": [area.slug for area in self.areas],
            "threshold_minutes": self.policy.min_duration,
            "credit": self.policy.localized_credit,
            "text": self.text(),
        }


def notices_for(incident: Incident, now: datetime | None = None, *, area: ServiceArea | None = None) -> list[Notice]:
    """The credit notices an incident card shows (on an area page, only that area's)."""
    notices: dict[int, Notice] = {}
    for credit in credits_for(incident, now, area=area):
        notice = notices.setdefault(
            credit.policy.pk, Notice(credit.policy, credit.service, [], ongoing=incident.is_active)
        )
        notice.areas.append(credit.area)
    return list(notices.values())
