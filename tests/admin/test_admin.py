"""The ops console: open an incident and post an update in a few clicks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages.models import Incident, IncidentStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def _errors(response):
    context = response.context or {}
    form = context.get("adminform").form if context.get("adminform") else None
    return form.errors if form else response.status_code


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_admin_requires_staff_login(client):
    response = client.get("/admin/outages/incident/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_operator_opens_an_incident_from_the_admin(ops):
    district = factories.area("District 5")
    eta = timezone.now() + timedelta(hours=3)
    response = ops.post(
        "/admin/outages/incident/add/",
        {
            "title": "Cable cut",
            "impact": "critical",
            "cause": "cable_cut",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": "investigating",
            "update_message": "Crew on the way",
            "update_eta": _local(eta),
        },
    )
    assert response.status_code == 302, _errors(response)
    incident = Incident.objects.get()
    assert incident.title == "Cable cut" and list(incident.areas.all()) == [district]
    assert incident.updates.get().message == "Crew on the way"
    assert incident.updates.get().author.username == "ops"


def test_operator_posts_an_update_with_a_new_eta_and_it_shows_publicly(ops, client):
    district = factories.area("District 5")
    incident = factories.incident(district)
    new_eta = timezone.now() + timedelta(hours=6)
    page = ops.get(f"/admin/outages/incident/{incident.pk}/change/")
    assert page.status_code == 200 and "Post an update" in page.text
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "cause": "",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": "identified",
            "update_message": "Crew on site, new estimate",
            "update_eta": _local(new_eta),
            "seen_version": incident.version,
        },
    )
    assert response.status_code == 302, _errors(response)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED
    assert _local(incident.eta) == _local(new_eta)
    area_page = client.get(f"/areas/{district.slug}/").text
    assert "Crew on site, new estimate" in area_page
    assert timezone.localtime(new_eta, district.tzinfo).strftime("%H:%M") in area_page
    assert "ETA moved from" in client.get(f"/incidents/{incident.pk}/").text


def test_saving_facts_only_posts_no_update(ops):
    district = factories.area()
    incident = factories.incident(district)
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": "Renamed",
            "impact": incident.impact,
            "cause": "",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": incident.status,
            "update_message": "",
            "update_eta": _local(incident.eta),
            "seen_version": incident.version,
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed" and incident.updates.count() == 1


def test_past_eta_in_admin_shows_a_form_error_and_saves_nothing(ops):
    district = factories.area()
    incident = factories.incident(district)
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "areas": [district.pk],
            "update_status": "identified",
            "update_message": "Typo in the time",
            "update_eta": _local(timezone.now() - timedelta(hours=1)),
            "seen_version": incident.version,
        },
    )
    assert response.status_code == 200
    assert "must be in the future" in response.text
    assert "Typo in the time" in response.text  # the operator's text is kept
    assert incident.updates.count() == 1


def test_resolved_incident_needs_explicit_reopen_in_admin(ops):
    district = factories.area()
    incident = factories.incident(district)
    from outages import services

    services.resolve(incident)
    data = {
        "title": incident.title,
        "impact": incident.impact,
        "areas": [district.pk],
        "update_status": "investigating",
        "update_message": "It is back",
        "update_eta": "",
    }
    incident.refresh_from_db()
    data["seen_version"] = incident.version
    response = ops.post(f"/admin/outages/incident/{incident.pk}/change/", data)
    assert response.status_code == 200 and "Reopen it explicitly" in response.text
    response = ops.post(f"/admin/outages/incident/{incident.pk}/change/", {**data, "reopen": "on"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING


def test_bulk_resolve_action(ops):
    incidents = [factories.incident(), factories.incident()]
    response = ops.post(
        "/admin/outages/incident/",
        {"action": "resolve_selected", "_selected_action": [i.pk for i in incidents], "index": "0"},
    )
    assert response.status_code == 200 and "Closing message" in response.text  # the confirmation page
    assert set(Incident.objects.values_list("status", flat=True)) == {IncidentStatus.INVESTIGATING}
    response = ops.post(
        "/admin/outages/incident/",
        {
            "action": "resolve_selected",
            "_selected_action": [i.pk for i in incidents],
            "apply": "1",
            "message": "All fixed.",
        },
    )
    assert response.status_code == 302
    assert set(Incident.objects.values_list("status", flat=True)) == {IncidentStatus.RESOLVED}


def test_area_admin_finds_areas_by_postcode(ops):
    factories.area("District 5", postcodes="1051,1052")
    factories.area("Szentendre", postcodes="2000")
    response = ops.get("/admin/outages/servicearea/", {"q": "1051"})
    assert "District 5" in response.text and "Szentendre" not in response.text


def test_operator_gives_customers_affected_per_area_and_the_area_api_shows_it(ops, client):
    first, second = factories.area("District 5", slug="district-5"), factories.area("District 6", slug="district-6")
    incident = factories.incident(first, second)
    from outages import services as outage_services

    outage_services.edit_incident(incident, customers_affected=3000)
    incident.refresh_from_db()
    form = {
        "title": incident.title,
        "impact": incident.impact,
        "cause": "",
        "cause_detail": "",
        "customers_affected": "3000",
        "areas": [first.pk, second.pk],
        "update_status": incident.status,
        "update_message": "",
        "update_eta": _local(incident.eta),
        "seen_version": incident.version,
    }
    bad = ops.post(f"/admin/outages/incident/{incident.pk}/change/", {**form, "area_customers": "Atlantis: 5"})
    assert bad.status_code == 200 and "is not one of the affected areas" in bad.text
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/", {**form, "area_customers": "District 5: 1,200"}
    )
    assert response.status_code == 302, _errors(response)
    assert client.get("/api/areas/district-5/").json()["customers_affected"] == 1200
    assert client.get("/api/areas/district-6/").json()["customers_affected"] == 3000  # the incident's own
    page = ops.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert "District 5: 1200" in page
