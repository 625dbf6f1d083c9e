"""The outage map: the page, the shapes GeoJSON, "use my location", and the
map in a real browser (rendering, live recolouring, geolocation, keyboard, CSP)."""

import gzip
import json
import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from outages import geo
from outages.models import Impact, ServiceArea
from outages.services import area_import
from tests import factories

SQUARE = {"type": "Polygon", "coordinates": [[[19.0, 47.0], [19.1, 47.0], [19.1, 47.1], [19.0, 47.1], [19.0, 47.0]]]}
EAST = {"type": "Polygon", "coordinates": [[[19.1, 47.0], [19.2, 47.0], [19.2, 47.1], [19.1, 47.1], [19.1, 47.0]]]}


@pytest.mark.django_db
def test_map_page_has_the_map_the_incidents_and_the_area_list_as_text(client):
    riverside = factories.area("Riverside", shape=SQUARE)
    incident = factories.incident(riverside, title="Cable cut", impact=Impact.CRITICAL)
    response = client.get("/map/")
    assert response.status_code == 200
    text = response.text
    # The map is drawn in the page itself: the shape, coloured, patterned and named by
    # status, with its icon; nothing to fetch and draw before it can be seen.
    assert 'id="map-svg"' in text and "areas.geojson" not in text
    assert f'data-slug="{riverside.slug}"' in text and 'class="map-area map-area--major_outage"' in text
    assert 'aria-label="Riverside: Major outage"' in text and 'class="map-label map-label--major_outage"' in text
    assert f'id="incident-{incident.pk}"' in text  # current incidents beside the map
    assert f'id="area-row-{riverside.slug}"' in text and "Major outage" in text  # the text equivalent
    assert 'ws-connect="/ws/status/?lang=en"' in text  # the same live push as the home page
    assert "Use my location" in text
    assert " style=" not in text and "<script>" not in text


def _svg(text: str) -> dict:
    """The map's view, its full extent and each shape's path, from the page."""
    return {
        "view": [float(n) for n in re.search(r'<svg id="map-svg"[^>]*?viewBox="([^"]+)"', text, re.S)[1].split()],
        "full": [float(n) for n in re.search(r'data-full="([^"]+)"', text)[1].split()],
        "paths": dict(re.findall(r'<path d="([^"]*)" class="map-area[^"]*" data-slug="([^"]+)"', text)),
    }


@pytest.mark.django_db
def test_map_opens_on_the_worst_outage_and_redraws_a_shape_when_an_import_changes_it(
    client, django_capture_on_commit_callbacks
):
    west = factories.area("West", slug="west", shape=SQUARE)
    factories.area("East", slug="east", shape=EAST)
    factories.incident(west, title="Cable cut", impact=Impact.CRITICAL)
    first = _svg(client.get("/map/").text)
    assert set(first["paths"].values()) == {"west", "east"}
    view, full = first["view"], first["full"]
    assert view[2] < full[2] and view[0] < full[0] + full[2] / 2  # closer, on the western area
    moved = {"type": "Polygon", "coordinates": [[[19.0, 47.0], [19.05, 47.0], [19.05, 47.1], [19.0, 47.0]]]}
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "West", "slug": "west", "region": west.region.name},
                "geometry": moved,
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        area_import.run(json.dumps(document).encode(), "areas.geojson")
    again = _svg(client.get("/map/").text)
    west_path = {slug: d for d, slug in again["paths"].items()}["west"]
    assert west_path != {slug: d for d, slug in first["paths"].items()}["west"]
    assert west_path.count("l") == 1 and west_path.endswith("z")  # a triangle now


def test_a_shape_becomes_a_whole_unit_relative_path_with_its_box():
    zoom, full = geo.map_zoom([SQUARE, EAST])
    assert full[2] <= geo.MAP_UNITS_ACROSS * 1.1
    d, box = geo.svg_path(SQUARE, zoom)
    assert re.fullmatch(r"M\d+ \d+l[-\d ]+z", d)
    assert len(re.findall(r"-?\d+", d.split("l")[1])) == 6  # three lines back to the start, "z" closes
    x0, y0 = geo.mercator(19.0, 47.1, zoom)  # the north-west corner
    x1, y1 = geo.mercator(19.1, 47.0, zoom)
    assert box == [round(x0), round(y0), round(x1) - round(x0), round(y1) - round(y0)]
    assert geo.fit_box([box], min_width=full[2] / 6)[2] >= full[2] / 6


@pytest.mark.django_db
def test_map_page_refuses_post(client):
    assert client.post("/map/").status_code == 405


@pytest.mark.django_db
def test_shapes_come_as_one_simplified_gzipped_cacheable_geojson(client):
    detailed = {
        "type": "Polygon",
        "coordinates": [[[19.0 + i / 10000, 47.0] for i in range(1001)] + [[19.1, 47.1], [19.0, 47.1], [19.0, 47.0]]],
    }
    area = factories.area("Detailed", shape=detailed)
    factories.area("No shape yet")
    response = client.get("/map/areas.geojson", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Encoding"] == "gzip"
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    assert "Accept-Encoding" in response["Vary"]
    document = json.loads(gzip.decompress(response.content))
    assert document["type"] == "FeatureCollection"
    [feature] = document["features"]
    assert feature["id"] == area.slug
    assert feature["properties"]["url"] == f"/areas/{area.slug}/"
    assert len(feature["geometry"]["coordinates"][0]) < 10  # simplified from 1004 points
    etag = response["ETag"]
    assert client.get("/map/areas.geojson", HTTP_IF_NONE_MATCH=etag).status_code == 304
    plain = client.get("/map/areas.geojson")
    assert "Content-Encoding" not in plain and json.loads(plain.content) == document
    area.name = "Renamed"
    area.save()
    changed = client.get("/map/areas.geojson", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert json.loads(changed.content)["features"][0]["properties"]["name"] == "Renamed"


@pytest.mark.django_db
def test_locate_sends_the_customer_to_the_area_at_their_position(client):
    west = factories.area("West", shape=SQUARE)
    east = factories.area("East", shape=EAST)
    response = client.get("/map/locate/", {"lat": "47.05", "lon": "19.05"})
    assert response.status_code == 302 and response["Location"] == f"/areas/{west.slug}/"
    assert "no-store" in response["Cache-Control"]
    assert client.get("/map/locate/", {"lat": "47.05", "lon": "19.15"})["Location"] == f"/areas/{east.slug}/"


@pytest.mark.django_db
def test_locate_outside_every_area_offers_the_postcode_search(client):
    factories.area("West", shape=SQUARE)
    response = client.get("/map/locate/", {"lat": "40", "lon": "10"})
    assert response.status_code == 404
    assert "We do not serve your location" in response.text and 'id="area-q"' in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"lat": "x", "lon": "19"},
        {"lat": "95", "lon": "19"},
        {"lat": "47", "lon": "nan"},
        {"lat": "47", "lon": "inf"},
        {"lat": "47", "lon": "-181"},
    ],
)
def test_locate_with_a_bad_position_is_a_clear_400(client, query):
    response = client.get("/map/locate/", query)
    assert response.status_code == 400
    assert "latitude" in response.text


@pytest.mark.django_db
def test_without_a_tile_server_the_map_page_allows_no_third_party_images(client):
    policy = client.get("/map/")["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy


@pytest.mark.django_db
@override_settings(MAP_TILE_URL="https://{s}.tiles.example.net/{z}/{x}/{y}.png", MAP_TILE_ATTRIBUTION="© Example maps")
def test_a_configured_tile_server_is_allowed_on_the_map_page_only(client):
    response = client.get("/map/")
    assert "img-src 'self' data: https://*.tiles.example.net" in response["Content-Security-Policy"]
    assert 'data-tile-url="https://{s}.tiles.example.net/{z}/{x}/{y}.png"' in response.text
    assert "© Example maps" in response.text
    assert "tiles.example.net" not in client.get("/")["Content-Security-Policy"]


# In the browser ------------------------------------------------------------------


@pytest.fixture
def db_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; the test's own
    database writes (through outages.services) are still plain sync code.
    Requested after `server`, so the server process does not inherit it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _open_map(browser, server, **context_options):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, **context_options)
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url + "/map/")
    page.wait_for_selector("#map[data-drawn]")
    return page, problems


def _csp_problems(problems):
    return [problem for problem in problems if "Content Security Policy" in problem or "Refused" in problem]


@pytest.mark.browser
def test_map_draws_every_demo_area_coloured_by_status_under_the_strict_policy(browser, server, db_beside_playwright):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    page, problems = _open_map(browser, server)
    assert page.get_attribute("#map", "data-drawn") == str(ServiceArea.objects.count()) == "31"
    assert page.locator("path.map-area").count() == 31
    district_5 = page.locator("[data-slug='budapest-district-5']")
    assert "map-area--major_outage" in district_5.get_attribute("class")
    assert district_5.get_attribute("aria-label") == "Budapest District V: Major outage"
    # Never colour alone: a pattern fill and an icon label go with it.
    fill = page.evaluate("getComputedStyle(document.querySelector(\"[data-slug='budapest-district-5']\")).fill")
    assert "pat-major_outage" in fill
    assert page.locator(".map-label--major_outage").first.text_content() == "✕"
    assert "map-area--operational" in page.get_attribute("[data-slug='vac']", "class")
    assert _csp_problems(problems) == []


@pytest.mark.browser
def test_a_status_change_recolours_the_right_shape_without_a_reload(browser, server, db_beside_playwright):
    vac = factories.area("Vác", slug="vac", shape=SQUARE)
    other = factories.area("Sződ", slug="szod", shape=EAST)
    page, problems = _open_map(browser, server)
    page.wait_for_selector("#live[data-state='live']")
    page.evaluate("window.__sameDocument = true")
    factories.incident(vac, title="Power cut", impact=Impact.CRITICAL)
    page.wait_for_selector("[data-slug='vac'].map-area--major_outage", timeout=5000)
    assert page.locator("[data-slug='vac']").get_attribute("aria-label") == "Vác: Major outage"
    assert "map-area--operational" in page.get_attribute(f"[data-slug='{other.slug}']", "class")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert _csp_problems(problems) == []


@pytest.mark.browser
def test_use_my_location_with_granted_geolocation_lands_on_the_area_page(browser, server, db_beside_playwright):
    factories.area("West", slug="west", shape=SQUARE)
    factories.area("East", slug="east", shape=EAST)
    page, _ = _open_map(
        browser, server, geolocation={"latitude": 47.05, "longitude": 19.15}, permissions=["geolocation"]
    )
    page.click("#locate-button")
    page.wait_for_url("**/areas/east/")
    assert page.locator("h1").text_content().strip() == "East"


@pytest.mark.browser
def test_the_map_works_by_keyboard(browser, server, db_beside_playwright):
    factories.area("West", slug="west", shape=SQUARE)
    factories.area("East", slug="east", shape=EAST)
    page, _ = _open_map(browser, server)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('data-slug')"):
            break
    assert page.evaluate("document.activeElement.getAttribute('data-slug')") == "west"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('data-slug')") == "east"
    page.keyboard.press("Enter")
    page.wait_for_selector("#map-selection:not([hidden]) .status-card")
    assert page.text_content("#selection-heading") == "East"
    assert page.get_attribute("#selection-link", "href") == "/areas/east/"
    assert "No known problems in East" in page.text_content("#map-card")
