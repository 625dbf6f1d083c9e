"""The console helps operators translate: inputs per language next to the
default, "hu missing" in the list, templates that fill every language."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from outages.models import Incident, IncidentStatus, Service, Team, TeamContact, UpdateTemplate, WaitCreditPolicy
from tests import factories

pytestmark = pytest.mark.django_db


def test_incident_form_has_each_language_next_to_the_default_and_saves_them(admin_client):
    district = factories.area("District 6", name_translations={"hu": "VI. kerület"})
    page = admin_client.get("/admin/outages/incident/add/").text
    assert page.index('name="title"') < page.index('name="title_hu"') < page.index('name="title_he"')
    assert page.index('name="title_he"') < page.index('name="impact"')
    assert 'name="cause_detail_hu"' in page
    eta = timezone.localtime(timezone.now() + timedelta(hours=3))
    response = admin_client.post(
        "/admin/outages/incident/add/",
        {
            "title": "Fiber cable cut",
            "title_hu": "Elvágott optikai kábel",
            "title_he": "כבל סיבים נחתך",
            "impact": "major",
            "cause": "cable_cut",
            "cause_detail": "Road works",
            "cause_detail_hu": "Útépítés",
            "areas": [district.pk],
            "update_status": "identified",
            "update_message": "Crew on site",
            "update_eta": eta.strftime("%Y-%m-%dT%H:%M"),
            "update_crew_status": "assigned",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get(title="Fiber cable cut")
    assert incident.title_translations == {
        "en": "Fiber cable cut",
        "hu": "Elvágott optikai kábel",
        "he": "כבל סיבים נחתך",
    }
    assert incident.cause_detail_translations == {"en": "Road works", "hu": "Útépítés"}
    change = admin_client.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert 'value="Elvágott optikai kábel"' in change
    assert "Missing in this language." in change  # the Hebrew cause
    listing = admin_client.get("/admin/outages/incident/").text
    assert "he missing" in listing and "hu missing" not in listing


def test_service_form_saves_every_language(admin_client):
    service = Service.objects.create(name="Water", slug="water")
    assert "hu missing, he missing" in admin_client.get("/admin/outages/service/").text
    response = admin_client.post(
        f"/admin/outages/service/{service.pk}/change/",
        {"name": "Water", "name_hu": "Víz", "name_he": "מים", "slug": "water", "position": 0},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name_translations == {"en": "Water", "hu": "Víz", "he": "מים"}
    assert 'name="name_translations"' not in admin_client.get(f"/admin/outages/service/{service.pk}/change/").text


def test_one_click_template_fills_every_language_it_has(admin_client):
    district = factories.area("District 5", name_translations={"hu": "V. kerület"})
    incident = factories.incident(district)
    template = UpdateTemplate.objects.create(
        name="Crew",
        status=IncidentStatus.IDENTIFIED,
        message="A crew is on its way to {area}.",
        message_translations={"hu": "Szerelő úton: {area}."},
    )
    admin_client.post(
        f"/admin/outages/incident/{incident.pk}/post-template/{template.pk}/", {"seen_version": incident.version}
    )
    update = incident.updates.first()
    assert update.message == "A crew is on its way to District 5."
    assert update.message_translations == {"hu": "Szerelő úton: V. kerület."}
    with translation.override("he"):
        assert update.localized_message == "A crew is on its way to District 5."


def test_team_contact_and_wait_credit_policy_forms_have_each_language_and_the_markers(admin_client):
    team = Team.objects.create(name="east", public_name="East team")
    contact = TeamContact.objects.create(team=team, intro="We look after the east.")
    page = admin_client.get(f"/admin/outages/teamcontact/{contact.pk}/change/").text
    assert page.index('name="intro"') < page.index('name="intro_hu"') < page.index('name="intro_he"')
    assert page.index('name="intro_he"') < page.index('name="photo"')
    assert 'name="intro_translations"' not in page and "Missing in this language." in page
    assert "hu missing, he missing" in admin_client.get("/admin/outages/teamcontact/").text
    response = admin_client.post(
        f"/admin/outages/teamcontact/{contact.pk}/change/",
        {
            "team": team.pk,
            "enabled": "on",
            "intro": "We look after the east.",
            "intro_hu": "Mi gondozzuk a keletet.",
            "intro_he": "אנחנו מטפלים במזרח.",
            "hours": "{}",
            "holidays": "",
            "callbacks_per_hour": 6,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert contact.intro_translations == {
        "en": "We look after the east.",
        "hu": "Mi gondozzuk a keletet.",
        "he": "אנחנו מטפלים במזרח.",
    }
    assert "hu missing" not in admin_client.get("/admin/outages/teamcontact/").text

    page = admin_client.get("/admin/outages/waitcreditpolicy/add/").text
    assert page.index('name="credit"') < page.index('name="credit_hu"') < page.index('name="credit_he"')
    assert page.index('name="credit_he"') < page.index('name="active"')
    response = admin_client.post(
        "/admin/outages/waitcreditpolicy/add/",
        {"threshold_minutes": 5, "credit": "a $5 credit", "credit_hu": "5 dolláros jóváírás", "active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = WaitCreditPolicy.objects.get()
    assert policy.credit_translations == {"en": "a $5 credit", "hu": "5 dolláros jóváírás"}
    assert "he missing" in admin_client.get("/admin/outages/waitcreditpolicy/").text
    change = admin_client.get(f"/admin/outages/waitcreditpolicy/{policy.pk}/change/").text
    assert 'value="5 dolláros jóváírás"' in change and 'class="translation-missing"' in change
