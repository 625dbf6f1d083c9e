"""Update cadence: the longest time between public updates per impact
(settings.UPDATE_CADENCE_MINUTES), the promise an update makes when it gives
none, and which incidents are due for an update soon or overdue (the console
flags both; customers only ever see a promise that still stands).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from ..models import ACTIVE_STATUSES, Incident, Kind, ServiceArea

# "Due soon": the promised update falls within this much of now.
DUE_SOON = timedelta(minutes=10)
DUE_LIST_LIMIT = 200


def cadence_minutes(impact: str) -> int | None:
    """The longest time between public updates for this impact, in minutes (None: no rule)."""
    minutes = settings.UPDATE_CADENCE_MINUTES.get(impact)
    return minutes if minutes and minutes > 0 else None


def default_promise(*, kind: str, impact: str, status: str, now: datetime) -> datetime | None:
    """The "next update by" an incident update makes when the operator gives none."""
    if kind != Kind.INCIDENT or status not in ACTIVE_STATUSES:
        return None
    minutes = cadence_minutes(impact)
    return now + timedelta(minutes=minutes) if minutes else None


def is_due_soon(incident: Incident, now: datetime | None = None) -> bool:
    """The promise has not passed yet but falls within DUE_SOON (overdue is current.is_overdue)."""
    now = now or timezone.now()
    return bool(
        incident.next_update_at
        and incident.status in ACTIVE_STATUSES
        and now < incident.next_update_at <= now + DUE_SOON
    )


def due_incidents(queryset=None, now: datetime | None = None) -> list[Incident]:
    """Active incidents whose promised update is due within DUE_SOON or has passed,
    the most overdue first, with their areas: two queries."""
    now = now or timezone.now()
    incidents = (Incident.objects.all() if queryset is None else queryset).filter(
        status__in=ACTIVE_STATUSES, next_update_at__lte=now + DUE_SOON
    )
    areas = Prefetch("areas", queryset=ServiceArea.objects.select_related("region").order_by("name"))
    return list(incidents.prefetch_related(areas).order_by("next_update_at", "pk")[:DUE_LIST_LIMIT])
