"""Planned maintenance moves scheduled -> in_progress -> completed by itself,
exactly at its times, through post_update (so the live push follows)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from outages import jobs, services
from outages.models import AreaStatus, AuditEntry, Incident, LiveChange, MaintenanceStatus
from outages.queries import current
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 10, 8, 0, tzinfo=UTC)
START = T0 + timedelta(days=1)
END = START + timedelta(hours=2)
SECOND = timedelta(seconds=1)


@pytest.fixture
def window():
    with time_machine.travel(T0, tick=False):
        district = factories.area("District 13")
        return services.schedule_maintenance(
            title="Network upgrade",
            areas=[district],
            scheduled_for=START,
            scheduled_until=END,
            message="Short drops possible.",
        )


def _tick_at(moment):
    with time_machine.travel(moment, tick=False):
        return jobs.tick(moment)["advance_maintenance"]


def _status(window):
    window.refresh_from_db()
    return window.status


def test_window_stays_scheduled_until_its_start(window):
    assert _tick_at(START - SECOND) == {"started": 0, "completed": 0}
    assert _status(window) == MaintenanceStatus.SCHEDULED
    assert current.area_statuses() == {}


def test_window_starts_exactly_at_scheduled_for_and_area_is_under_maintenance(window):
    assert _tick_at(START) == {"started": 1, "completed": 0}
    assert _status(window) == MaintenanceStatus.IN_PROGRESS
    area = window.areas.get()
    assert current.area_statuses() == {area.pk: AreaStatus.MAINTENANCE}
    update = window.updates.first()
    assert update.status == MaintenanceStatus.IN_PROGRESS and update.created_at == START
    assert window.started_at == START


def test_window_completes_exactly_at_scheduled_until(window):
    _tick_at(START)
    assert _tick_at(END - SECOND) == {"started": 0, "completed": 0}
    assert _status(window) == MaintenanceStatus.IN_PROGRESS
    assert _tick_at(END) == {"started": 0, "completed": 1}
    assert _status(window) == MaintenanceStatus.COMPLETED
    assert window.resolved_at == END
    assert current.area_statuses() == {}


def test_transitions_are_idempotent(window):
    _tick_at(START)
    assert _tick_at(START + SECOND) == {"started": 0, "completed": 0}
    _tick_at(END)
    assert _tick_at(END + SECOND) == {"started": 0, "completed": 0}
    assert list(window.updates.values_list("status", flat=True)) == ["completed", "in_progress", "scheduled"]


def test_a_window_missed_entirely_is_started_then_completed(window):
    assert _tick_at(END + timedelta(hours=1)) == {"started": 1, "completed": 1}
    assert _status(window) == MaintenanceStatus.COMPLETED


def test_a_window_in_verifying_also_completes_on_time(window):
    _tick_at(START)
    with time_machine.travel(START + timedelta(minutes=90), tick=False):
        services.post_update(window, status=MaintenanceStatus.VERIFYING, message="Checking")
    assert _tick_at(END) == {"started": 0, "completed": 1}


def test_transitions_push_live_and_are_audited(window, django_capture_on_commit_callbacks):
    before = LiveChange.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        _tick_at(START)
    change = LiveChange.objects.order_by("-id").first()
    assert LiveChange.objects.count() == before + 1
    assert f"incident-{window.pk}" in change.fragments
    assert AuditEntry.objects.filter(incident=window, action="update_posted", user=None).exists()


def test_upcoming_windows_show_on_home_and_area_pages(client, window):
    area = window.areas.get()
    home = client.get("/").text
    assert "Upcoming maintenance" in home and "Network upgrade" in home
    page = client.get(f"/areas/{area.slug}/").text
    assert "Upcoming maintenance" in page and "Network upgrade" in page
    other = factories.area("Elsewhere")
    assert "Network upgrade" not in client.get(f"/areas/{other.slug}/").text


def test_started_window_leaves_the_upcoming_list(client, window):
    _tick_at(START)
    assert current.upcoming_maintenance() == []


def test_operator_schedules_a_window_in_the_admin(admin_client):
    district = factories.area("District 13")
    start = datetime(2031, 5, 1, 22, 0)
    response = admin_client.post(
        "/admin/outages/maintenancewindow/add/",
        {
            "title": "Router swap",
            "impact": "minor",
            "areas": [district.pk],
            "scheduled_for": "2031-05-01T22:00",
            "scheduled_until": "2031-05-02T01:00",
            "update_message": "Brief drops overnight.",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    window = Incident.objects.get(title="Router swap")
    assert window.kind == "maintenance" and window.status == MaintenanceStatus.SCHEDULED
    assert timezone.localtime(window.scheduled_for).replace(tzinfo=None) == start
    assert admin_client.get("/admin/outages/maintenancewindow/").text.count("Router swap") >= 1
    # Incidents and windows are listed apart.
    assert "Router swap" not in admin_client.get("/admin/outages/incident/").text


def test_window_that_ends_before_it_starts_is_refused_in_the_admin(admin_client):
    district = factories.area()
    response = admin_client.post(
        "/admin/outages/maintenancewindow/add/",
        {
            "title": "Backwards",
            "impact": "minor",
            "areas": [district.pk],
            "scheduled_for": "2031-05-02T01:00",
            "scheduled_until": "2031-05-01T22:00",
        },
    )
    assert response.status_code == 200 and "must end after it starts" in response.text
    assert not Incident.objects.filter(title="Backwards").exists()


def test_operator_reschedules_a_window_and_the_change_is_audited(admin_client, window):
    page = admin_client.get(f"/admin/outages/maintenancewindow/{window.pk}/change/")
    assert page.status_code == 200 and "View as customer" in page.text
    window.refresh_from_db()
    area = window.areas.get()
    response = admin_client.post(
        f"/admin/outages/maintenancewindow/{window.pk}/change/",
        {
            "title": window.title,
            "impact": window.impact,
            "areas": [area.pk],
            "scheduled_for": timezone.localtime(START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "scheduled_until": timezone.localtime(END + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "update_status": "scheduled",
            "update_message": "",
            "update_eta": "",
            "update_crew_status": "not_assigned",
            "seen_version": window.version,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    window.refresh_from_db()
    assert window.scheduled_for == START + timedelta(hours=1) and window.started_at == window.scheduled_for
    assert AuditEntry.objects.filter(incident=window, action="edited", changes__has_key="scheduled_for").exists()
    assert _tick_at(START) == {"started": 0, "completed": 0}
    assert _tick_at(START + timedelta(hours=1)) == {"started": 1, "completed": 0}
