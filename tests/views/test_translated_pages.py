"""Operators' data in the customer's language on every page, at a constant query count."""

import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.management.commands import seed_demo
from outages.models import (
    CreditPolicy,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    NotificationEvent,
    Region,
    Service,
    ServiceArea,
    Subscriber,
    Team,
    TeamRegion,
    Translated,
    WaitCredit,
)
from outages.notify.compose import Composer
from tests import factories

pytestmark = pytest.mark.django_db


def _translated_incident():
    region = factories.region("Budapest", name_translations={"hu": "Budapest", "he": "בודפשט"})
    area = factories.area("District V", region_obj=region, name_translations={"hu": "V. kerület", "he": "רובע V"})
    service = Service.objects.create(
        name="Fiber internet", slug="fiber", name_translations={"hu": "Optikai internet", "he": "אינטרנט סיבים"}
    )
    team = Team.objects.create(
        name="central", public_name="Central team", public_name_translations={"hu": "Központi csapat"}
    )
    TeamRegion.objects.create(team=team, region=region)
    incident = factories.incident(
        area,
        title="Fiber outage",
        cause="cable_cut",
        cause_detail="Cable cut by road works",
        title_translations={"hu": "Optikai hálózati hiba", "he": "תקלה ברשת הסיבים"},
        cause_detail_translations={"hu": "Útépítés elvágta a kábelt"},
    )
    incident.services.set([service])
    return area, incident


def test_area_page_in_hungarian_shows_the_operators_hungarian_text(client):
    area, incident = _translated_incident()
    text = client.get(f"/areas/{area.slug}/", HTTP_ACCEPT_LANGUAGE="hu").text
    for word in ("V. kerület", "Optikai hálózati hiba", "Útépítés elvágta a kábelt", "Központi csapat"):
        assert word in text
    for word in ("Fiber outage", "Cable cut by road works", "Central team"):
        assert word not in text
    incident_page = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="hu").text
    assert "Optikai internet" in incident_page and "Fiber internet" not in incident_page


def test_a_missing_translation_falls_back_to_the_default_language(client):
    area, _incident = _translated_incident()
    text = client.get(f"/areas/{area.slug}/", HTTP_ACCEPT_LANGUAGE="he").text
    assert "תקלה ברשת הסיבים" in text
    assert "Cable cut by road works" in text  # no Hebrew cause given
    assert "Central team" in text


def test_api_answers_in_the_language_asked_for(client):
    area, incident = _translated_incident()
    body = client.get(f"/api/areas/{area.slug}/", HTTP_ACCEPT_LANGUAGE="hu").json()
    assert body["name"] == "V. kerület"
    assert "Optikai hálózati hiba" in str(body)


def _add_translated_areas(count: int, regions: int) -> list[ServiceArea]:
    """`count` areas over `regions` regions, every name in three languages, made
    with bulk_create (1,000 rows one by one would be the slow part of the test)."""
    made = Region.objects.count()
    new_regions = Region.objects.bulk_create(
        Region(
            name=f"Region {made + n}",
            slug=f"region-{made + n}",
            name_translations={"en": f"Region {made + n}", "hu": f"Régió {made + n}", "he": f"אזור {made + n}"},
        )
        for n in range(regions)
    )
    first = ServiceArea.objects.count()
    return ServiceArea.objects.bulk_create(
        ServiceArea(
            name=f"Area {first + n}",
            slug=f"area-{first + n}",
            region=new_regions[n % regions],
            name_translations={"en": f"Area {first + n}", "hu": f"Terület {first + n}", "he": f"שטח {first + n}"},
        )
        for n in range(count)
    )


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/?lang=hu")
    assert response.status_code == 200 and "Terület 0" in response.text and "Hiba" in response.text
    return len(captured)


def test_home_page_query_count_is_the_same_with_1000_translated_areas_as_with_10(client):
    service = Service.objects.create(
        name="Fiber internet", slug="fiber", name_translations={"hu": "Optikai internet", "he": "אינטרנט סיבים"}
    )
    areas = _add_translated_areas(10, regions=2)
    for area in areas[:2]:
        incident = factories.incident(
            area, title_translations={"hu": "Hiba", "he": "תקלה"}, cause_detail_translations={"hu": "Kábel"}
        )
        incident.services.set([service])
        services.post_update(
            incident, status=IncidentStatus.IDENTIFIED, message="More", message_translations={"hu": "Még"}
        )
    small = _home_queries(client)
    _add_translated_areas(990, regions=18)
    assert ServiceArea.objects.count() == 1000 and Region.objects.count() == 20
    large = _home_queries(client)
    assert large == small, (small, large)


def _english_leftovers(text: str, language: str) -> list[str]:
    """English data words on a page in `language` where the data gives a translation."""
    leftovers = []
    for model in seed_demo.TRANSLATED_MODELS:
        for row in model.objects.all():
            for field in model.translated_fields:
                english, translated = getattr(row, field), getattr(row, f"{field}_translations").get(language)
                if english and translated and english != translated and english not in translated:
                    if f">{english}<" in text or f" {english}." in text or f"{english}</" in text:
                        leftovers.append(english)
    for update in IncidentUpdate.objects.exclude(message=""):
        if update.message_translations.get(language) and update.message in text:
            leftovers.append(update.message)
    return leftovers


@pytest.mark.parametrize("language", ["hu", "he"])
def test_demo_pages_show_no_english_data_word_where_a_translation_is_given(client, language):
    call_command("seed_demo", stdout=io.StringIO())
    incident = Incident.objects.get(title="Fiber internet outage after a cable cut")
    pages = ("/", "/areas/budapest-district-5/", "/areas/budapest-district-5/contact/", f"/incidents/{incident.pk}/")
    for url in (*pages, "/history/"):
        text = client.get(url, {"lang": language}, HTTP_ACCEPT_LANGUAGE=language).text
        assert f'lang="{language}"' in text
        assert _english_leftovers(text, language) == [], url


def test_every_channel_carries_the_operators_hungarian_data(client):
    area, first = _translated_incident()
    service = first.services.get()
    CreditPolicy.objects.create(
        service=service, min_duration=20, credit="one day's fee", credit_translations={"hu": "egynapi díjat"}
    )
    incident = factories.incident(
        area,
        title="Fiber cut",
        title_translations={"hu": "Kábelszakadás"},
        services=[service],
        started_at=timezone.now() - timedelta(hours=2),
    )
    services.post_update(
        incident, status=IncidentStatus.IDENTIFIED, message="Crew", message_translations={"hu": "Úton"}
    )
    event = NotificationEvent.objects.filter(update=incident.updates.latest()).get()
    notice = Composer(event).for_subscriber(Subscriber(language="hu"), {area.pk})
    channels = {
        "email": notice["text"],
        "sms": notice["sms"],
        "webhook": str(notice["payload"]),
        "widget": client.get(f"/embed/areas/{area.slug}/?lang=hu").text,
        "v2 API": client.get("/api/v2/incidents.json", HTTP_ACCEPT_LANGUAGE="hu").content.decode(),
        "native API": client.get(f"/api/areas/{area.slug}/", HTTP_ACCEPT_LANGUAGE="hu").content.decode(),
    }
    for name, text in channels.items():
        assert "egynapi díjat" in text and "one day" not in text, name
        assert "V. kerület" in text and "District V" not in text, name
        assert "Fiber cut" not in text and "Fiber internet" not in text, name
    for name in ("email", "webhook", "widget", "v2 API", "native API"):
        assert "Kábelszakadás" in channels[name], name
    assert "'message': 'Úton'" in channels["webhook"]


@pytest.mark.parametrize("url", ["/", "/history/", "/api/v2/summary.json"])
def test_the_site_name_is_given_per_language_and_the_default_otherwise(client, settings, url):
    settings.SITE_NAME = "Acme power"
    settings.SITE_NAME_TRANSLATIONS = {"hu": "Acme áram"}
    hungarian = client.get(url, {"lang": "hu"}).content.decode()
    assert "Acme áram" in hungarian and "Acme power" not in hungarian
    hebrew = client.get(url, {"lang": "he"}).content.decode()
    assert "Acme power" in hebrew and "Acme áram" not in hebrew


def test_the_demo_data_gives_every_translated_field_in_every_language():
    call_command("seed_demo", stdout=io.StringIO())
    # Every model with translated fields, but the wait credits (recorded only when a callback is late).
    translated = {
        model
        for model in apps.get_app_config("outages").get_models()
        if issubclass(model, Translated) and not model._meta.proxy
    }
    assert translated - set(seed_demo.TRANSLATED_MODELS) == {WaitCredit}
    for model in seed_demo.TRANSLATED_MODELS:
        rows = list(model._base_manager.all())
        assert rows, model.__name__
        assert {str(row): row.missing_languages() for row in rows if row.missing_languages()} == {}, model.__name__
    untranslated = IncidentUpdate.objects.exclude(message="").filter(message_translations={})
    assert list(untranslated.values_list("message", flat=True).distinct()) == []
