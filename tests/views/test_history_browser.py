"""The day bars in a real browser: hover and keyboard show each day's text,
under the strict CSP (no inline style or script)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def outage(transactional_db):
    """Made before the browser starts: Playwright's sync API runs an event loop."""
    district = factories.area("District 5", time_zone="Europe/Budapest")
    # Noon three days ago in the area: the 95 minutes never cross its midnight.
    started = (timezone.localtime(timezone.now(), district.tzinfo) - timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    incident = services.open_incident(title="Cable cut", areas=[district], started_at=started)
    services.resolve(incident, at=started + timedelta(minutes=95))
    return district, timezone.localtime(started, district.tzinfo).date().isoformat()


def test_day_bars_show_their_text_on_hover_and_keyboard_focus(server, outage, browser):
    district, outage_day = outage

    page = browser.new_page(viewport={"width": 1000, "height": 800})
    csp_errors = []
    page.on("console", lambda message: "Content Security Policy" in message.text and csp_errors.append(message.text))
    page.goto(f"{server.url}/areas/{district.slug}/")
    days = page.locator(".days .day")
    assert days.count() == 90

    # Hover: the day's text appears next to the bar.
    bar = page.locator(f'.day[data-day="{outage_day}"]')
    assert bar.evaluate("el => getComputedStyle(el).backgroundColor") != days.first.evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    bar.hover()
    tip = bar.locator(".day__tip")
    assert "95 minutes of outage" in tip.inner_text()
    assert tip.bounding_box()["width"] > 100

    # Keyboard: one tab stop for the row (today), arrows move between days.
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('day')"):
            break
    focused = page.evaluate("document.activeElement.dataset.day")
    assert focused == timezone.localtime(timezone.now(), district.tzinfo).date().isoformat()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.day") == outage_day
    focused_tip = page.locator(f'.day[data-day="{outage_day}"] .day__tip')
    assert focused_tip.bounding_box()["width"] > 100
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.dataset.day") == days.first.get_attribute("data-day")
    # Tab leaves the row at once rather than walking through 90 days.
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.classList.contains('day')")
    assert csp_errors == []
