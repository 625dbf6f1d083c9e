"""Customer reports in a real browser: the admin's live list of unusual areas
and the htmx report form, on a real daphne under the strict CSP."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections

from outages.models import Problem, ProblemReport, ReportSettings
from outages.services import problem_reports
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def csp_violations(page) -> list[str]:
    messages: list[str] = []
    page.on(
        "console", lambda message: messages.append(message.text) if "Content Security Policy" in message.text else None
    )
    return messages


@pytest.fixture
def orm_beside_playwright(server, monkeypatch):
    """Playwright's sync API runs an event loop in this thread; the test's own
    ORM calls are plain synchronous ones. Set after the server started, so
    daphne runs with Django's async-safety checks on. The test's queries may
    open their own connection there: close it, or PostgreSQL cannot drop
    the test database at the end."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield
    connections.close_all()


def test_admin_page_shows_a_new_hot_area_without_reloading(browser, server, orm_beside_playwright, django_user_model):
    # The server runs the production hashers (the tests' MD5 one is not among them).
    password = PBKDF2PasswordHasher().encode("correct horse", "browser-test-salt", iterations=1000)
    django_user_model.objects.create(username="ops", password=password, is_staff=True, is_superuser=True)
    ReportSettings(hot_min_sources=3).save()
    district = factories.area("District 5")
    fiber = factories.service("Fiber")
    page = browser.new_page()
    violations = csp_violations(page)
    page.goto(f"{server.url}/admin/login/?next=/admin/outages/problemreport/hot/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "correct horse")
    page.click("input[type=submit]")
    page.wait_for_selector("#hot-areas")
    assert "No area has unusual report activity right now." in page.inner_text("#hot-areas")
    page.evaluate("window.notReloaded = true")

    for n in range(3):
        problem_reports.submit(
            area=district,
            service=fiber,
            problem=Problem.NO_SERVICE,
            source=problem_reports.Source(client=f"c{n}", browser=f"b{n}"),
        )

    row = page.wait_for_selector(f"#hot-area-{district.slug}", timeout=25_000)  # polled every 10 s
    assert "District 5" in row.inner_text() and "Fiber (3)" in row.inner_text()
    assert page.evaluate("window.notReloaded") is True
    assert violations == []

    page.click(f"#hot-area-{district.slug} button")
    page.wait_for_url("**/admin/outages/incident/*/change/")
    incident = district.incidents.get()
    assert incident.problem_reports.count() == 3


def test_report_form_answers_in_place_with_htmx_and_shows_refusals(browser, server, orm_beside_playwright):
    district = factories.area("District 5", postcodes="1051")
    fiber = factories.service("Fiber")
    factories.incident(district, title="Cable cut", services=[fiber])
    mobile = factories.service("Mobile")
    page = browser.new_page()
    violations = csp_violations(page)
    page.goto(f"{server.url}/areas/{district.slug}/")
    page.evaluate("window.notReloaded = true")

    page.select_option("#report-service", str(fiber.pk))
    page.check("#report-problem_0")
    page.click("#report button[type=submit]")
    page.wait_for_selector("#report-result >> text=We know about this")
    assert "Cable cut" in page.inner_text("#report-result")
    assert page.get_attribute("#report-result a[href^='/subscribe/']", "href") == f"/subscribe/?area={district.slug}"
    # The form gave way to the answer; it comes back for another report.
    assert page.locator("[data-report-form]").is_hidden()
    assert page.evaluate("document.activeElement.matches('[data-report-done]')")
    page.click("[data-report-again]")
    assert page.locator("[data-report-form]").is_visible()

    page.select_option("#report-service", str(mobile.pk))
    page.fill("#report-postcode", "9999")
    page.click("#report button[type=submit]")
    page.wait_for_selector("#report-result >> text=9999 is not in District 5")  # a 400, swapped all the same

    page.fill("#report-postcode", "1051")
    page.click("#report button[type=submit]")
    page.wait_for_selector("#report-result >> text=We have your report")
    assert page.locator("[data-report-form]").is_hidden()
    assert page.evaluate("window.notReloaded") is True
    assert violations == []
    assert ProblemReport.objects.count() == 2
