"""In real headless Chromium: the operator's path through the console at 3 a.m.

From the incident list, an update with "+2 h" in three clicks and no
scrolling at 1280x800; the confirmation names the open pages and the
subscribers being told; the public page shows the new ETA within 2 s.
Screenshots of every console page at 1280 and 1024 px go to
artifacts/screenshots/, and axe-core finds no violations on them.
"""

import time

import pytest

from outages.models import Incident
from tests.conftest import create_server_operator

from .console_pages import SCREENSHOTS, WIDTHS, axe_violations, describe, no_sideways_scroll, sign_in, storm_night

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_posts_plus_two_hours_in_three_clicks_and_customers_see_it_within_two_seconds(server, browser):
    night = storm_night()
    incident = night["main"]
    create_server_operator()

    customer = browser.new_context().new_page()
    customer.goto(f"{server.url}/areas/district-5/")
    customer.wait_for_selector("#live[data-state=live]", timeout=10_000)
    time.sleep(1.5)  # the relay records its clients in the census once a second

    operator = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors = []
    operator.on("pageerror", lambda error: errors.append(str(error)))
    operator.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(operator, server)
    clicks = 0

    operator.get_by_role("link", name=incident.title).click()
    clicks += 1
    operator.wait_for_selector("button[name=_post_update]")
    assert operator.evaluate("window.scrollY") == 0
    # What customers see now comes first, then the form with its button, all in view.
    assert (
        operator.locator(".console-now").bounding_box()["y"] < operator.locator(".console-update").bounding_box()["y"]
    )
    box = operator.locator("button[name=_post_update]").bounding_box()
    assert box["y"] + box["height"] <= 800, box
    chip = operator.locator("label.console-chip", has_text="+2 h")
    chip_box = chip.bounding_box()
    assert chip_box["y"] + chip_box["height"] <= 800

    chip.click()
    clicks += 1
    assert "in 2 h" in operator.inner_text("#console-eta-words")
    assert operator.evaluate("window.scrollY") == 0
    operator.click("button[name=_post_update]")
    clicks += 1
    posted_at = time.monotonic()
    assert clicks <= 3

    message = operator.locator(".messagelist .success").inner_text()
    assert "Update posted. Showing now on 1 open page;" in message
    assert "6 subscribers are being told (email 3, SMS 2, webhooks 1)" in message
    assert operator.get_by_role("link", name="Delivery log").count() == 1

    incident.refresh_from_db()
    expected = incident.eta.astimezone(night["district"].tzinfo).strftime("%H:%M")
    card = customer.locator("#area-status-district-5")
    card.get_by_text(expected).first.wait_for(timeout=2_000)
    assert time.monotonic() - posted_at < 2.0
    assert errors == []


def _shoot(page, name, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}-{width}.png"))


def test_console_pages_fit_and_have_no_axe_violations_at_1280_and_1024(server, browser):
    night = storm_night()
    create_server_operator()
    resolved = night["resolved"]
    main = night["main"]
    pages = {
        "incident-list": "/admin/outages/incident/",
        "incident-page": f"/admin/outages/incident/{main.pk}/change/",
        "resolved-incident": f"/admin/outages/incident/{resolved.pk}/change/",
        "reopen-incident": f"/admin/outages/incident/{resolved.pk}/change/?reopen=1",
        "overdue-queue": "/admin/outages/incident/?promise=overdue",
        "reports-queue": "/admin/outages/problemreport/",
        "delivery-log": "/admin/outages/delivery/",
    }
    found = {}
    for width, height in WIDTHS:
        page = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True).new_page()
        sign_in(page, server)
        for name, path in pages.items():
            page.goto(server.url + path)
            _shoot(page, name, width)
            assert no_sideways_scroll(page), f"{name} scrolls sideways at {width} px"
            violations = axe_violations(page)
            if violations:
                found[f"{name}@{width}"] = violations
        # The update just posted, and the bulk update's confirmation page.
        page.goto(server.url + pages["incident-page"])
        page.locator("label.console-chip", has_text="+1 h").click()
        page.click("button[name=_post_update]")
        page.wait_for_selector(".messagelist .success")
        _shoot(page, "update-posted", width)
        violations = axe_violations(page)
        if violations:
            found[f"update-posted@{width}"] = violations
        page.goto(server.url + pages["incident-list"])
        for incident in night["incidents"][:3]:
            page.check(f"input[name=_selected_action][value='{incident.pk}']")
        page.select_option("select[name=action]", "post_update_selected")
        page.click("button[name=index]")
        page.wait_for_selector("table.console-bulk")
        _shoot(page, "bulk-update", width)
        assert no_sideways_scroll(page)
        violations = axe_violations(page)
        if violations:
            found[f"bulk-update@{width}"] = violations
        page.context.close()
    assert found == {}, describe(found)


def test_keyboard_slash_searches_and_arrows_and_enter_open_an_incident(server, browser):
    storm_night()
    create_server_operator()
    page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    sign_in(page, server)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "searchbar"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    # The link's first line is the title; missing translations are noted under it.
    second = page.evaluate("document.activeElement.innerText.split('\\n')[0]")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.innerText.split('\\n')[0]") == second
    page.keyboard.press("Enter")
    page.wait_for_url("**/change/")
    assert page.inner_text("h1") == second
    assert Incident.objects.filter(title=second).exists()
