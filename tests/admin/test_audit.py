"""Audit: who changed what and when; nothing an operator did is silently overwritten."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from outages import services
from outages.models import AuditEntry, IncidentStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("anna", "anna@example.com", "pw")


def test_every_write_leaves_an_entry_with_who_and_what(operator):
    district = factories.area("District 5")
    incident = factories.incident(district, author=operator)
    services.edit_incident(incident, title="Cable cut in District 5", customers_affected=300, author=operator)
    services.post_update(incident, status="identified", message="Found it", crew_status="on_site", author=operator)
    entries = list(AuditEntry.objects.filter(incident=incident).order_by("id"))
    assert [entry.action for entry in entries] == ["opened", "edited", "update_posted"]
    assert all(entry.user == operator for entry in entries)
    assert entries[1].changes["title"] == ["Fiber outage", "Cable cut in District 5"]
    assert entries[1].changes["customers_affected"] == [None, "300"]
    assert entries[2].changes["status"] == ["investigating", "identified"]
    assert entries[2].changes["crew_status"] == ["not_assigned", "on_site"]
    assert entries[2].update == incident.updates.first()


def test_saving_without_a_change_logs_nothing(operator):
    incident = factories.incident()
    services.edit_incident(incident, title=incident.title, author=operator)
    assert AuditEntry.objects.filter(incident=incident, action="edited").count() == 0


def test_a_rolled_back_write_leaves_no_entry():
    incident = factories.incident()
    with pytest.raises(ValidationError):
        services.post_update(incident, status="identified", eta=timezone.now() - timedelta(hours=1))
    assert AuditEntry.objects.filter(incident=incident).count() == 1


def test_a_stale_version_is_refused_by_the_service():
    incident = factories.incident()
    seen = incident.version
    services.post_update(incident, status="identified", message="Someone else")
    with pytest.raises(ValidationError) as error:
        services.edit_incident(incident, title="Mine", expected_version=seen)
    assert error.value.code == "stale"
    incident.refresh_from_db()
    assert incident.title == "Fiber outage"


def test_admin_refuses_a_form_opened_before_someone_elses_update(admin_client):
    district = factories.area()
    incident = factories.incident(district)
    seen = incident.version
    # Another operator posts "identified" while this form is open.
    services.post_update(incident, status="identified", message="Colleague's update")
    response = admin_client.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "cause": "",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": "investigating",
            "update_message": "My text",
            "update_eta": "",
            "update_crew_status": "not_assigned",
            "seen_version": seen,
        },
    )
    assert response.status_code == 200 and "Someone else changed this incident" in response.text
    assert "My text" in response.text  # the operator's text is kept to re-post
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED
    assert incident.updates.first().message == "Colleague's update"


def test_audit_log_is_viewable_on_the_incident_page_and_read_only(admin_client, operator):
    incident = factories.incident(author=operator)
    services.edit_incident(incident, title="<b>Renamed</b>", author=operator)
    page = admin_client.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert "Audit log" in page and "&lt;b&gt;Renamed&lt;/b&gt;" in page and "<b>Renamed</b>" not in page
    listing = admin_client.get("/admin/outages/auditentry/", {"incident__id__exact": incident.pk})
    assert listing.status_code == 200 and "anna" in listing.text
    entry = AuditEntry.objects.filter(incident=incident).first()
    response = admin_client.post(f"/admin/outages/auditentry/{entry.pk}/change/", {"action": "edited"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/outages/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
