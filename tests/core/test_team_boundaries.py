"""The team boundary on every path, not only the incident admin: the management
API and the Alertmanager receiver act as the token's user on that user's
areas only; "open incident from these reports" asks the permission and the
team; the report thresholds and the API tokens ask the user's permissions."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from outages import permissions
from outages.models import AlertmanagerAlert, ApiToken, Incident, ReportSettings, Team, TeamRegion
from outages.services import api_tokens
from outages.services import problem_reports as reports
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_user_model):
    north, south = factories.region("North"), factories.region("South")
    north_area = factories.area("Northtown", region_obj=north, slug="northtown")
    south_area = factories.area("Southtown", region_obj=south, slug="southtown")
    north_team, south_team = Team.objects.create(name="North ops"), Team.objects.create(name="South ops")
    TeamRegion.objects.create(team=north_team, region=north)
    TeamRegion.objects.create(team=south_team, region=south)
    group = permissions.operator_group()
    north_op = django_user_model.objects.create_user("north-op", password="pw", is_staff=True)
    south_op = django_user_model.objects.create_user("south-op", password="pw", is_staff=True)
    for user, team in ((north_op, north_team), (south_op, south_team)):
        user.groups.add(group)
        team.members.add(user)
    return {
        "north": north_area,
        "south": south_area,
        "north_op": north_op,
        "south_op": south_op,
        "north_incident": factories.incident(north_area, title="North outage"),
        "south_incident": factories.incident(south_area, title="South outage"),
        "north_token": api_tokens.create_token(user=north_op, name="north monitoring")[1],
        "south_token": api_tokens.create_token(user=south_op, name="south monitoring")[1],
    }


def post(client, path, body, token):
    return client.post(path, body, content_type="application/json", headers={"authorization": f"Bearer {token}"})


# Management API --------------------------------------------------------------


def test_a_token_opens_incidents_only_on_its_teams_areas(client, world):
    refused = post(client, "/api/manage/incidents/", {"title": "Cut", "areas": ["southtown"]}, world["north_token"])
    assert refused.status_code == 403 and "southtown" in refused.json()["error"]["message"]
    mixed = post(
        client, "/api/manage/incidents/", {"title": "Cut", "areas": ["northtown", "southtown"]}, world["north_token"]
    )
    assert mixed.status_code == 403
    assert not Incident.objects.filter(title="Cut").exists()
    assert (
        post(
            client, "/api/manage/incidents/", {"title": "Cut", "areas": ["northtown"]}, world["north_token"]
        ).status_code
        == 201
    )


def test_a_token_cannot_update_or_resolve_another_teams_incident(client, world):
    south = world["south_incident"]
    for status in ("identified", "resolved"):
        response = post(
            client,
            f"/api/manage/incidents/{south.pk}/updates/",
            {"status": status, "message": "x"},
            world["north_token"],
        )
        assert response.status_code == 404
    south.refresh_from_db()
    assert south.is_active and south.updates.count() == 1
    own = post(
        client,
        f"/api/manage/incidents/{world['north_incident'].pk}/updates/",
        {"status": "resolved"},
        world["north_token"],
    )
    assert own.status_code == 201


# Alertmanager ---------------------------------------------------------------


def alert(status, fingerprint, area, starts="2026-01-01T10:00:00Z"):
    return {
        "status": status,
        "fingerprint": fingerprint,
        "labels": {"area": area, "alertname": "FiberDown"},
        "annotations": {},
        "startsAt": starts,
    }


def webhook(client, token, *alerts):
    body = {"version": "4", "status": alerts[0]["status"], "alerts": list(alerts)}
    response = post(client, "/api/manage/alertmanager/", body, token)
    assert response.status_code == 200
    return response.json()


def test_an_alert_on_another_teams_area_opens_nothing(client, world):
    result = webhook(client, world["north_token"], alert("firing", "f1", "southtown"))
    assert result["opened"] == [] and "southtown" in result["ignored"][0]["reason"]
    assert not AlertmanagerAlert.objects.exists()


def test_another_teams_fingerprint_never_reaches_this_teams_incident(client, world):
    [south_pk] = webhook(client, world["south_token"], alert("firing", "shared", "southtown"))["opened"]
    # The north team's Alertmanager resolves an alert with the same fingerprint: not the south incident.
    resolved = webhook(client, world["north_token"], alert("resolved", "shared", "southtown"))
    assert resolved["resolved"] == [] and Incident.objects.get(pk=south_pk).is_active
    # Its own firing alert with that fingerprint opens its own incident.
    [north_pk] = webhook(client, world["north_token"], alert("firing", "shared", "northtown"))["opened"]
    assert north_pk != south_pk
    assert webhook(client, world["south_token"], alert("resolved", "shared", "southtown"))["resolved"] == [south_pk]
    assert Incident.objects.get(pk=north_pk).is_active


def test_a_link_from_before_scopes_is_adopted_only_by_a_team_that_manages_its_incident(client, world):
    south = world["south_incident"]
    AlertmanagerAlert.objects.create(fingerprint="old", incident=south, starts_at=timezone.now())
    assert webhook(client, world["north_token"], alert("resolved", "old", "southtown"))["resolved"] == []
    assert webhook(client, world["south_token"], alert("resolved", "old", "southtown"))["resolved"] == [south.pk]


# Reports ----------------------------------------------------------------------


def _hot(area, count=3):
    settings_row = ReportSettings.load()
    settings_row.hot_min_sources = 2
    settings_row.save()
    fiber = factories.service()
    now = timezone.now()
    for n in range(count):
        reports.submit(
            area=area,
            service=fiber,
            problem="no_service",
            source=reports.Source(client=f"c-{area.pk}-{n}", browser=f"b-{area.pk}-{n}"),
            now=now,
        )


def test_open_incident_from_reports_needs_the_permission_and_the_team(client, world):
    # Areas without an incident: reports there are pending, not taken up.
    north = factories.area("Northvale", region_obj=world["north"].region)
    south = factories.area("Southvale", region_obj=world["south"].region)
    _hot(south)
    _hot(north)
    north_op = world["north_op"]
    client.force_login(north_op)
    # The operator group has no view_problemreport: refused, for any area.
    assert client.post(f"/admin/outages/problemreport/hot/{north.pk}/open/").status_code == 403
    north_op.user_permissions.add(Permission.objects.get(codename="view_problemreport"))
    page = client.get("/admin/outages/problemreport/hot/")
    assert "Northvale" in page.text and "Southvale" not in page.text
    assert client.post(f"/admin/outages/problemreport/hot/{south.pk}/open/").status_code == 403
    assert not south.incidents.exists()
    opened = client.post(f"/admin/outages/problemreport/hot/{north.pk}/open/")
    assert opened.status_code == 302 and north.incidents.count() == 1
    listing = client.get("/admin/outages/problemreport/")
    assert "Northvale" in listing.text and "Southvale" not in listing.text


def test_report_thresholds_are_added_only_with_the_permission(client, world):
    client.force_login(world["north_op"])
    assert client.get("/admin/outages/reportsettings/add/").status_code == 403
    response = client.post("/admin/outages/reportsettings/add/", {"notice_min_sources": 999, "hot_min_sources": 999})
    assert response.status_code == 403 and not ReportSettings.objects.exists()


# API tokens -------------------------------------------------------------------


def test_the_token_admin_shows_and_revokes_only_the_users_own_tokens(client, world):
    north_op = world["north_op"]
    north_op.user_permissions.add(*Permission.objects.filter(codename__in=["view_apitoken", "change_apitoken"]))
    client.force_login(north_op)
    listing = client.get("/admin/outages/apitoken/")
    assert "north monitoring" in listing.text and "south monitoring" not in listing.text
    south_token = ApiToken.objects.get(user=world["south_op"])
    assert client.get(f"/admin/outages/apitoken/{south_token.pk}/change/").status_code == 302
    client.post("/admin/outages/apitoken/", {"action": "revoke_selected", "_selected_action": [south_token.pk]})
    south_token.refresh_from_db()
    assert south_token.revoked_at is None
