"""In real headless Chromium: pages update live, reconnect and resync."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from outages.models import IncidentStatus
from tests import factories
from tests.conftest import create_server_operator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _local_input(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_area_page_shows_an_update_posted_in_the_admin_within_two_seconds_and_survives_a_restart(server, browser):
    district = factories.area("District 5", slug="district-5", time_zone="Europe/Budapest")
    incident = factories.incident(district, title="Cable cut", eta_in=timedelta(hours=2))
    create_server_operator()

    customer = browser.new_context().new_page()
    errors = []
    customer.on("pageerror", lambda error: errors.append(str(error)))
    # A CSP violation is only a console message: collect those too.
    customer.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    customer.goto(f"{server.url}/areas/district-5/")
    customer.wait_for_selector("#live[data-state=live]", timeout=10_000)

    # An operator, in another browser context, posts a new ETA through the admin.
    operator = browser.new_context().new_page()
    operator.goto(f"{server.url}/admin/login/?next=/admin/outages/incident/{incident.pk}/change/")
    operator.fill("#id_username", "ops")
    operator.fill("#id_password", "pw-for-tests")
    operator.click("input[type=submit]")
    operator.wait_for_selector("#id_update_message")
    new_eta = timezone.now() + timedelta(hours=5, minutes=30)
    operator.select_option("#id_update_status", "identified")
    operator.fill("#id_update_message", "Crew on site, splicing the cable")
    operator.fill("#id_update_eta", _local_input(new_eta))
    operator.click("button[name=_post_update]")
    operator.wait_for_selector(".messagelist .success")
    saved_at = time.monotonic()

    expected = timezone.localtime(new_eta, district.tzinfo).strftime("%H:%M")
    card = customer.locator("#area-status-district-5")
    card.get_by_text("Crew on site, splicing the cable").wait_for(timeout=2_000)
    assert expected in card.inner_text()
    assert time.monotonic() - saved_at < 2.0
    assert customer.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload

    # The server restarts; a change made while it is down shows after the page reconnects.
    server.stop()
    customer.wait_for_selector("#live[data-state=reconnecting], #live[data-state=polling]", timeout=10_000)
    services.post_update(incident, status=IncidentStatus.MONITORING, message="Fixed while you were away")
    server.start()
    customer.locator("#area-status-district-5").get_by_text("Fixed while you were away").wait_for(timeout=30_000)
    customer.wait_for_selector("#live[data-state=live]", timeout=10_000)
    assert customer.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert errors == []


def test_page_falls_back_to_polling_when_websockets_cannot_connect(server, browser):
    district = factories.area("District 6", slug="district-6")
    incident = factories.incident(district, title="Storm damage")
    context = browser.new_context()
    # Websockets blocked (as by a hostile proxy): every connection attempt fails.
    context.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
    page = context.new_page()
    page.goto(f"{server.url}/areas/district-6/")
    assert "Storm damage" in page.inner_text("#area-status-district-6")
    # The page still works and says how it is being kept current.
    page.wait_for_selector("#live", timeout=5_000)
    page.wait_for_selector("#live[data-state=polling]", timeout=5_000)  # it started polling by itself
    services.resolve(incident, message="Repaired")
    # The server's page cache sees the change within its version poll
    # (LIVE_OUTBOX_POLL_SECONDS): a poll or two later the page has it.
    deadline = time.monotonic() + 5
    while not page.locator("#area-status-district-6").get_by_text("No known problems").count():
        assert time.monotonic() < deadline, page.inner_text("#area-status-district-6")
        page.evaluate("window.statusPage.poll()")
        page.wait_for_timeout(300)


def test_page_comes_back_by_itself_after_the_server_closes_its_socket(make_server, browser):
    # daphne closes every websocket after --websocket_timeout seconds, cleanly:
    # the htmx extension alone would not reconnect after such a close.
    server = make_server(daphne_args=["--websocket_timeout", "3"])
    district = factories.area("District 8", slug="district-8")
    incident = factories.incident(district, title="Exchange fault")
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/areas/district-8/")
    page.wait_for_selector("#live[data-state=live]", timeout=10_000)
    page.wait_for_selector("#live[data-state=reconnecting]", timeout=10_000)  # the server closed it
    page.wait_for_selector("#live[data-state=live]", timeout=15_000)  # and it came back
    services.post_update(incident, status=IncidentStatus.MONITORING, message="Back after the idle close")
    page.locator("#area-status-district-8").get_by_text("Back after the idle close").wait_for(timeout=5_000)


def test_clients_dropped_together_come_back_spread_over_seconds_not_at_once(server, browser):
    """The rule the page follows after its socket drops, sampled as 10,000
    pages would: the first try back within 6 s and no second holding more than
    a fifth of them; later tries spread wider, never past a minute."""
    factories.area("District 5", slug="district-5")
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/areas/district-5/")
    page.wait_for_selector("#live[data-state=live]", timeout=10_000)
    spread = page.evaluate(
        """() => {
          const delay = htmx.config.wsReconnectDelay;
          const first = Array.from({length: 10000}, () => delay(0));
          const perSecond = new Array(10).fill(0);
          first.forEach((ms) => { perSecond[Math.floor(ms / 1000)] += 1; });
          const later = Array.from({length: 2000}, () => delay(8));
          return {max: Math.max(...first), perSecond, laterMax: Math.max(...later), laterMean: later.reduce((a, b) => a + b) / 2000};
        }"""
    )
    assert spread["max"] < 6000
    assert max(spread["perSecond"]) <= 2000, spread["perSecond"]
    assert min(spread["perSecond"][:6]) >= 1300, spread["perSecond"]  # spread evenly, not bunched late
    assert spread["laterMax"] <= 60000 and spread["laterMean"] > 20000
