"""In real headless Chromium, the whole journey of a callback: a customer books
one on their area page, a team member sees it appear in the queue without
reloading, marks it called, and the customer's request page shows "Called"
without reloading either."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from outages import permissions
from outages.models import ContactRequest, ContactState, Team, TeamContact, TeamRegion
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALWAYS_OPEN = {str(day): ["00:00", "23:59"] for day in range(7)}


def team_member(team, username="ops", password="pw-for-tests"):
    user = get_user_model().objects.create_user(username, is_staff=True)
    user.password = make_password(password, hasher="pbkdf2_sha256")  # what the server process checks
    user.save(update_fields=["password"])
    user.groups.add(permissions.operator_group())
    team.members.add(user)
    return user


def test_a_callback_booked_on_the_area_page_shows_in_the_queue_and_called_on_the_customers_page(server, browser):
    region = factories.region("Budapest", slug="budapest")
    factories.area("District 5", region_obj=region, slug="district-5", time_zone="Europe/Budapest")
    team = Team.objects.create(name="Budapest crew", public_name="Budapest Network Team")
    TeamRegion.objects.create(team=team, region=region)
    TeamContact.objects.create(team=team, hours=ALWAYS_OPEN, callbacks_per_hour=4, intro="Districts 5 to 9.")
    team_member(team)
    errors = []

    operator = browser.new_context().new_page()
    operator.on("pageerror", lambda error: errors.append(str(error)))
    operator.goto(f"{server.url}/admin/login/?next=/admin/outages/contactrequest/queue/")
    operator.fill("#id_username", "ops")
    operator.fill("#id_password", "pw-for-tests")
    operator.click("input[type=submit]")
    operator.wait_for_url("**/admin/outages/contactrequest/queue/")
    assert "Nobody is waiting." in operator.inner_text("#contact-queue")
    operator.evaluate("window.stayedOnPage = true")

    customer = browser.new_context().new_page()
    customer.on("pageerror", lambda error: errors.append(str(error)))
    customer.goto(f"{server.url}/areas/district-5/")
    customer.get_by_role("link", name="Call me back").click()
    customer.wait_for_url("**/areas/district-5/contact/")
    customer.fill("#contact-phone", "+36 30 123 4567")
    customer.fill("#contact-reason", "No signal since noon")
    customer.click("[data-contact-form] button[type=submit]")
    customer.wait_for_url("**/contact/requests/**")
    assert "Budapest Network Team will call you by" in customer.inner_text("[data-promise]")
    customer.evaluate("window.stayedOnPage = true")
    request = ContactRequest.objects.get()

    row = operator.locator(f"#contact-request-{request.pk}")
    row.wait_for(timeout=15_000)
    assert "No signal since noon" in row.inner_text() and "District 5" in row.inner_text()
    assert operator.evaluate("window.stayedOnPage") is True  # appeared without a reload

    row.get_by_role("button", name="Take").click()
    operator.wait_for_url("**/admin/outages/contactrequest/queue/")
    operator.locator(f"#contact-request-{request.pk} a").click()
    operator.wait_for_url(f"**/admin/outages/contactrequest/queue/{request.pk}/")
    operator.select_option("#outcome", "resolved")
    operator.get_by_role("button", name="Mark called").click()
    operator.wait_for_selector(".contact-request[data-state=called]")
    request.refresh_from_db()
    assert request.state == ContactState.CALLED

    customer.wait_for_selector("#request-state[data-request-state=called]", timeout=15_000)
    assert "State: Called" in customer.inner_text("[data-state]")
    assert customer.evaluate("window.stayedOnPage") is True  # no reload
    assert not errors, errors
