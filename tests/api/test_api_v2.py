"""Statuspage v2-compatible JSON: field by field, as Statuspage documents them,
plus caching headers, CORS and JSON errors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.models import Impact, IncidentStatus, MaintenanceStatus
from tests import factories

pytestmark = pytest.mark.django_db

PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_FIELDS = {"indicator", "description"}
COMPONENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_FIELDS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
}
EXTRA_INCIDENT_FIELDS = {
    "x_kind",
    "x_eta",
    "x_cause",
    "x_cause_text",
    "x_services",
    "x_crew_status",
    "x_customers_affected",
    "x_next_update_at",
    "x_credits",
    "x_estimate",
    "x_eta_stage",
}


def ours(fields):
    """Our own additions carry the x_ prefix, which Statuspage never uses."""
    return {name for name in fields if not name.startswith("x_")}


def get(client, path, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def world():
    budapest = factories.region("Budapest", slug="budapest")
    district = factories.area("District 5", slug="district-5", region_obj=budapest, postcodes="1051")
    quiet = factories.area("District 6", slug="district-6", region_obj=budapest)
    fiber = factories.service("Fiber internet", slug="fiber")
    outage = factories.incident(
        district,
        title="Fiber down",
        impact=Impact.CRITICAL,
        services=[fiber],
        cause="cable_cut",
        cause_detail="Road works cut a cable",
    )
    soon = timezone.now() + timedelta(days=2)
    window = services.schedule_maintenance(
        title="Cabinet swap", areas=[quiet], scheduled_for=soon, scheduled_until=soon + timedelta(hours=3)
    )
    return {"district": district, "quiet": quiet, "region": budapest, "outage": outage, "window": window}


def test_summary_has_page_status_components_incidents_and_maintenances_with_statuspage_fields(client, world):
    data = get(client, "/api/v2/summary.json")
    assert set(data) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert set(data["page"]) == PAGE_FIELDS
    assert set(data["status"]) == STATUS_FIELDS
    assert data["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    for component in data["components"]:
        assert ours(component) - {"components"} == COMPONENT_FIELDS
    [incident] = data["incidents"]
    assert ours(incident) == INCIDENT_FIELDS
    assert set(incident) - ours(incident) == EXTRA_INCIDENT_FIELDS
    for update in incident["incident_updates"]:
        assert ours(update) == UPDATE_FIELDS
    [window] = data["scheduled_maintenances"]
    assert ours(window) == INCIDENT_FIELDS | {"scheduled_for", "scheduled_until"}


def test_areas_are_components_and_regions_are_component_groups(client, world):
    components = get(client, "/api/v2/components.json")["components"]
    by_id = {component["id"]: component for component in components}
    group = by_id[f"region-{world['region'].pk}"]
    district = by_id[f"area-{world['district'].pk}"]
    assert group["group"] is True and group["group_id"] is None
    assert group["components"] == [f"area-{world['district'].pk}", f"area-{world['quiet'].pk}"]
    assert group["status"] == "major_outage"
    assert district["group"] is False and district["group_id"] == group["id"]
    assert district["status"] == "major_outage" and district["name"] == "District 5"
    assert by_id[f"area-{world['quiet'].pk}"]["status"] == "operational"
    assert district["page_id"] == get(client, "/api/v2/status.json")["page"]["id"]


def test_incident_fields_carry_the_incident_and_its_updates_newest_first(client, world):
    outage = world["outage"]
    services.post_update(outage, status=IncidentStatus.MONITORING, message="Fixed, watching.")
    services.resolve(outage, message="All good.")
    [incident] = [i for i in get(client, "/api/v2/incidents.json")["incidents"] if i["id"] == str(outage.pk)]
    assert incident["name"] == "Fiber down"
    assert incident["status"] == "resolved"
    assert incident["impact"] == "critical"
    assert incident["shortlink"].endswith(f"/incidents/{outage.pk}/")
    assert incident["monitoring_at"] is not None and incident["resolved_at"] is not None
    assert incident["started_at"].endswith("Z")
    assert [update["status"] for update in incident["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    resolved, monitoring, first = incident["incident_updates"]
    assert resolved["body"] == "All good." and resolved["incident_id"] == str(outage.pk)
    code = f"area-{world['district'].pk}"
    assert first["affected_components"] == [
        {"code": code, "name": "District 5", "old_status": "operational", "new_status": "major_outage"}
    ]
    assert monitoring["affected_components"] is None
    assert resolved["affected_components"][0]["new_status"] == "operational"
    assert [component["id"] for component in incident["components"]] == [code]
    assert incident["x_cause"] == "cable_cut" and incident["x_cause_text"] == "Road works cut a cable"
    assert incident["x_services"] == ["Fiber internet"]


def test_extra_fields_eta_and_cause_are_prefixed_so_they_cannot_clash(client, world):
    [incident] = get(client, "/api/v2/incidents/unresolved.json")["incidents"]
    assert incident["x_eta"] == world["outage"].eta.astimezone(timezone.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert incident["incident_updates"][0]["x_eta"] == incident["x_eta"]


def test_incidents_lists_maintenance_too_but_unresolved_only_open_incidents(client, world):
    services.resolve(factories.incident(world["quiet"], title="Old blip"))
    listed = {i["name"] for i in get(client, "/api/v2/incidents.json")["incidents"]}
    assert listed == {"Fiber down", "Cabinet swap", "Old blip"}
    unresolved = {i["name"] for i in get(client, "/api/v2/incidents/unresolved.json")["incidents"]}
    assert unresolved == {"Fiber down"}


def test_scheduled_maintenance_endpoints_follow_the_window_status(client, world):
    window = world["window"]
    upcoming = get(client, "/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert [w["id"] for w in upcoming] == [str(window.pk)]
    assert upcoming[0]["status"] == "scheduled"
    assert upcoming[0]["scheduled_for"] == window.scheduled_for.astimezone(timezone.UTC).isoformat(
        timespec="milliseconds"
    ).replace("+00:00", "Z")
    assert get(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    services.post_update(window, status=MaintenanceStatus.IN_PROGRESS, message="Started early.")
    active = get(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [w["status"] for w in active] == ["in_progress"]
    assert get(client, "/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == []
    services.resolve(window)
    everything = get(client, "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    assert [w["status"] for w in everything] == ["completed"]


@pytest.mark.parametrize(
    ("impact", "indicator", "description"),
    [
        (None, "none", "All Systems Operational"),
        (Impact.MINOR, "minor", "Minor Service Outage"),
        (Impact.MAJOR, "major", "Partial System Outage"),
        (Impact.CRITICAL, "critical", "Major Service Outage"),
    ],
)
def test_status_indicator_is_none_minor_major_or_critical(client, impact, indicator, description):
    area = factories.area()
    if impact:
        factories.incident(area, impact=impact)
    data = get(client, "/api/v2/status.json")
    assert set(data) == {"page", "status"}
    assert data["status"] == {"indicator": indicator, "description": description}


def test_summary_takes_the_same_number_of_queries_for_one_incident_or_many(client, world):
    def count():
        with CaptureQueriesContext(connection) as queries:
            get(client, "/api/v2/summary.json")
        return len(queries)

    few = count()
    for n in range(5):
        factories.incident(factories.area(), title=f"Outage {n}")
    assert count() == few


def test_conditional_get_answers_304_and_a_change_gives_a_new_etag(client, world):
    response = client.get("/api/v2/summary.json")
    assert response["Cache-Control"].startswith("public, max-age=5")
    assert "stale-while-revalidate=" in response["Cache-Control"] and "stale-if-error=" in response["Cache-Control"]
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get("/api/v2/summary.json", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/api/v2/summary.json", headers={"if-modified-since": modified}).status_code == 304
    services.post_update(world["outage"], status=IncidentStatus.IDENTIFIED, message="Found it.")
    changed = client.get("/api/v2/summary.json", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_json_is_open_to_other_origins_for_get(client, world):
    response = client.get("/api/v2/status.json", headers={"origin": "https://example.org"})
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v2/status.json", headers={"origin": "https://example.org"})
    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]


def test_unknown_parameters_and_other_methods_get_a_json_4xx(client, world):
    bad = client.get("/api/v2/summary.json?page=2")
    assert bad.status_code == 400 and bad.json()["error"]["parameters"] == ["page"]
    post = client.post("/api/v2/summary.json")
    assert post.status_code == 405 and post.json()["error"]["status"] == 405
    missing = client.get("/api/v2/nothing.json")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


def test_operator_text_is_returned_as_data(client):
    factories.incident(factories.area(), title="<script>alert(1)</script>", message="a & b <b>")
    [incident] = get(client, "/api/v2/incidents.json")["incidents"]
    assert incident["name"] == "<script>alert(1)</script>"
    assert incident["incident_updates"][0]["body"] == "a & b <b>"
