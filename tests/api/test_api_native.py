"""Native JSON: areas, one area with its incidents and ETA, postcode lookup."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages.models import Impact
from tests import factories

pytestmark = pytest.mark.django_db


def test_areas_lists_every_area_with_its_status(client):
    broken = factories.area("District 5", slug="district-5")
    factories.area("District 6", slug="district-6")
    factories.incident(broken, impact=Impact.MINOR)
    data = client.get("/api/areas/").json()
    assert data["status"] == "degraded_performance"
    statuses = {area["slug"]: area["status"] for area in data["areas"]}
    assert statuses == {"district-5": "degraded_performance", "district-6": "operational"}
    [first] = [area for area in data["areas"] if area["slug"] == "district-5"]
    assert first["url"].endswith("/areas/district-5/") and first["api_url"].endswith("/api/areas/district-5/")


def test_one_area_shows_status_active_incidents_and_the_latest_eta(client):
    area = factories.area("District 5", slug="district-5", postcodes="1051, 1052")
    early = factories.incident(area, title="Fiber down", eta_in=timedelta(hours=1), cause="cable_cut")
    late = factories.incident(area, title="TV down", eta_in=timedelta(hours=3))
    data = client.get("/api/areas/district-5/").json()
    assert data["status"] == "partial_outage"
    assert data["postcodes"] == ["1051", "1052"]
    assert {incident["title"] for incident in data["active_incidents"]} == {"Fiber down", "TV down"}
    assert data["eta"] == late.eta.astimezone(timezone.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert data["next_update_at"] is None
    [fiber] = [incident for incident in data["active_incidents"] if incident["id"] == early.pk]
    assert fiber["cause"] == "cable_cut" and fiber["latest_message"] == "We are looking into it."


def test_unknown_area_is_a_json_404(client):
    response = client.get("/api/areas/nowhere/")
    assert response.status_code == 404
    assert response.json()["error"]["message"]


def test_lookup_finds_the_areas_that_cover_a_postcode(client):
    factories.area("District 5", slug="district-5", postcodes="1051,1052")
    factories.area("District 6", slug="district-6", postcodes="1061")
    data = client.get("/api/lookup/?postcode=1051").json()
    assert data["postcode"] == "1051"
    assert [area["slug"] for area in data["areas"]] == ["district-5"]
    assert client.get("/api/lookup/?postcode=9999").json()["areas"] == []


@pytest.mark.parametrize("query", ["", "?postcode=", "?postcode=%21%21", "?postcode=1051&x=1", "?postcode=" + "1" * 40])
def test_lookup_refuses_bad_input_with_a_json_400(client, query):
    response = client.get("/api/lookup/" + query)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


def test_openapi_document_describes_every_json_endpoint(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    for path in [
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
        "/api/areas/",
        "/api/areas/{slug}/",
        "/api/lookup/",
        "/api/manage/incidents/",
        "/api/manage/incidents/{id}/updates/",
        "/api/manage/alertmanager/",
    ]:
        assert path in document["paths"], path


def test_a_path_without_its_slash_is_redirected_like_the_rest_of_the_site(client):
    response = client.get("/api/areas")
    assert response.status_code == 301 and response["Location"] == "/api/areas/"


def test_area_api_carries_crew_status_customers_affected_and_the_standing_promise(client):
    from datetime import timedelta

    from django.utils import timezone

    from outages import services
    from outages.models import CrewStatus, IncidentStatus
    from tests import factories as f

    district = f.area("District 5", slug="district-5")
    incident = f.incident(district, title="Cable cut", cause="cable_cut")
    services.edit_incident(incident, customers_affected=1200)
    promise = timezone.now() + timedelta(minutes=45)
    services.post_update(
        incident,
        status=IncidentStatus.IDENTIFIED,
        message="Crew on site",
        crew_status=CrewStatus.ON_SITE,
        next_update_at=promise,
    )
    data = client.get("/api/areas/district-5/").json()
    assert (data["cause"], data["crew_status"], data["customers_affected"]) == ("cable_cut", "on_site", 1200)
    assert data["next_update_at"] is not None
    [item] = data["active_incidents"]
    assert item["crew_status"] == "on_site" and item["customers_affected"] == 1200
    v2 = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    assert v2["x_crew_status"] == "on_site" and v2["x_customers_affected"] == 1200 and v2["x_next_update_at"]
