"""What the layout promises beyond the import contracts (make lint checks those)."""

import pytest
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from outages import events, jobs
from outages.models import NotificationEvent
from outages.notify import confirm, engine
from tests import factories


def test_task_paths_of_the_previous_release_still_resolve_to_the_same_tasks():
    assert import_string("outages.tasks.deliver_event") is engine.deliver_event
    assert import_string("outages.tasks.send_confirmation") is confirm.send_confirmation


@pytest.mark.django_db
def test_a_delivery_queued_under_the_old_path_runs():
    incident = factories.incident()
    event = NotificationEvent.objects.get(update=incident.updates.latest())
    result = engine.deliver_event.enqueue(event.pk)
    DBTaskResult.objects.filter(pk=result.id).update(task_path="outages.tasks.deliver_event")
    stored = DBTaskResult.objects.get(pk=result.id)
    assert stored.task.func is engine.deliver_event.func
    assert stored.task.call(*stored.args_kwargs["args"])["event"] == event.pk


def test_the_write_side_hands_events_to_the_receivers_that_ready_connected():
    receivers = events.receivers()
    assert receivers.publish.__module__ == "outages.live.publish"
    assert receivers.deliver is engine.enqueue
    assert receivers.confirm is confirm.enqueue_confirmation


def test_without_receivers_an_event_fails_loudly(monkeypatch):
    monkeypatch.setattr(events, "_receivers", None)
    with pytest.raises(RuntimeError, match="OutagesConfig.ready"):
        events.receivers()


def test_every_periodic_job_is_listed_once_in_jobs():
    names = [job.__name__ for job in jobs.JOBS]
    assert len(names) == len(set(names))
    assert {
        "prune_outbox",
        "push_credit_crossings",
        "advance_maintenance",
        "announce_lapsed_promises",
        "refresh_report_notices",
        "prune_reports",
        "prune_conversations",
        "sweep",
    } <= set(names)
