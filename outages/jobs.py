"""Every periodic job, registered in this one place.

`manage.py scheduler` runs tick() every few seconds; `make run` and the
deploy units start it. Each job takes the current time, reads the database
as the truth and is idempotent, so running it twice, late, or in two
processes at once does no harm. Background tasks (deliveries, confirmation
messages) are django.tasks, run by `manage.py db_worker`: see outages.notify.

Imports: every wing that has periodic work; nothing imports this module but
the app config and the scheduler command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from . import events
from .live.publish import prune_outbox
from .models import ACTIVE_STATUSES, Incident, Kind, MaintenanceStatus
from .notify.engine import sweep
from .queries.problem_reports import noticed_area_ids
from .services import complete_maintenance, contact_requests, conversations, problem_reports, start_maintenance
from .services.credits import push_credit_crossings

log = logging.getLogger(__name__)

Job = Callable[[datetime], object]


def _at(now: datetime) -> datetime | None:
    # An update is never dated in the future (a clock a little ahead of the database's).
    return now if now <= timezone.now() else None


def advance_maintenance(now: datetime) -> dict[str, int]:
    """Planned windows move scheduled -> in_progress at scheduled_for and ->
    completed at scheduled_until, through the write side, so the live push
    and notifications follow as for any update."""
    started = completed = 0
    due_to_start = Incident.objects.filter(
        kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now
    ).order_by("scheduled_for")
    for window in due_to_start:
        if start_maintenance(window, at=_at(now)):
            started += 1
    due_to_end = Incident.objects.filter(
        kind=Kind.MAINTENANCE,
        status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING],
        scheduled_until__lte=now,
    ).order_by("scheduled_until")
    for window in due_to_end:
        if complete_maintenance(window, at=_at(now)):
            completed += 1
    return {"started": started, "completed": completed}


def announce_lapsed_promises(now: datetime) -> int:
    """When a "next update by" promise passes with no new update, push the
    public fragments again so open pages stop showing the stale promise."""
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


def refresh_report_notices(now: datetime) -> int:
    """Push area pages whose "several customers reported" notice appeared or ran out since the last tick."""
    current = noticed_area_ids(now)
    previous = set(cache.get(problem_reports.NOTICE_CACHE_KEY) or ())
    changed = current ^ previous
    cache.set(problem_reports.NOTICE_CACHE_KEY, sorted(current), timeout=None)
    if changed:
        events.area_changed(area_ids=changed)
    return len(changed)


# In the order they run on each tick.
JOBS: list[Job] = [
    prune_outbox,
    push_credit_crossings,
    advance_maintenance,
    announce_lapsed_promises,
    refresh_report_notices,
    problem_reports.prune_reports,
    contact_requests.record_wait_credits,
    contact_requests.delete_personal_data,
    conversations.prune_conversations,
    sweep,
]


def tick(now: datetime | None = None) -> dict[str, object]:
    """Run every job once; one failing job does not stop the others."""
    now = now or timezone.now()
    results: dict[str, object] = {}
    for job in JOBS:
        try:
            results[job.__name__] = job(now)
        except Exception:
            log.exception("periodic job %s failed", job.__name__)
            results[job.__name__] = "failed"
    return results
