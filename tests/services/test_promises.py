"""Crew status, customers affected and "next update by" promises: shown while
they stand, flagged overdue in the admin when they pass with no new update."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from outages import jobs, services
from outages.models import CrewStatus, LiveChange
from outages.queries import current
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def promised():
    district = factories.area("District 5")
    incident = factories.incident(district)
    services.post_update(
        incident,
        status="identified",
        message="Crew on the way",
        crew_status=CrewStatus.EN_ROUTE,
        next_update_at=timezone.now() + timedelta(minutes=30),
    )
    services.edit_incident(incident, customers_affected=1200)
    incident.refresh_from_db()
    return incident


def test_update_carries_crew_status_and_promise(promised):
    update = promised.updates.first()
    assert update.crew_status == CrewStatus.EN_ROUTE and update.next_update_at == promised.next_update_at
    assert promised.crew_status == CrewStatus.EN_ROUTE


def test_update_without_crew_status_keeps_it(promised):
    services.post_update(promised, status="identified", message="Still working")
    promised.refresh_from_db()
    assert promised.crew_status == CrewStatus.EN_ROUTE
    assert promised.next_update_at is None  # a promise belongs to one update


def test_promise_in_the_past_is_refused(promised):
    with pytest.raises(ValidationError) as error:
        services.post_update(promised, status="identified", next_update_at=timezone.now() - timedelta(minutes=1))
    assert "next_update_at" in error.value.error_dict


def test_public_pages_show_crew_customers_and_the_promise_while_it_stands(client, promised):
    area = promised.areas.get()
    for url in [f"/areas/{area.slug}/", f"/incidents/{promised.pk}/", "/"]:
        page = client.get(url).text
        assert "Crew on the way" in page and "1,200" in page and "Next update" in page, url


def test_public_page_stops_showing_a_promise_that_passed(client, promised):
    with time_machine.travel(promised.next_update_at + timedelta(seconds=1), tick=False):
        page = client.get(f"/incidents/{promised.pk}/").text
    assert "Next update" not in page and "Crew on the way" in page


def test_overdue_is_detected_only_after_the_promise_passes(promised):
    at = promised.next_update_at
    assert not current.is_overdue(promised, at - timedelta(seconds=1))
    assert current.is_overdue(promised, at)
    assert list(current.overdue_incidents(at)) == [promised]
    services.post_update(promised, status="identified", message="New update")
    promised.refresh_from_db()
    assert not current.is_overdue(promised, at + timedelta(hours=1))


def test_resolved_incident_is_never_overdue(promised):
    services.resolve(promised, message="Fixed")
    promised.refresh_from_db()
    assert promised.next_update_at is None
    assert list(current.overdue_incidents(timezone.now() + timedelta(days=1))) == []


def test_admin_list_flags_overdue_incidents(admin_client, promised):
    other = factories.incident(title="On time")
    with time_machine.travel(promised.next_update_at + timedelta(minutes=1)):
        page = admin_client.get("/admin/outages/incident/").text
        assert "Overdue" in page
        filtered = admin_client.get("/admin/outages/incident/", {"promise": "overdue"}).text
    assert promised.title in filtered and "On time" not in filtered
    assert other.title in page


def test_lapsed_promise_pushes_the_pages_once(promised, django_capture_on_commit_callbacks):
    before = LiveChange.objects.count()
    later = promised.next_update_at + timedelta(seconds=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert jobs.tick(later)["announce_lapsed_promises"] == 1
        assert jobs.tick(later)["announce_lapsed_promises"] == 0
    assert LiveChange.objects.count() == before + 1
    fragment = LiveChange.objects.order_by("-id").first().fragments[f"incident-{promised.pk}"]["en"]
    assert "Next update" not in fragment


def test_incident_facts_for_the_api(promised):
    area = promised.areas.get()
    services.edit_incident(promised, area_customers={area.pk: 800})
    incident = current.with_card_data(type(promised).objects.filter(pk=promised.pk)).get()
    facts = current.incident_facts(incident, area=area)
    assert facts["crew_status"] == "en_route"
    assert facts["customers_affected"] == 800
    assert current.incident_facts(incident)["customers_affected"] == 1200
    assert facts["next_update_at"] == promised.next_update_at.isoformat()
    assert facts["cause"] is None
    assert current.incident_facts(incident, now=promised.next_update_at)["next_update_at"] is None
