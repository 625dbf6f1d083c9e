"""Periodic jobs: things that must happen at a time, not on a request
(the live-push outbox clean-up; later, maintenance windows and credit
thresholds). `manage.py scheduler` runs tick() every few seconds; `make run`
starts it. Each job takes the current time, reads the database as the truth
and is idempotent, so running it twice, late, or in two processes at once
does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

log = logging.getLogger(__name__)

Job = Callable[[datetime], object]
JOBS: list[Job] = []


def periodic(job: Job) -> Job:
    """Register a function as a periodic job."""
    JOBS.append(job)
    return job


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
