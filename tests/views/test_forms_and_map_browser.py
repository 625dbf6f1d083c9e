"""Forms that fit the hand, history and the map on a phone, in Chromium."""

import pytest

from outages.models import Incident
from tests import factories

from .test_customer_pages_browser import AREA, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    factories.seed_demo_unannounced()


def visible_fields(page):
    return page.eval_on_selector_all(
        "[data-channel]", "fields => fields.filter(f => f.offsetParent).map(f => f.dataset.channel)"
    )


def test_subscribe_shows_only_the_chosen_channels_field_with_the_right_keyboard(server, demo, browser):
    page, problems = open_page(browser, server, f"/subscribe/?area={AREA}")
    assert visible_fields(page) == ["email"]
    assert (
        page.get_attribute("#id_email", "type") == "email"
        and page.get_attribute("#id_email", "autocomplete") == "email"
    )
    page.check("input[name=channel][value=sms]")
    assert visible_fields(page) == ["sms"]
    assert page.get_attribute("#id_phone", "type") == "tel" and page.get_attribute("#id_phone", "autocomplete") == "tel"
    page.check("input[name=channel][value=webhook]")
    assert visible_fields(page) == ["webhook"] and page.get_attribute("#id_url", "type") == "url"
    # The area the reader came from is chosen; the long list can be filtered (accents optional).
    assert page.is_checked(f"#id_areas input[value={AREA}]")
    page.fill("[data-area-filter]", "godollo")
    shown = page.eval_on_selector_all("#id_areas input", "boxes => boxes.filter(b => b.offsetParent).map(b => b.value)")
    assert sorted(shown) == sorted([AREA, "godollo"])
    assert problems == []


def test_without_javascript_subscribe_shows_every_field(server, demo, browser):
    page, _ = open_page(browser, server, "/subscribe/", java_script_enabled=False)
    assert visible_fields(page) == ["email", "sms", "webhook"]
    assert not page.is_visible("[data-area-filter]")


def test_without_javascript_a_sent_report_shows_the_answer_instead_of_the_form(server, demo, browser):
    page, _ = open_page(browser, server, "/areas/godollo/", java_script_enabled=False)
    page.select_option("#report-service", index=1)
    page.check("#report-problem_0")
    page.click("#report button[type=submit]")
    page.wait_for_selector("[data-report-done]")
    assert not page.is_visible("[data-report-form]")
    assert "Report another problem" in page.inner_text("[data-report-done]")


def test_history_shows_all_ninety_days_at_320_and_their_tips_stay_on_screen(server, demo, browser):
    page, _ = open_page(browser, server, f"/areas/{AREA}/", size=(320, 640))
    widths = page.eval_on_selector_all(".days .day", "days => days.map(d => d.getBoundingClientRect().width)")
    assert len(widths) == 90 and min(widths) >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    for index in (0, 44, 45, 89):
        day = page.locator(".days .day").nth(index)
        day.focus()
        box = page.evaluate(
            f"document.querySelectorAll('.days .day')[{index}].querySelector('.day__tip').getBoundingClientRect().toJSON()"
        )
        assert box["left"] >= 0 and box["right"] <= 320 and box["width"] > 100, (index, box)


def test_the_map_on_a_phone_is_full_width_opens_on_the_worst_outage_and_paints_it_strongest(server, demo, browser):
    page, problems = open_page(browser, server, "/map/", size=(390, 844))
    page.wait_for_selector("#map[data-drawn]")
    assert page.evaluate("document.getElementById('map').getBoundingClientRect().width") == 390
    view = [float(n) for n in page.get_attribute("#map-svg", "viewBox").split()]
    page.click("[data-map-fit=all]")
    full = [float(n) for n in page.get_attribute("#map-svg", "viewBox").split()]
    assert view[2] < full[2] / 3  # the first view is closer than all areas
    opacity = {
        status: float(page.evaluate(f"getComputedStyle(document.querySelector('.pat--{status} .pat__bg')).fillOpacity"))
        for status in ["major_outage", "partial_outage", "degraded_performance", "operational"]
    }
    assert (
        opacity["major_outage"] > opacity["partial_outage"] > opacity["degraded_performance"] > opacity["operational"]
    )
    assert page.locator(".map-legend li").count() == 5
    names = page.eval_on_selector_all(
        ".map-name", "names => names.filter(n => n.getAttribute('visibility') === 'visible').length"
    )
    assert names > 0
    assert Incident.objects.active().exists() and problems == []
