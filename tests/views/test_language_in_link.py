"""?lang= on every public page: the page, its links, its alternates, its cache
entry and its live socket all in that language."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from outages import services
from outages.models import IncidentStatus
from statuspage.asgi import application
from tests import factories


def _district():
    area = factories.area("District V", slug="district-5", name_translations={"hu": "V. kerület", "he": "רובע V"})
    incident = factories.incident(area, title="Fiber outage", title_translations={"hu": "Optikai hiba", "he": "תקלה"})
    return area, incident


@pytest.mark.django_db
@pytest.mark.page_cache
def test_lang_in_the_link_wins_and_is_cached_apart_from_english(client):
    _district()
    english = client.get("/areas/district-5/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in english.text and "Fiber outage" in english.text
    hungarian = client.get("/areas/district-5/?lang=hu", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="hu"' in hungarian.text and hungarian["Content-Language"] == "hu"
    assert "Optikai hiba" in hungarian.text and "V. kerület" in hungarian.text and "Fiber outage" not in hungarian.text
    # Cached apart: English again is still English, Hungarian again still Hungarian.
    assert "Fiber outage" in client.get("/areas/district-5/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Optikai hiba" in client.get("/areas/district-5/?lang=hu", HTTP_ACCEPT_LANGUAGE="en").text
    # The live socket is asked for in Hungarian.
    assert 'ws-connect="/ws/areas/district-5/?lang=hu&amp;link=1"' in hungarian.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/areas/district-5/",
        "/incidents/{pk}/",
        "/history/",
        "/search/?q=Budapest",
        "/map/",
        "/subscribe/",
        "/summary/",
        "/areas/district-5/report/",
        "/areas/district-5/contact/",
    ],
)
def test_every_public_page_honours_lang_and_keeps_it_in_its_links(client, url):
    url = url.format(pk=_district()[1].pk)
    sep = "&" if "?" in url else "?"
    page = client.get(f"{url}{sep}lang=he", HTTP_ACCEPT_LANGUAGE="hu").text
    assert '<html lang="he" dir="rtl">' in page
    assert 'href="/history/?lang=he"' in page and 'href="/?lang=he"' in page
    for code in ("en", "hu", "he"):
        assert f'<link rel="alternate" hreflang="{code}" href="http' in page
    assert 'hreflang="x-default"' in page
    # The switcher comes back without the link's language, so the choice wins.
    assert 'name="next" value="' in page and "lang=he" not in page.split('name="next" value="')[1].split('"')[0]


@pytest.mark.django_db
def test_an_unknown_lang_on_a_page_falls_back_to_the_browsers_language(client):
    _district()
    page = client.get("/areas/district-5/?lang=xx", HTTP_ACCEPT_LANGUAGE="hu")
    assert page.status_code == 200 and '<html lang="hu"' in page.text


@pytest.mark.django_db
def test_feeds_and_api_honour_lang(client):
    _district()
    assert "Optikai hiba" in client.get("/history.atom?lang=hu").content.decode()
    for url in ("/history.rss", "/areas/district-5/history.atom", "/areas/district-5/history.rss"):
        hebrew = client.get(url, {"lang": "he"}, HTTP_ACCEPT_LANGUAGE="hu").content.decode()
        assert "תקלה" in hebrew and "Optikai hiba" not in hebrew and "Fiber outage" not in hebrew, url
    assert client.get("/api/areas/district-5/?lang=he").json()["name"] == "רובע V"
    assert "Optikai hiba" in client.get("/api/v2/incidents.json?lang=hu").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_the_hungarian_socket_receives_hungarian_fragments():
    area, incident = await sync_to_async(_district)()
    communicator = WebsocketCommunicator(
        application, "/ws/areas/district-5/?lang=hu", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_from(timeout=5)
    assert "Optikai hiba" in snapshot and "Fiber outage" not in snapshot
    await sync_to_async(services.post_update)(
        incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", message_translations={"hu": "Úton"}
    )
    pushed = await communicator.receive_from(timeout=3)
    assert "Úton" in pushed and "Optikai hiba" in pushed and "Crew on site" not in pushed
    await communicator.disconnect()


async def _first_push(path: str, incident) -> tuple[str, str]:
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver")])
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_from(timeout=5)
    await sync_to_async(services.post_update)(incident, status=IncidentStatus.IDENTIFIED, message=f"Crew {path}")
    pushed = await communicator.receive_from(timeout=3)
    await communicator.disconnect()
    return snapshot, pushed


@pytest.mark.django_db(transaction=True)
async def test_pushed_fragments_keep_the_links_language_only_for_pages_opened_by_a_lang_link():
    area, incident = await sync_to_async(_district)()
    incident_link = f'href="/incidents/{incident.pk}/'
    # The page came by ?lang=hu: its socket says link=1, and every link in the
    # snapshot and in a push carries ?lang=hu, as the page's own links do.
    for html in await _first_push("/ws/areas/district-5/?lang=hu&link=1", incident):
        assert f'{incident_link}?lang=hu"' in html and "Optikai hiba" in html
        assert "<lang" not in html
    for html in await _first_push("/ws/status/?lang=he&link=1", incident):
        assert 'href="/areas/district-5/?lang=he"' in html and f'{incident_link}?lang=he"' in html
    # Hungarian by the browser's own language: links without lang=, as on its page.
    for html in await _first_push("/ws/areas/district-5/?lang=hu", incident):
        assert f'{incident_link}"' in html and f"{incident_link}?lang" not in html and "Optikai hiba" in html


@pytest.mark.django_db
def test_the_polling_fallback_and_the_htmx_search_keep_the_links_language(client):
    area, incident = _district()
    polled = client.get("/ws/areas/district-5/?lang=he&link=1").text
    assert f'href="/incidents/{incident.pk}/?lang=he"' in polled and "<lang" not in polled
    assert f'href="/incidents/{incident.pk}/"' in client.get("/ws/areas/district-5/?lang=he").text
    # The search page asks for its results in its language, and so does its plain form.
    page = client.get("/search/?lang=he").text
    assert 'hx-get="/search/?lang=he"' in page and '<input type="hidden" name="lang" value="he">' in page
    results = client.get("/search/?q=District&lang=he", HTTP_HX_REQUEST="true").text
    assert 'href="/areas/district-5/?lang=he"' in results and "רובע V" in results
    # Forms post back in the page's language.
    area_page = client.get("/areas/district-5/report/?lang=hu").text
    assert 'hx-post="/areas/district-5/report/?lang=hu"' in area_page
    assert 'action="/subscribe/?lang=hu"' in client.get("/subscribe/?lang=hu").text


@pytest.mark.django_db
def test_the_contact_panel_and_page_keep_the_links_language_and_the_operators_words(client):
    from outages.models import Service, Team, TeamContact, TeamRegion

    area, incident = _district()
    team = Team.objects.create(name="east", public_name="East team", public_name_translations={"hu": "Keleti csapat"})
    TeamRegion.objects.create(team=team, region=area.region)
    TeamContact.objects.create(team=team, hours={str(day): ["00:00", "23:59"] for day in range(7)})
    Service.objects.create(name="Fiber internet", slug="fiber", name_translations={"hu": "Optikai internet"})
    panel = client.get("/areas/district-5/?lang=hu").text
    assert 'href="/areas/district-5/contact/?lang=hu"' in panel and "?kind=message&amp;lang=hu" in panel
    page = client.get("/areas/district-5/contact/?lang=hu").text
    for words in ("V. kerület", "Optikai hiba", "Keleti csapat", "Optikai internet"):
        assert words in page, words
    for words in ("District V", "Fiber outage", "East team", "Fiber internet"):
        assert words not in page, words
    assert 'href="/?lang=hu"' in page and 'href="/areas/district-5/?lang=hu"' in page
    assert 'href="/subscribe/?area=district-5&amp;lang=hu"' in page


@pytest.mark.django_db
def test_the_apis_give_the_areas_description_in_the_language_asked_for(client):
    factories.area("District V", slug="district-5", description="Downtown", description_translations={"hu": "Belváros"})
    assert client.get("/api/areas/district-5/?lang=hu").json()["description"] == "Belváros"
    components = client.get("/api/v2/components.json", HTTP_ACCEPT_LANGUAGE="hu").json()["components"]
    assert [c["description"] for c in components if c["name"] == "District V"] == ["Belváros"]
    assert client.get("/api/areas/district-5/").json()["description"] == "Downtown"
