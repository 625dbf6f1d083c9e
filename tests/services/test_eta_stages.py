"""Estimate stages: assessing, area-wide estimate, confirmed on site; set with
each update (service, command, management API), shown on pages and in the API."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from outages import services
from outages.models import AuditEntry, EtaStage, Incident, IncidentStatus
from outages.services import api_tokens
from tests import factories
from tests.api.test_manage_api import post, user_with

pytestmark = pytest.mark.django_db


def later(hours=2):
    return timezone.now() + timedelta(hours=hours)


def test_an_incident_without_an_eta_is_assessing_and_a_first_eta_is_area_wide():
    incident = factories.incident(eta_in=None)
    assert incident.eta_stage == EtaStage.ASSESSING
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=later())
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.AREA_WIDE


def test_the_stage_is_kept_until_changed_and_withdrawing_the_eta_goes_back_to_assessing():
    incident = factories.incident()
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta_stage=EtaStage.ON_SITE)
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.ON_SITE
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Still on it")
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.ON_SITE
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=None)
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.ASSESSING
    entry = AuditEntry.objects.filter(incident=incident).order_by("-created_at", "-id").first()
    assert entry.changes["eta_stage"] == [EtaStage.ON_SITE, EtaStage.ASSESSING]


def test_a_firm_stage_without_an_eta_or_an_unknown_stage_is_refused():
    incident = factories.incident(eta_in=None)
    with pytest.raises(ValidationError) as error:
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta_stage=EtaStage.ON_SITE)
    assert "eta_stage" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=later(), eta_stage="certain")
    with pytest.raises(ValidationError):
        factories.incident(eta_in=None, eta_stage=EtaStage.AREA_WIDE)
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.ASSESSING and incident.updates.count() == 1


def test_pages_and_api_show_the_stage(client):
    area = factories.area()
    incident = factories.incident(area, eta_stage=EtaStage.ON_SITE)
    page = client.get(f"/areas/{area.slug}/").text
    assert "incident__eta-stage--on_site" in page and "Confirmed on site" in page
    assert "Confirmed on site" in client.get(f"/incidents/{incident.pk}/").text
    v2 = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    assert v2["x_eta_stage"] == "on_site"
    native = client.get(f"/api/areas/{area.slug}/").json()["active_incidents"][0]
    assert native["eta_stage"] == "on_site"


def test_the_command_sets_the_stage():
    area = factories.area(slug="district-5")
    out = StringIO()
    eta = later().isoformat()
    call_command(
        "incident",
        "open",
        "--title",
        "Cut",
        "--areas",
        "district-5",
        "--eta",
        eta,
        "--eta-stage",
        "on_site",
        stdout=out,
    )
    incident = Incident.objects.get(pk=int(out.getvalue()))
    assert incident.eta_stage == EtaStage.ON_SITE and list(incident.areas.all()) == [area]
    call_command(
        "incident", "update", str(incident.pk), "--status", "identified", "--eta-stage", "area_wide", stdout=out
    )
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.AREA_WIDE
    with pytest.raises(CommandError):
        call_command(
            "incident", "update", str(incident.pk), "--status", "identified", "--eta-stage", "sure", stdout=out
        )


def test_the_management_api_sets_the_stage_and_refuses_a_bad_one_with_400(client):
    area = factories.area()
    token = api_tokens.create_token(user=user_with("add_incident", "change_incident"), name="monitoring")[1]
    response = post(client, "/api/manage/incidents/", {"title": "Fiber down", "areas": [area.slug]}, token)
    assert response.status_code == 201 and response.json()["eta_stage"] == "assessing"
    pk = response.json()["id"]
    body = {"status": "identified", "eta": later().isoformat(), "eta_stage": "on_site"}
    response = post(client, f"/api/manage/incidents/{pk}/updates/", body, token)
    assert response.status_code == 201, response.content
    assert response.json()["incident"]["eta_stage"] == "on_site"
    for bad in (
        {"status": "identified", "eta_stage": "certain"},
        {"status": "identified", "eta_stage": 3},
        {"status": "identified", "eta": None, "eta_stage": "on_site"},
    ):
        assert post(client, f"/api/manage/incidents/{pk}/updates/", bad, token).status_code == 400, bad
    assert Incident.objects.get(pk=pk).eta_stage == EtaStage.ON_SITE
