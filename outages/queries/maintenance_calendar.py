"""Planned maintenance as calendar events: which windows a calendar lists,
and whether one was cancelled (what /maintenance.ics shows)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..models import Incident, Kind, MaintenanceStatus, ServiceArea
from .current import with_card_data

# Windows that ended longer ago than this drop out of the calendar (a client
# that already has them keeps them; a cancelled one stays long enough to be seen).
KEEP_PAST = timedelta(days=30)
CALENDAR_LIMIT = 200


def calendar_windows(area: ServiceArea | None = None, now=None) -> list[Incident]:
    """Maintenance windows still to come, under way, or ended in the last 30
    days (for one area, or all), soonest first, with areas, services and the
    latest message."""
    now = now or timezone.now()
    windows = Incident.objects.filter(kind=Kind.MAINTENANCE, scheduled_for__isnull=False, scheduled_until__isnull=False)
    windows = windows.filter(Q(scheduled_until__gte=now - KEEP_PAST) | ~Q(status=MaintenanceStatus.COMPLETED))
    if area is not None:
        windows = windows.filter(incident_areas__area=area)
    return list(with_card_data(windows.order_by("scheduled_for", "pk"))[:CALENDAR_LIMIT])


def is_cancelled(window: Incident) -> bool:
    """Completed before the work began: closing a window early moves its start
    to the moment it closed, so a cancelled window has no length (as the
    history bars read it)."""
    return (
        window.status == MaintenanceStatus.COMPLETED
        and window.resolved_at is not None
        and window.resolved_at <= window.started_at
    )
