"""What a committed update sets off, and in which order."""

import dataclasses

import pytest
from django_tasks_db.models import DBTaskResult

from outages import events, services
from outages.models import LiveChange
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_update_reaches_the_open_pages_before_its_notifications_are_queued(
    monkeypatch, django_capture_on_commit_callbacks
):
    incident = factories.incident()
    real = events.receivers()
    order = []

    def publish(**kwargs):
        order.append("publish")
        return real.publish(**kwargs)

    def deliver(event_id):
        order.append("deliver")
        return real.deliver(event_id)

    monkeypatch.setattr(events, "_receivers", dataclasses.replace(real, publish=publish, deliver=deliver))
    changes, tasks = LiveChange.objects.count(), DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_update(incident, status="identified", message="Crew on site")
    assert order == ["publish", "deliver"]
    assert LiveChange.objects.count() == changes + 1
    assert DBTaskResult.objects.count() == tasks + 1
