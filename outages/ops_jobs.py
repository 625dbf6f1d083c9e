"""Periodic jobs of the ops console (registered with outages.scheduler).

- advance_maintenance: planned windows move scheduled -> in_progress at
  scheduled_for and -> completed at scheduled_until, through
  services.post_update, so the live push and notifications follow as for
  any update.
- announce_lapsed_promises: when a "next update by" promise passes with no
  new update, the public fragments are pushed again so open pages stop
  showing the stale promise.

Both read the database as the truth and are idempotent.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from . import events, services
from .models import ACTIVE_STATUSES, Incident, Kind, MaintenanceStatus
from .scheduler import periodic


def _at(now: datetime) -> datetime | None:
    # An update is never dated in the future (a clock a little ahead of the database's).
    return now if now <= timezone.now() else None


@periodic
def advance_maintenance(now: datetime) -> dict[str, int]:
    started = completed = 0
    due_to_start = Incident.objects.filter(
        kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now
    ).order_by("scheduled_for")
    for window in due_to_start:
        if services.start_maintenance(window, at=_at(now)):
            started += 1
    due_to_end = Incident.objects.filter(
        kind=Kind.MAINTENANCE,
        status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING],
        scheduled_until__lte=now,
    ).order_by("scheduled_until")
    for window in due_to_end:
        if services.complete_maintenance(window, at=_at(now)):
            completed += 1
    return {"started": started, "completed": completed}


@periodic
def announce_lapsed_promises(now: datetime) -> int:
    lapsed = list(
        Incident.objects.filter(
            status__in=ACTIVE_STATUSES, next_update_at__lte=now, promise_lapse_announced=False
        ).values_list("pk", flat=True)
    )
    for pk in lapsed:
        # Only the first process to flip the flag announces.
        if Incident.objects.filter(pk=pk, promise_lapse_announced=False).update(promise_lapse_announced=True):
            incident = Incident.objects.get(pk=pk)
            events.incident_changed(incident, area_ids=set(incident.incident_areas.values_list("area_id", flat=True)))
    return len(lapsed)
