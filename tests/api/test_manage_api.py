"""The management API: tokens (created in the admin, shown once, stored hashed,
revocable, limited to their user's permissions), incidents opened and updated
through the services, and the Alertmanager receiver."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from outages.models import AlertmanagerAlert, ApiToken, Incident, IncidentStatus, Region, Team, TeamRegion
from outages.services import api_tokens
from tests import factories

pytestmark = pytest.mark.django_db


def user_with(*codenames, username="robot"):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "x")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="outages", codename__in=codenames))
    return user


@pytest.fixture
def token():
    return api_tokens.create_token(user=user_with("add_incident", "change_incident"), name="monitoring")[1]


def work_everywhere():
    """The token users here are in a team of every region (team boundaries: test_team_boundaries.py)."""
    team, _ = Team.objects.get_or_create(name="Everywhere")
    for region in Region.objects.exclude(teams=team):
        TeamRegion.objects.create(team=team, region=region)
    team.members.add(*get_user_model().objects.filter(api_tokens__isnull=False).distinct())


def post(client, path, body, token=None, **headers):
    work_everywhere()
    if token:
        headers["authorization"] = f"Bearer {token}"
    return client.post(path, body, content_type="application/json", headers=headers)


def test_token_is_shown_once_in_the_admin_and_stored_only_hashed(admin_client):
    owner = get_user_model().objects.get(username="admin")
    response = admin_client.post("/admin/outages/apitoken/add/", {"name": "Alertmanager", "user": owner.pk})
    assert response.status_code == 200
    raw = re.search(r"sp_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert raw not in (token.digest, token.prefix) and token.digest == api_tokens.digest(raw)
    assert raw.startswith(f"sp_{token.prefix}_")
    change_page = admin_client.get(f"/admin/outages/apitoken/{token.pk}/change/").content.decode()
    assert raw not in change_page and f"sp_{token.prefix}_" in change_page


def test_a_revoked_token_is_refused(client, token):
    area = factories.area(slug="district-5")
    body = {"title": "Fiber down", "areas": [area.slug]}
    assert post(client, "/api/manage/incidents/", body, token).status_code == 201
    api_tokens.revoke(ApiToken.objects.get())
    refused = post(client, "/api/manage/incidents/", body, token)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")


def test_admin_action_revokes_tokens(admin_client, token):
    stored = ApiToken.objects.get()
    admin_client.post("/admin/outages/apitoken/", {"action": "revoke_selected", "_selected_action": [stored.pk]})
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert api_tokens.authenticate(f"Bearer {token}") is None


def test_a_session_cookie_is_not_enough(admin_client):
    area = factories.area(slug="district-5")
    response = post(admin_client, "/api/manage/incidents/", {"title": "Fiber down", "areas": [area.slug]})
    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_a_token_can_do_only_what_its_user_may(client):
    area = factories.area(slug="district-5")
    raw = api_tokens.create_token(user=user_with("change_incident"), name="updates only")[1]
    response = post(client, "/api/manage/incidents/", {"title": "Fiber down", "areas": [area.slug]}, raw)
    assert response.status_code == 403
    incident = factories.incident(area)
    ok = post(client, f"/api/manage/incidents/{incident.pk}/updates/", {"status": "identified"}, raw)
    assert ok.status_code == 201


def test_opening_an_incident_goes_through_the_services_with_the_token_user_as_author(client, token):
    area = factories.area(slug="district-5")
    fiber = factories.service("Fiber internet", slug="fiber")
    eta = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    response = post(
        client,
        "/api/manage/incidents/",
        {
            "title": "Fiber down",
            "areas": ["district-5"],
            "services": ["fiber"],
            "impact": "critical",
            "message": "Crew sent.",
            "eta": eta.isoformat(),
            "cause": "cable_cut",
        },
        token,
    )
    assert response.status_code == 201, response.content
    data = response.json()
    incident = Incident.objects.get(pk=data["id"])
    assert (incident.title, incident.impact, incident.eta, incident.cause) == (
        "Fiber down",
        "critical",
        eta,
        "cable_cut",
    )
    assert list(incident.services.all()) == [fiber] and list(incident.areas.all()) == [area]
    update = incident.updates.get()
    assert update.author.username == "robot" and update.message == "Crew sent."
    assert data["areas"] == ["district-5"] and data["area_status"] == "major_outage"
    assert ApiToken.objects.get().last_used_at is not None


def test_updates_move_the_eta_and_posting_resolved_resolves(client, token):
    incident = factories.incident(factories.area())
    url = f"/api/manage/incidents/{incident.pk}/updates/"
    later = (timezone.now() + timedelta(hours=5)).replace(microsecond=0)
    moved = post(client, url, {"status": "identified", "message": "Found it.", "eta": later.isoformat()}, token)
    assert moved.status_code == 201 and moved.json()["incident"]["eta"] is not None
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED and incident.eta == later
    kept = post(client, url, {"status": "monitoring"}, token).json()
    assert kept["eta"] is not None
    resolved = post(client, url, {"status": "resolved", "message": "Fixed."}, token)
    assert resolved.status_code == 201
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_at is not None
    again = post(client, url, {"status": "identified"}, token)
    assert again.status_code == 400 and "Reopen" in again.json()["error"]["message"]
    assert post(client, url, {"status": "identified", "reopen": True}, token).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Down", "areas": ["nowhere"]}, "areas"),
        ({"title": "   ", "areas": ["district-5"]}, "title"),
        ({"title": "Down", "areas": ["district-5"], "eta": "2020-01-01T10:00:00Z"}, "eta"),
        ({"title": "Down", "areas": ["district-5"], "eta": "tomorrow"}, "eta"),
        ({"title": "Down", "areas": ["district-5"], "impact": "apocalyptic"}, "impact"),
        ({"title": "Down\x00", "areas": ["district-5"]}, "title"),
        ({"title": "Down", "areas": ["district-5"], "colour": "red"}, "colour"),
        ({"title": 5, "areas": ["district-5"]}, "title"),
    ],
)
def test_bad_input_is_a_json_400_naming_the_field_and_changes_nothing(client, token, body, field):
    factories.area(slug="district-5")
    response = post(client, "/api/manage/incidents/", body, token)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Incident.objects.exists()


def test_a_body_that_is_not_json_or_an_unknown_incident_gets_a_json_error(client, token):
    assert (
        client.post(
            "/api/manage/incidents/",
            "{nope",
            content_type="application/json",
            headers={"authorization": f"Bearer {token}"},
        ).status_code
        == 400
    )
    assert post(client, "/api/manage/incidents/999999/updates/", {"status": "resolved"}, token).status_code == 404
    assert client.get("/api/manage/incidents/", headers={"authorization": f"Bearer {token}"}).status_code == 405


# --- Alertmanager ------------------------------------------------------------------


def alert(status="firing", fingerprint="abc123", area="district-5", starts="2026-01-01T10:00:00Z", **labels):
    return {
        "status": status,
        "labels": {"alertname": "FiberDown", "area": area, **labels},
        "annotations": {"summary": "Fiber down in District 5", "description": "OLT unreachable."},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def webhook(client, token, *alerts):
    body = {
        "version": "4",
        "status": alerts[0]["status"],
        "receiver": "status",
        "groupKey": "{}",
        "alerts": list(alerts),
    }
    response = post(client, "/api/manage/alertmanager/", body, token)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_firing_alert_opens_one_incident_however_often_it_is_delivered(client, token):
    factories.area(slug="district-5")
    first = webhook(client, token, alert(severity="critical"))
    [pk] = first["opened"]
    assert webhook(client, token, alert(severity="critical")) == {
        "opened": [],
        "resolved": [],
        "unchanged": [pk],
        "ignored": [],
    }
    incident = Incident.objects.get()
    assert incident.title == "Fiber down in District 5" and incident.impact == "critical"
    assert incident.updates.get().message == "OLT unreachable."


def test_a_resolved_alert_resolves_its_incident_once(client, token):
    factories.area(slug="district-5")
    [pk] = webhook(client, token, alert())["opened"]
    assert webhook(client, token, alert("resolved"))["resolved"] == [pk]
    assert Incident.objects.get().status == IncidentStatus.RESOLVED
    assert webhook(client, token, alert("resolved"))["unchanged"] == [pk]
    # A late re-delivery of the old firing does not reopen anything...
    assert webhook(client, token, alert())["unchanged"] == [pk]
    # ...but the alert firing again later is a new incident.
    [again] = webhook(client, token, alert(starts="2026-01-02T10:00:00Z"))["opened"]
    assert again != pk and Incident.objects.count() == 2
    assert AlertmanagerAlert.objects.get().incident_id == again


def test_alerts_without_a_known_area_are_reported_and_open_nothing(client, token):
    factories.area(slug="district-5")
    unlabelled = alert(fingerprint="a1")
    del unlabelled["labels"]["area"]
    result = webhook(client, token, unlabelled, alert(fingerprint="a2", area="atlantis"))
    assert [item["fingerprint"] for item in result["ignored"]] == ["a1", "a2"]
    assert not Incident.objects.exists()


def test_a_payload_that_is_not_from_alertmanager_is_a_400(client, token):
    assert post(client, "/api/manage/alertmanager/", {"alerts": "many"}, token).status_code == 400
    broken = alert(starts="yesterday")
    assert post(client, "/api/manage/alertmanager/", {"alerts": [broken]}, token).status_code == 400


def test_titles_causes_and_messages_are_taken_and_returned_in_every_language(client, token):
    factories.area(slug="district-5")
    response = post(
        client,
        "/api/manage/incidents/",
        {
            "title": "Fiber outage",
            "title_translations": {"hu": "Optikai hiba", "he": "תקלה ברשת הסיבים"},
            "cause": "cable_cut",
            "cause_detail": "Cable cut by road works",
            "cause_detail_translations": {"hu": "Útépítés elvágta a kábelt"},
            "areas": ["district-5"],
            "message": "Crew on the way",
            "message_translations": {"hu": "A szerelők úton vannak"},
        },
        token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Fiber outage"
    assert body["title_translations"] == {"hu": "Optikai hiba", "he": "תקלה ברשת הסיבים"}
    assert body["cause_detail"] == "Cable cut by road works"
    assert body["cause_detail_translations"] == {"hu": "Útépítés elvágta a kábelt"}
    incident = Incident.objects.get()
    assert incident.in_language("title", "he") == "תקלה ברשת הסיבים"
    assert incident.in_language("cause_detail", "hu") == "Útépítés elvágta a kábelt"
    # The customer's pages read them.
    assert "Optikai hiba" in client.get("/areas/district-5/?lang=hu").text
    update = post(
        client,
        f"/api/manage/incidents/{incident.pk}/updates/",
        {"status": "identified", "message": "Splicing", "message_translations": {"he": "מחברים את הסיבים"}},
        token,
    )
    assert update.status_code == 201
    assert update.json()["message_translations"] == {"he": "מחברים את הסיבים"}
    assert update.json()["incident"]["title_translations"]["hu"] == "Optikai hiba"


@pytest.mark.parametrize(
    "translations",
    [{"xx": "Hiba"}, {"en": "Default is the plain field"}, ["Hiba"], {"hu": 5}, {"hu": "x" * 201}, {"hu": "a\x00b"}],
)
def test_a_bad_title_translation_is_a_400_naming_the_field(client, token, translations):
    factories.area(slug="district-5")
    response = post(
        client,
        "/api/manage/incidents/",
        {"title": "Fiber outage", "areas": ["district-5"], "title_translations": translations},
        token,
    )
    assert response.status_code == 400, response.content
    assert "title_translations" in response.json()["error"]["fields"]
    assert not Incident.objects.exists()
