"""Regional teams: an operator works only on incidents touching their team's
regions, in every view, form and action, whatever they POST."""

import pytest

from outages import permissions
from outages.models import AuditEntry, Incident, IncidentStatus, Team, TeamRegion, UpdateTemplate
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_user_model):
    north, south = factories.region("North"), factories.region("South")
    north_area = factories.area("Northtown", region_obj=north)
    south_area = factories.area("Southtown", region_obj=south)
    north_team = Team.objects.create(
        name="North ops", public_name="North Network Team", support_contact="+36 1 555 0101"
    )
    TeamRegion.objects.create(team=north_team, region=north)
    south_team = Team.objects.create(name="South ops", public_name="South Team")
    TeamRegion.objects.create(team=south_team, region=south)
    group = permissions.operator_group()
    operator = django_user_model.objects.create_user("north-op", password="pw", is_staff=True)
    operator.groups.add(group)
    north_team.members.add(operator)
    return {
        "north": north_area,
        "south": south_area,
        "operator": operator,
        "north_incident": factories.incident(north_area, title="North outage"),
        "south_incident": factories.incident(south_area, title="South outage"),
        "group": group,
    }


@pytest.fixture
def operator_client(client, world):
    client.force_login(world["operator"])
    return client


def _change_data(incident, area_ids, **extra):
    incident.refresh_from_db()
    return {
        "title": incident.title,
        "impact": incident.impact,
        "cause": "",
        "cause_detail": "",
        "areas": area_ids,
        "update_status": incident.status,
        "update_message": "",
        "update_eta": "",
        "update_crew_status": incident.crew_status,
        "seen_version": incident.version,
        **extra,
    }


def test_operator_lists_only_incidents_touching_their_regions(operator_client):
    page = operator_client.get("/admin/outages/incident/")
    assert page.status_code == 200
    assert "North outage" in page.text and "South outage" not in page.text


def test_operator_cannot_open_another_regions_incident(operator_client, world):
    response = operator_client.get(f"/admin/outages/incident/{world['south_incident'].pk}/change/")
    assert response.status_code == 302 and "/admin/" in response["Location"]


def test_crafted_post_to_another_regions_incident_changes_nothing(operator_client, world):
    south = world["south_incident"]
    data = _change_data(
        south, [world["south"].pk], title="Hijacked", update_status="resolved", update_message="closed by north"
    )
    response = operator_client.post(f"/admin/outages/incident/{south.pk}/change/", data)
    assert response.status_code in (302, 403, 404)
    south.refresh_from_db()
    assert south.title == "South outage" and south.status == IncidentStatus.INVESTIGATING
    assert south.updates.count() == 1


def test_crafted_bulk_resolve_skips_another_regions_incident(operator_client, world):
    ids = [world["north_incident"].pk, world["south_incident"].pk]
    response = operator_client.post(
        "/admin/outages/incident/",
        {"action": "resolve_selected", "_selected_action": ids, "apply": "1", "message": "All clear"},
    )
    assert response.status_code == 302
    statuses = dict(Incident.objects.values_list("title", "status"))
    assert statuses == {"North outage": IncidentStatus.RESOLVED, "South outage": IncidentStatus.INVESTIGATING}
    assert world["north_incident"].updates.first().message == "All clear"


def test_crafted_bulk_add_areas_cannot_touch_another_region(operator_client, world):
    # Adding a South area to the North incident: not a valid choice for this operator.
    response = operator_client.post(
        "/admin/outages/incident/",
        {
            "action": "add_areas",
            "_selected_action": [world["north_incident"].pk],
            "apply": "1",
            "areas": [world["south"].pk],
        },
    )
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert list(world["north_incident"].areas.all()) == [world["north"]]
    # Nor can North areas be added to the South incident: it is not in the queryset.
    operator_client.post(
        "/admin/outages/incident/",
        {
            "action": "add_areas",
            "_selected_action": [world["south_incident"].pk],
            "apply": "1",
            "areas": [world["north"].pk],
        },
    )
    assert list(world["south_incident"].areas.all()) == [world["south"]]


def test_operator_adds_areas_of_their_region_in_bulk(operator_client, world):
    extra = factories.area("Northvillage", region_obj=world["north"].region)
    response = operator_client.post(
        "/admin/outages/incident/",
        {"action": "add_areas", "_selected_action": [world["north_incident"].pk], "apply": "1", "areas": [extra.pk]},
    )
    assert response.status_code == 302
    assert set(world["north_incident"].areas.all()) == {world["north"], extra}
    assert AuditEntry.objects.filter(
        incident=world["north_incident"], action="areas_added", user=world["operator"]
    ).exists()


def test_operator_cannot_open_an_incident_in_another_region(operator_client, world):
    response = operator_client.post(
        "/admin/outages/incident/add/",
        {
            "title": "Sneaky",
            "impact": "major",
            "cause": "",
            "cause_detail": "",
            "areas": [world["south"].pk],
            "update_status": "investigating",
            "update_message": "",
            "update_eta": "",
            "update_crew_status": "not_assigned",
        },
    )
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not Incident.objects.filter(title="Sneaky").exists()


def test_area_choices_offer_only_the_operators_regions(operator_client, world):
    page = operator_client.get("/admin/outages/incident/add/")
    assert "Northtown" in page.text and "Southtown" not in page.text


def test_editing_a_shared_incident_keeps_the_other_regions_areas(operator_client, world):
    shared = factories.incident(world["north"], world["south"], title="Shared outage")
    data = _change_data(shared, [world["north"].pk], title="Shared outage, renamed")
    response = operator_client.post(f"/admin/outages/incident/{shared.pk}/change/", data)
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.title == "Shared outage, renamed"
    assert set(shared.areas.all()) == {world["north"], world["south"]}


def test_crafted_template_post_on_another_regions_incident_is_not_found(operator_client, world):
    template = UpdateTemplate.objects.create(name="Crew", message="Crew in {area}", crew_status="en_route")
    south = world["south_incident"]
    response = operator_client.post(
        f"/admin/outages/incident/{south.pk}/post-template/{template.pk}/", {"seen_version": south.version}
    )
    assert response.status_code == 404
    assert south.updates.count() == 1


def test_operator_sees_only_their_regions_audit_entries(operator_client):
    page = operator_client.get("/admin/outages/auditentry/")
    assert page.status_code == 200
    assert "North outage" in page.text and "South outage" not in page.text


def test_superuser_sees_every_incident(client, world, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    page = client.get("/admin/outages/incident/")
    assert "North outage" in page.text and "South outage" in page.text


def test_staff_in_no_team_sees_no_incident(client, world, django_user_model):
    loner = django_user_model.objects.create_user("loner", password="pw", is_staff=True)
    loner.groups.add(world["group"])
    client.force_login(loner)
    page = client.get("/admin/outages/incident/")
    assert page.status_code == 200
    assert "North outage" not in page.text and "South outage" not in page.text
    assert client.get(f"/admin/outages/incident/{world['north_incident'].pk}/change/").status_code == 302


def test_a_team_owns_its_sub_regions(world, django_user_model):
    sub = factories.region("North suburbs", parent=world["north"].region)
    suburb = factories.area("Suburbia", region_obj=sub)
    incident = factories.incident(suburb, title="Suburb outage")
    assert permissions.can_manage(world["operator"], incident)
    assert not permissions.can_manage(world["operator"], world["south_incident"])


def test_area_page_shows_its_teams_public_name_and_support_contact(client, world):
    page = client.get(f"/areas/{world['north'].slug}/").text
    assert "North Network Team" in page and "+36 1 555 0101" in page
    assert "South Team" not in page
