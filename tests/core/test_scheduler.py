from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from outages import jobs
from outages.models import LiveChange

pytestmark = pytest.mark.django_db


def test_tick_prunes_old_outbox_rows_and_keeps_recent_ones():
    old = LiveChange.objects.create(fragments={}, created_at=timezone.now() - timedelta(hours=2))
    recent = LiveChange.objects.create(fragments={})
    results = jobs.tick()
    assert results["prune_outbox"] == 1
    assert list(LiveChange.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not LiveChange.objects.filter(pk=old.pk).exists()


def test_one_failing_job_does_not_stop_the_others(monkeypatch):
    ran = []

    def broken(now):
        raise RuntimeError("boom")

    def fine(now):
        ran.append(now)
        return "ok"

    monkeypatch.setattr(jobs, "JOBS", [broken, fine])
    assert jobs.tick() == {"broken": "failed", "fine": "ok"}
    assert len(ran) == 1


def test_scheduler_command_runs_once():
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "prune_outbox: 0" in out.getvalue()
