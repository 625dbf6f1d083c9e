"""The embeddable widget: what it shows, its options, and that it is private and cacheable."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from outages import services
from outages.live import fragments as live_fragments
from outages.models import IncidentStatus
from tests import factories

pytestmark = pytest.mark.django_db

# Cookies a browser may hold for the site: a stale session, a malformed CSRF
# token, a language choice. The widget must not answer any of them.
STALE_COOKIES = "sessionid=short; csrftoken=not-a-valid-token; django_language=hu; messages=x"


def ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


class _TopLevel(HTMLParser):
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.depth, self.ids = 0, set()

    def handle_starttag(self, tag, attrs):
        if self.depth == 0 and dict(attrs).get("id"):
            self.ids.add(dict(attrs)["id"])
        if tag not in self.VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.depth -= 1


def top_level_ids(fragments: str) -> set[str]:
    """The ids of the top-level elements of a push: what the browser swaps in by id."""
    parser = _TopLevel()
    parser.feed(fragments)
    return parser.ids


def test_area_widget_shows_status_title_cause_eta_and_last_updated(client):
    district = factories.area("District 5", time_zone="Europe/Budapest")
    incident = factories.incident(
        district, title="Cable cut on Andrássy út", cause="cable_cut", cause_detail="Road works"
    )
    eta = timezone.now() + timedelta(hours=3)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", eta=eta)
    response = client.get(f"/embed/areas/{district.slug}/")
    assert response.status_code == 200
    text = response.text
    assert "District 5" in text and "Partial outage" in text
    assert "Cable cut on Andrássy út" in text and "Road works" in text
    assert "Expected fix" in text and timezone.localtime(eta, district.tzinfo).strftime("%H:%M") in text
    assert 'id="last-updated"' in text and "Last updated" in text
    assert re.search(rf'<a class="widget__full" href="/areas/{district.slug}/" target="_blank" rel="noopener">', text)
    # Links inside the fragments leave the frame too (the full pages refuse framing).
    assert '<base target="_blank">' in text


def test_area_widget_without_incidents_says_all_is_well(client):
    district = factories.area("Szentendre")
    text = client.get(f"/embed/areas/{district.slug}/").text
    assert "Operational" in text and "No known problems in Szentendre" in text


def test_whole_service_widget_shows_banner_and_current_incidents(client):
    district = factories.area("District 5")
    factories.incident(district, title="Water main burst", cause="cable_cut", cause_detail="Frost")
    text = client.get("/embed/").text
    assert "Outage in 1 area" in text and "Water main burst" in text and "Frost" in text
    assert '<a class="widget__full" href="/" target="_blank" rel="noopener">' in text


def test_widget_joins_the_same_socket_and_holds_the_same_fragments_as_the_pages(client):
    district = factories.area()
    factories.incident(district)
    area_page = client.get(f"/embed/areas/{district.slug}/").text
    assert f'ws-connect="/ws/areas/{district.slug}/?lang=en"' in area_page
    assert top_level_ids(live_fragments.render_area_snapshot(district)) <= ids(area_page)
    status_page = client.get("/embed/").text
    # The whole service: the status socket, with a snapshot that leaves out
    # the list of every area (the widget does not show it; it grows with the areas).
    assert 'ws-connect="/ws/status/?summary=1&amp;lang=en"' in status_page
    summary = top_level_ids(live_fragments.render_status_summary_snapshot())
    assert summary == {"banner", "active-incidents", "last-updated"}
    assert summary <= ids(status_page)


def test_status_summary_snapshot_is_the_full_one_without_the_areas(client):
    district = factories.area("Szentendre")
    factories.incident(district, title="Water main burst")
    full, summary = client.get("/ws/status/").text, client.get("/ws/status/?summary=1").text
    assert 'id="regions"' in full and 'id="regions"' not in summary
    assert "Water main burst" in summary and 'id="banner"' in summary and 'id="last-updated"' in summary


def test_operator_text_is_escaped_in_the_widget(client):
    district = factories.area()
    factories.incident(district, title="<script>alert(1)</script>", cause="cable_cut", cause_detail="<img src=x>")
    text = client.get(f"/embed/areas/{district.slug}/").text
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert "<img src=x>" not in text


def test_widget_options_theme_language_and_compact(client):
    district = factories.area()
    text = client.get(f"/embed/areas/{district.slug}/?theme=dark&lang=hu&compact=1").text
    assert re.search(r'<html lang="hu" dir="ltr" class="widget widget--compact" data-theme="dark">', text)
    response = client.get(f"/embed/areas/{district.slug}/?lang=he")
    assert '<html lang="he" dir="rtl"' in response.text and response.headers["Content-Language"] == "he"
    default = client.get(f"/embed/areas/{district.slug}/").text
    assert 'data-theme="auto"' in default and "widget--compact" not in default


def test_a_widget_asked_for_in_a_language_links_to_the_full_page_in_it(client):
    factories.area(slug="d5")
    assert 'href="/areas/d5/?lang=hu"' in client.get("/embed/areas/d5/?lang=hu").text
    assert 'href="/?lang=he"' in client.get("/embed/?lang=he").text
    # Chosen by the browser, not the link: the full page negotiates for itself.
    assert 'href="/areas/d5/"' in client.get("/embed/areas/d5/", HTTP_ACCEPT_LANGUAGE="hu").text


def test_widget_language_follows_the_browser_not_a_cookie(client):
    district = factories.area()
    client.cookies.load({"django_language": "he"})
    response = client.get(f"/embed/areas/{district.slug}/", HTTP_ACCEPT_LANGUAGE="hu-HU,hu;q=0.9,en;q=0.5")
    assert '<html lang="hu"' in response.text


@pytest.mark.parametrize(
    "query, message",
    [
        ("theme=purple", "Unknown theme"),
        ("lang=xx", "Unsupported lang"),
        ("lang=" + "e" * 500, "Unsupported lang"),
        ("compact=yes", "compact must be 1 or 0"),
    ],
)
def test_bad_widget_options_get_a_clear_400(client, query, message):
    response = client.get(f"/embed/?{query}")
    assert response.status_code == 400
    assert message in response.text


def test_unknown_area_gets_a_404_that_still_shows_in_the_frame(client):
    response = client.get("/embed/areas/no-such-area/")
    assert response.status_code == 404
    assert "This area is not known here" in response.text
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("path", ["/embed/", "/embed/areas/{slug}/", "/embed/areas/no-such-area/", "/embed.js"])
def test_widget_sets_no_cookie_and_is_cacheable_by_anyone(client, path):
    district = factories.area()
    response = client.get(path.format(slug=district.slug), HTTP_COOKIE=STALE_COOKIES)
    assert "Set-Cookie" not in str(response.serialize_headers()), response.cookies
    assert not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "public" in response.headers["Cache-Control"] and "max-age=" in response.headers["Cache-Control"]


def test_widget_is_sent_compressed_to_browsers_that_accept_it(client):
    district = factories.area()
    factories.incident(district)
    response = client.get(f"/embed/areas/{district.slug}/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]


def test_a_normal_page_would_have_answered_those_cookies(client):
    """The control for the test above: the cookies it sends do provoke Set-Cookie
    on a page that uses the session or CSRF token (the cached public pages do not)."""
    response = client.get("/subscribe/", HTTP_COOKIE=STALE_COOKIES)
    assert response.cookies


def test_widget_page_has_no_inline_script_or_style(client):
    district = factories.area()
    factories.incident(district)
    text = client.get(f"/embed/areas/{district.slug}/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    assert "<style" not in text and " style=" not in text


def test_embed_js_is_served_as_a_long_cached_script(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "max-age=86400" in response["Cache-Control"]
    body = response.content.decode()
    assert "data-area" in body and "event.origin !== origin" in body


def test_area_page_offers_an_embed_snippet_to_copy(client):
    district = factories.area("District <5>", slug="district-5")
    text = client.get(f"/areas/{district.slug}/").text
    assert "Embed this" in text
    assert "&lt;div data-area=&quot;district-5&quot;&gt;&lt;/div&gt;" in text
    assert "/embed.js&quot; async&gt;&lt;/script&gt;" in text
    assert "/embed/areas/district-5/" in text
    # The area's name is escaped as HTML code, then again for display.
    assert "title=&quot;District &amp;lt;5&amp;gt;&quot;" in text
    assert 'data-copy="embed-code-script"' in text and "js/embed-snippet.js" in text
