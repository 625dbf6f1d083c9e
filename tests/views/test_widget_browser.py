"""The widget in real headless Chromium, embedded by a page on another site.

The host page is served by a tiny http.server on loopback, addressed as
`localhost` while the status site is `127.0.0.1`: another origin and
another site, as a municipality's page embedding the utility's widget is.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections
from django.utils import timezone

from outages import services
from outages.models import IncidentStatus
from tests import factories
from tests.conftest import free_port

UPDATE_DEADLINE_MS = 2000


def off_loop(function, *args, **kwargs):
    """Run ORM work (set-up, posting an update) in a plain thread: Playwright's
    sync API keeps an event loop in this one, where Django refuses sync ORM calls."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def host_site(tmp_path):
    """Serve HTML pages from another origin: host_site({"name.html": html}) -> base URL."""
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def publish(pages: dict[str, str]) -> str:
        for name, html in pages.items():
            (tmp_path / name).write_text(html, encoding="utf-8")
        return f"http://localhost:{port}"

    yield publish
    httpd.shutdown()
    httpd.server_close()


def host_page(body: str) -> str:
    return f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Town hall</title></head><body><h1>Town hall</h1>{body}</body></html>"


def widget_frame(page, path_start: str):
    """The frame of the page whose URL contains path_start, once it exists."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for frame in page.frames:
            if path_start in frame.url:
                return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no frame for {path_start}; frames: {[f.url for f in page.frames]}")


def test_widget_on_another_site_renders_and_updates_live(server, browser, host_site):
    district = off_loop(factories.area, "District 5", slug="district-5")
    incident = off_loop(
        factories.incident, district, title="Cable cut on Andrássy út", cause="cable_cut", cause_detail="Road works"
    )
    base = host_site(
        {
            "index.html": host_page(
                f'<div data-area="{district.slug}"></div>'
                f'<iframe id="whole" src="{server.url}/embed/?theme=dark" title="Status" width="320" height="200"></iframe>'
                f'<script src="{server.url}/embed.js" async></script>'
            )
        }
    )
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto(base + "/index.html")

    frame = widget_frame(page, f"/embed/areas/{district.slug}/")
    frame.wait_for_selector("#live[data-state=live]", timeout=10000)
    card = frame.locator(f"#area-status-{district.slug}")
    assert "Partial outage" in card.inner_text()
    assert "Cable cut on Andrássy út" in card.inner_text() and "Road works" in card.inner_text()
    assert "Expected fix" in card.inner_text()
    assert "Last updated" in frame.locator("#last-updated").inner_text()
    link = frame.locator("a.widget__full")
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener"

    whole = widget_frame(page, "/embed/?theme=dark")
    whole.wait_for_selector("#live[data-state=live]", timeout=10000)
    assert "Outage in 1 area" in whole.locator("#banner").inner_text()
    assert whole.evaluate("getComputedStyle(document.body).colorScheme") == "dark"

    # An update posted meanwhile reaches the frame through the same socket.
    started = time.monotonic()
    off_loop(
        services.post_update,
        incident,
        status=IncidentStatus.IDENTIFIED,
        message="Crew on site",
        eta=timezone.now() + timedelta(hours=4),
    )
    frame.wait_for_function(
        "slug => document.getElementById('area-status-' + slug).innerText.includes('Crew on site')",
        arg=district.slug,
        timeout=UPDATE_DEADLINE_MS,
    )
    assert (time.monotonic() - started) * 1000 < UPDATE_DEADLINE_MS
    assert "Identified" in card.inner_text()
    # The whole-service widget lists incidents compactly (the message is on the incident's page).
    whole.wait_for_function(
        "document.getElementById('active-incidents').textContent.includes('Crew on site')", timeout=UPDATE_DEADLINE_MS
    )

    # /embed.js keeps the frame as tall as the widget's content: no scrollbars.
    deadline = time.monotonic() + 2
    while True:
        frame_height = page.evaluate("document.querySelector('div[data-area] iframe').getBoundingClientRect().height")
        content_height = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        if abs(frame_height - content_height) <= 1 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(50)
    assert abs(frame_height - content_height) <= 1, (frame_height, content_height)
    assert frame_height > 160  # grew from the initial height to fit the incident card
    assert frame.evaluate("document.documentElement.scrollHeight <= document.documentElement.clientHeight")
    assert frame.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # Nothing was stored: the widget works with third-party cookies blocked.
    assert context.cookies() == []
    context.close()


def test_embed_js_ignores_height_messages_from_other_origins(server, browser, host_site):
    district = off_loop(factories.area, slug="district-6")
    base = host_site(
        {
            "index.html": host_page(
                f'<div data-area="{district.slug}"></div><script src="{server.url}/embed.js"></script>'
            )
        }
    )
    page = browser.new_page()
    page.goto(base + "/index.html")
    frame = widget_frame(page, "/embed/areas/district-6/")
    frame.wait_for_selector("#live[data-state=live]", timeout=10000)
    page.wait_for_timeout(200)
    before = page.evaluate("document.querySelector('div[data-area] iframe').style.height")
    # The host page itself (another origin than the widget's) posts a height.
    page.evaluate("window.postMessage({type: 'status-widget:height', height: 3333}, '*')")
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelector('div[data-area] iframe').style.height") == before != "3333px"


@pytest.mark.parametrize("compact", ["1", "0"])
def test_widget_fits_a_280_pixel_wide_frame_without_scrollbars(server, browser, host_site, compact):
    # The area's clock reads daytime whenever the suite runs, so an ETA two hours
    # on falls the same day. One past midnight is written with its date: a longer
    # line, 2 px over a bare 400 px frame (embed.js sizes the frame to what the
    # widget reports).
    district = off_loop(factories.area, "District 13", slug="district-13", time_zone=factories.daytime_zone())
    off_loop(
        factories.incident,
        district,
        title="Fiber cut near the Árpád bridge",
        cause="cable_cut",
        cause_detail="Excavator",
        eta_in=timedelta(hours=2),
    )
    height = 100 if compact == "1" else 400
    base = host_site(
        {
            "index.html": host_page(
                f'<iframe src="{server.url}/embed/areas/{district.slug}/?compact={compact}" title="Status" '
                f'width="280" height="{height}"></iframe>'
            )
        }
    )
    page = browser.new_page()
    page.goto(base + "/index.html")
    frame = widget_frame(page, "/embed/areas/district-13/")
    frame.wait_for_selector("#live[data-state=live]", timeout=10000)
    sizes = frame.evaluate(
        """() => ({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
                  natural: Math.ceil(document.body.getBoundingClientRect().height)})"""
    )
    assert sizes["cw"] == 280 and sizes["sw"] <= sizes["cw"], sizes
    assert sizes["natural"] <= height, sizes
    text = frame.locator("body").inner_text()
    assert "Partial outage" in text and "Fiber cut near the Árpád bridge" in text and "Excavator" in text


def framing_refusals(page) -> list[str]:
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "frame-ancestors" in message.text else None)
    return refusals


def test_a_non_embed_page_in_an_iframe_is_blocked(server, browser, host_site):
    district = off_loop(factories.area, "District 7", slug="district-7")
    base = host_site(
        {
            "index.html": host_page(
                f'<iframe src="{server.url}/areas/{district.slug}/" title="Full page"></iframe>'
                f'<iframe src="{server.url}/embed/areas/{district.slug}/" title="Widget"></iframe>'
            )
        }
    )
    page = browser.new_page()
    refusals = framing_refusals(page)
    page.goto(base + "/index.html")
    widget = widget_frame(page, "/embed/areas/district-7/")
    widget.wait_for_selector("#live[data-state=live]", timeout=10000)
    # The widget beside it loads; the full page is replaced by Chromium's error page.
    assert "District 7" in widget.locator("body").inner_text()
    full_page = page.frames[1]
    assert full_page.url.startswith("chrome-error://"), full_page.url
    assert [text for text in refusals if f"{server.url}/" in text and "frame-ancestors 'none'" in text]


def test_widget_is_blocked_where_its_origin_is_not_allowed(make_server, browser, host_site):
    server = make_server(EMBED_ALLOWED_ORIGINS="https://town.example")
    district = off_loop(factories.area, "District 8", slug="district-8")
    base = host_site(
        {"index.html": host_page(f'<iframe src="{server.url}/embed/areas/{district.slug}/" title="Status"></iframe>')}
    )
    page = browser.new_page()
    refusals = framing_refusals(page)
    page.goto(base + "/index.html")
    page.wait_for_timeout(1000)
    assert page.frames[1].url.startswith("chrome-error://"), page.frames[1].url
    assert [text for text in refusals if "frame-ancestors https://town.example" in text]
