"""The customer pages as a customer sees them, in headless Chromium, at a
small phone (320x640), a phone (390x844) and a desktop (1280x800), in
English, Hungarian and Hebrew: the answer to "when is it back?" on the first
screen and large, nothing wider than the screen, controls big enough for a
finger, no accessibility violations (axe-core), and screenshots of every
page under artifacts/screenshots/ to look at."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from outages.models import Incident, IncidentStatus, ServiceArea
from tests import factories

from ..conftest import ROOT, axe_source, database_url_for_subprocess

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(320, 640), (390, 844), (1280, 800)]
LANGUAGES = ["en", "hu", "he"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AREA = "budapest-district-5"
PUBLIC_PAGES = {
    "home": "/",
    "area": f"/areas/{AREA}/",
    "incident": None,  # the demo's worst incident, filled in at run time
    "history": "/history/",
    "map": "/map/",
    "subscribe": f"/subscribe/?area={AREA}",
    "search": "/search/?q=district",
    "report": f"/areas/{AREA}/report/",
}

# Controls a finger must hit: every button, field, select, summary and the
# links that stand alone (navigation, call-to-action buttons); a radio or a
# checkbox is hit through its label. Links inside a sentence are exempt
# (WCAG 2.5.8 "inline").
SMALL_CONTROLS_JS = """() => {
  const selector = 'button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, summary,'
    + ' .site-nav a, a.button, label:has(> input[type=radio]), label:has(> input[type=checkbox])';
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;               // not rendered
    if (el.closest('[hidden], .visually-hidden')) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (box.width < 44 - 0.5 || box.height < 44 - 0.5)
      small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  return small;
}"""


@pytest.fixture
def demo(server, monkeypatch):
    """The demo data (31 areas, active outages with ETAs, 90 days of history)
    on the database the server reads."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    factories.seed_demo_unannounced()
    worst = Incident.objects.active().filter(incident_areas__area__slug=AREA).first()
    return {**PUBLIC_PAGES, "incident": f"/incidents/{worst.pk}/"}


def new_page(browser, *, language="en", size=(390, 844), **options):
    """A tab in a fresh context, and the list its page errors and CSP complaints go to."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        locale=language,
        extra_http_headers={"Accept-Language": language},
        **options,
    )
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    return page, problems


# The live box status.js drives: settled once it is no longer connecting.
SETTLED_JS = """() => document.readyState === 'complete' && document.fonts.status === 'loaded'
  && (document.getElementById('live') || {dataset: {}}).dataset.state !== 'connecting'"""


def visit(page, url: str, *, scripts: bool = True) -> None:
    """Load `url` and wait until it is as a visitor sees it: what "networkidle"
    waited for, without its half second of quiet after every load. Loaded
    (styles, scripts, images), fonts in, the live connection made (or given
    up: polling), and no request outstanding."""
    pending = set()
    listeners = {
        "request": lambda request: pending.add(request),
        "requestfinished": lambda request: pending.discard(request),
        "requestfailed": lambda request: pending.discard(request),
    }
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        page.goto(url)
        if scripts:
            page.wait_for_function(SETTLED_JS, timeout=10_000)
        deadline = time.monotonic() + 30
        while pending:
            assert time.monotonic() < deadline, f"{url}: requests still open: {[r.url for r in pending]}"
            page.wait_for_timeout(10)
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)


def open_page(browser, server, path, *, language="en", size=(390, 844), **options):
    page, problems = new_page(browser, language=language, size=size, **options)
    visit(page, server.url + path, scripts=options.get("java_script_enabled", True))
    return page, problems


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def check_area_first_screen(page, size):
    facts = page.evaluate("""() => {
      const box = (selector) => { const r = document.querySelector(selector).getBoundingClientRect(); return [r.top, r.bottom]; };
      return {status: box('.hero__status'), answer: box('.hero__answer'), height: innerHeight,
              answerFont: parseFloat(getComputedStyle(document.querySelector('.hero__answer')).fontSize),
              bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
              answerText: document.querySelector('.hero__answer').innerText};
    }""")
    assert facts["status"][1] <= facts["height"] and facts["answer"][1] <= facts["height"], (size, facts)
    assert facts["answerFont"] >= 1.4 * facts["bodyFont"], (size, facts)
    return facts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_reads_well_at_three_sizes_with_no_accessibility_violation(server, demo, browser, language):
    axe = axe_source()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # One tab per language, each page loaded afresh at each size with no
    # cookies (the site keeps nothing else in the browser: no storage, no
    # service worker until a click).
    page, problems = new_page(browser, language=language)
    # axe-core in a context that lets the injected script run (the
    # pages' own policy forbids inline script, rightly).
    axe_page, _ = new_page(browser, language=language, bypass_csp=True)
    for name, path in demo.items():
        for size in SIZES:
            page.context.clear_cookies()
            page.set_viewport_size({"width": size[0], "height": size[1]})
            problems.clear()
            visit(page, server.url + path)
            assert page.evaluate("document.documentElement.lang") == language
            if language == "he":
                assert page.evaluate("document.documentElement.dir") == "rtl"
            if name == "area":
                facts = check_area_first_screen(page, size)
                assert facts["answerText"].strip(), facts
            assert horizontal_overflow(page) <= 0, (name, size, horizontal_overflow(page))
            small = page.evaluate(SMALL_CONTROLS_JS)
            assert small == [], (name, size, small)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}-{size[0]}x{size[1]}.png"), full_page=True)
            assert problems == [], (name, size, problems)
        axe_page.context.clear_cookies()
        visit(axe_page, server.url + path)
        axe_page.evaluate(axe)
        result = axe_page.evaluate(
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']})"
        )
        assert len(result["passes"]) > 10  # axe ran its rules on a real page
        violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:5]) for v in result["violations"]]
        assert violations == [], (name, language, violations)
    page.context.close()
    axe_page.context.close()


def test_english_area_page_answers_with_the_eta_in_words_and_a_real_time(server, demo, browser):
    page, _ = open_page(browser, server, f"/areas/{AREA}/")
    answer = page.inner_text(".hero__answer")
    assert "Back by" in answer and " — in " in answer, answer
    assert page.inner_text(".hero__moved").startswith("ETA moved from"), page.inner_text(".hero__moved")
    facts = page.inner_text(".hero__facts")
    assert "Cable cut by road works" in facts and "Crew on site" in facts and "2,600" in facts


def test_an_eta_change_from_the_command_line_shows_eta_moved_within_two_seconds(server, demo, browser):
    incident = Incident.objects.active().filter(incident_areas__area__slug=AREA).first()
    old = timezone.localtime(incident.eta, ServiceArea.objects.get(slug=AREA).tzinfo).strftime("%H:%M")
    new_eta = (timezone.now() + timedelta(hours=7)).replace(second=0, microsecond=0)
    new = timezone.localtime(new_eta, ServiceArea.objects.get(slug=AREA).tzinfo).strftime("%H:%M")
    pages = {}
    for name, path in [("area", f"/areas/{AREA}/"), ("home", "/"), ("incident", f"/incidents/{incident.pk}/")]:
        page, problems = open_page(browser, server, path)
        page.wait_for_selector("#live[data-state=live]", timeout=10_000)
        pages[name] = (page, problems)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "incident",
            "update",
            str(incident.pk),
            "--status",
            "identified",
            "--message",
            "The splice failed; a new cable is on its way",
            "--eta",
            new_eta.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    posted = time.monotonic()
    selector = {
        "area": ".hero__moved",
        "home": ".banner__moved",
        "incident": f"#incident-{incident.pk} .incident__moved",
    }
    for name, (page, problems) in pages.items():
        page.wait_for_function(
            "([selector, text]) => { const el = document.querySelector(selector); return el && el.textContent.includes(text); }",
            arg=[selector[name], new],  # "to 01:15" or, past midnight, "to Thu 3 Dec, 01:15"
            timeout=max(100, 2_000 - (time.monotonic() - posted) * 1000),
        )
        moved = page.inner_text(selector[name])
        assert moved.startswith("ETA moved from") and old in moved and new in moved, (name, moved)
        assert problems == []
    assert time.monotonic() - posted < 2.0 + 0.5  # the three waits together, polled in turn
    # The change is marked where it happened and said once, politely.
    area = pages["area"][0]
    assert area.locator(f"#area-status-{AREA}.live-changed").count() == 1
    announced = area.inner_text("#live-announcer")
    assert announced.startswith("Status updated") and "ETA moved from" in announced and old in announced, announced
    assert area.get_attribute("#live-announcer", "aria-live") == "polite"
    assert area.locator("[aria-live]").count() == 2  # the announcer and the report form's answer, nothing else


def test_under_reduced_motion_a_pushed_change_is_marked_without_animation(server, demo, browser):
    incident = Incident.objects.active().filter(incident_areas__area__slug=AREA).first()
    page, _ = open_page(browser, server, f"/areas/{AREA}/", reduced_motion="reduce")
    page.wait_for_selector("#live[data-state=live]", timeout=10_000)
    services.post_update(
        incident,
        status=IncidentStatus.IDENTIFIED,
        message="Reduced motion check",
        eta=timezone.now() + timedelta(hours=9),
    )
    page.wait_for_selector(f"#area-status-{AREA}.live-changed", timeout=5_000)
    assert page.evaluate(f"document.getElementById('area-status-{AREA}').getAnimations().length") == 0
    assert page.evaluate(f"getComputedStyle(document.getElementById('area-status-{AREA}')).outlineStyle") == "solid"

    moving, _ = open_page(browser, server, f"/areas/{AREA}/", reduced_motion="no-preference")
    moving.wait_for_selector("#live[data-state=live]", timeout=10_000)
    services.post_update(
        incident, status=IncidentStatus.IDENTIFIED, message="Motion check", eta=timezone.now() + timedelta(hours=10)
    )
    moving.wait_for_selector(f"#area-status-{AREA}.live-changed", timeout=5_000)
    assert moving.evaluate(f"document.getElementById('area-status-{AREA}').getAnimations().length") == 1


def test_with_websockets_blocked_the_page_polls_and_shows_a_real_last_updated_time(server, demo, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
    page = context.new_page()
    page.goto(f"{server.url}/areas/{AREA}/")
    page.wait_for_selector("#live[data-state=polling]", timeout=5_000)
    # The first poll happens at once when polling starts.
    page.wait_for_selector("#live[data-updated]", state="attached", timeout=5_000)
    text = page.inner_text("#live")
    assert "Refreshing every 30 s" in text, text
    clock = page.inner_text("#last-updated time")
    assert any(ch.isdigit() for ch in clock) and ":" in clock, text
    assert "Last updated" in page.inner_text("#last-updated")


def test_header_links_to_map_history_subscribe_and_search_and_the_site_has_an_icon(server, demo, browser):
    page, _ = open_page(browser, server, f"/areas/{AREA}/")
    links = page.eval_on_selector_all(".site-nav a", "links => links.map(a => a.getAttribute('href'))")
    # From an area page, Subscribe comes with that area chosen.
    assert links == ["/map/", "/history/", f"/subscribe/?area={AREA}", "/search/"]
    icon = page.request.get(server.url + "/favicon.ico")
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"
    manifest_url = page.get_attribute("link[rel=manifest]", "href")
    manifest = page.request.get(server.url + manifest_url).json()
    assert (
        manifest["name"]
        and manifest["theme_color"]
        and {"192x192", "512x512"} <= {i["sizes"] for i in manifest["icons"]}
    )
    for entry in manifest["icons"]:
        src = page.evaluate("([base, src]) => new URL(src, base).pathname", [server.url + manifest_url, entry["src"]])
        assert page.request.get(server.url + src).status == 200, src


def _signed_pages() -> dict[str, str]:
    """The pages a subscriber reaches from a message: confirm, manage, unsubscribe (signed links),
    and those a customer reaches after a request or a report."""
    from django.conf import settings
    from django.core import signing

    from outages.models import Channel, Problem, ProblemReport, Service, TeamContact
    from outages.notify import links as notify_links
    from outages.queries import callback_slots
    from outages.services import contact_requests, subscriptions
    from outages.views import report as report_views

    area = ServiceArea.objects.get(slug=AREA)
    subscriber = subscriptions.subscribe(
        channel=Channel.EMAIL, address="axe@example.com", areas=[area], language="en"
    ).subscriber
    pages = {"confirm": notify_links.link(subscriber, "confirm")}
    subscriptions.confirm(subscriber)
    pages["manage"] = notify_links.link(subscriber, "manage")
    pages["unsubscribe"] = notify_links.link(subscriber, "unsubscribe")
    # A callback's page (the area's team takes requests all day) and a problem report's answer.
    hours = {str(day): ["00:00", "23:59"] for day in range(7)}
    TeamContact.objects.update_or_create(team=callback_slots.team_for_area(area), defaults={"hours": hours})
    booked = contact_requests.book(area=area, kind="callback", phone="+36301234567", reason="No signal")
    pages["contact request"] = notify_links.contact_link(booked.request)
    report = ProblemReport.objects.create(area=area, service=Service.objects.first(), problem=Problem.NO_SERVICE)
    answer = signing.dumps({"r": report.pk, "f": False}, salt=report_views.ANSWER_SALT, compress=True)
    pages["report sent"] = f"{settings.SITE_URL}/areas/{AREA}/report/sent/?a={answer}"
    return {name: url.removeprefix(settings.SITE_URL) for name, url in pages.items()}


# Every other public page (the layout checks above cover the main ones at three sizes).
MORE_PUBLIC_PAGES = {
    "summary": "/summary/",
    "contact": f"/areas/{AREA}/contact/",
    "widget": "/embed/",
    "area widget": f"/embed/areas/{AREA}/",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_other_public_page_has_no_accessibility_violation(server, demo, browser, language):
    pages = {**MORE_PUBLIC_PAGES, **_signed_pages()}
    axe = axe_source()
    page, _ = new_page(browser, language=language, bypass_csp=True)
    for name, path in pages.items():
        separator = "&" if "?" in path else "?"
        page.context.clear_cookies()  # each page as a first visit
        visit(page, f"{server.url}{path}{separator}lang={language}")
        assert page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus") == 200, name
        assert page.evaluate("document.documentElement.lang") == language, name
        page.evaluate(axe)
        result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']})")
        assert len(result["passes"]) > 5, name
        violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:5]) for v in result["violations"]]
        assert violations == [], (name, language, violations)
    page.context.close()
