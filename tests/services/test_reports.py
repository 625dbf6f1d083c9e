"""Customer problem reports: the form, the answer, folding, limits, the notice
and what ops see first."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import jobs, services
from outages.live import groups
from outages.models import Impact, LiveChange, Problem, ProblemReport, ReportSettings
from outages.queries import current
from outages.queries import problem_reports as report_counts
from outages.services import problem_reports
from tests import factories

pytestmark = pytest.mark.django_db
NOTICE = "Several customers reported problems here in the last 15 minutes"


def post_report(client, area, chosen, *, ip="10.0.0.1", agent="Firefox", htmx=False, **data):
    fields = {"service": chosen.pk, "problem": Problem.NO_SERVICE, "postcode": "", **data}
    headers = {"User-Agent": agent}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(f"/areas/{area.slug}/report/", fields, headers=headers, REMOTE_ADDR=ip)


def report_from(area, service, ip: str, *, agent="Firefox", problem=Problem.NO_SERVICE, now=None):
    """A report straight through problem_reports.submit, as the view takes it from this address."""
    request = Client().get("/healthz").wsgi_request
    request.META.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    now = now or timezone.now()
    return problem_reports.submit(
        area=area, service=service, problem=problem, source=problem_reports.source_for(request, now), now=now
    )


def reports_from_distinct_sources(area, service, count: int, *, now=None, start=0):
    for n in range(start, start + count):
        source = problem_reports.Source(client=f"client-{n}", browser=f"browser-{n}")
        problem_reports.submit(area=area, service=service, problem=Problem.NO_SERVICE, source=source, now=now)


def set_thresholds(**fields):
    config = ReportSettings.load()
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()


# The form and the answer ------------------------------------------------------


def test_area_page_offers_the_report_form_with_htmx_and_no_csrf_token(client):
    district = factories.area("District 5")
    factories.service("Fiber internet")
    text = client.get(f"/areas/{district.slug}/").text
    assert 'id="report"' in text and "Report a problem" in text
    # The page is cached for everyone: the form is guarded by origin instead (test_pagecache.py).
    assert "csrfmiddlewaretoken" not in text
    assert f'method="post" action="/areas/{district.slug}/report/"' in text
    assert f'hx-post="/areas/{district.slug}/report/"' in text and 'hx-target="#report-result"' in text
    assert "Fiber internet" in text and "Comes and goes" in text and "postal-code" in text
    assert "<script>" not in text and not re.search(r"<[^>]*\sstyle=", text)  # no inline style attribute


def test_report_without_javascript_is_stored_then_redirected_to_its_answer(client):
    district = factories.area("District 5", postcodes="1051")
    fiber = factories.service()
    response = post_report(client, district, fiber, postcode="10 51")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/areas/{district.slug}/report/sent/?a=")
    report = ProblemReport.objects.get()
    assert (report.area, report.service, report.problem, report.postcode, report.incident) == (
        district,
        fiber,
        Problem.NO_SERVICE,
        "1051",
        None,
    )
    answer = client.get(response["Location"])
    assert answer.status_code == 200
    assert "Thank you" in answer.text and "We have your report" in answer.text
    assert f"/subscribe/?area={district.slug}" in answer.text


def test_report_keeps_no_address_only_salted_hashes(client):
    district = factories.area()
    post_report(client, district, factories.service(), ip="203.0.113.77", agent="Mozilla/5.0 Secret")
    report = ProblemReport.objects.get()
    stored = " ".join(str(value) for value in ProblemReport.objects.values().get().values())
    assert "203.0.113" not in stored and "Secret" not in stored
    assert len(report.client) == 32 and len(report.browser) == 32 and report.client != report.browser


def test_answer_link_that_was_tampered_with_is_a_clear_400(client):
    district = factories.area()
    response = client.get(f"/areas/{district.slug}/report/sent/?a=forged")
    assert response.status_code == 400
    assert "expired or the link is not valid" in response.text


def test_known_incident_answers_we_know_with_eta_subscribe_offer_and_counts_the_report(client):
    district = factories.area("District 5", time_zone="Europe/Budapest")
    fiber = factories.service("Fiber internet")
    incident = factories.incident(district, title="Cable cut", services=[fiber], eta_in=timedelta(hours=3))
    response = post_report(client, district, fiber, htmx=True)
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text and 'id="report-result"' not in text  # the answer only, for #report-result
    assert "We know about this" in text and "Cable cut" in text
    assert timezone.localtime(incident.eta, district.tzinfo).strftime("%H:%M") in text
    assert f'href="/subscribe/?area={district.slug}"' in text
    assert "1 customer report so far" in text
    assert ProblemReport.objects.get().incident == incident
    assert incident.problem_reports.count() == 1


def test_incident_for_another_service_does_not_answer_for_this_one(client):
    district = factories.area()
    fiber, mobile = factories.service("Fiber"), factories.service("Mobile")
    factories.incident(district, services=[fiber])
    response = post_report(client, district, mobile, htmx=True)
    assert "We know about this" not in response.text
    assert ProblemReport.objects.get().incident is None


def test_incident_listing_no_service_covers_every_service_of_its_area(client):
    district, elsewhere = factories.area(), factories.area()
    mobile = factories.service("Mobile")
    incident = factories.incident(district)
    post_report(client, district, mobile, ip="10.0.0.1")
    post_report(client, elsewhere, mobile, ip="10.0.0.2")
    assert ProblemReport.objects.get(area=district).incident == incident
    assert ProblemReport.objects.get(area=elsewhere).incident is None


def test_resolved_incident_no_longer_answers(client):
    district = factories.area()
    fiber = factories.service()
    services.resolve(factories.incident(district, services=[fiber]))
    post_report(client, district, fiber)
    assert ProblemReport.objects.get().incident is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"service": ""}, "Choose the service that is not working."),
        ({"service": "999999"}, "Choose the service that is not working."),
        ({"problem": "on_fire"}, "Choose what is wrong."),
        ({"postcode": "9999"}, "9999 is not in District 5"),
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(client, data, message):
    district = factories.area("District 5", postcodes="1051")
    fiber = factories.service()
    for htmx in (False, True):
        response = post_report(client, district, fiber, htmx=htmx, **data)
        assert response.status_code == 400
        assert message in response.text
    assert not ProblemReport.objects.exists()


def test_report_from_another_site_is_refused():
    district = factories.area()
    client = Client(
        enforce_csrf_checks=True, headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    )
    response = post_report(client, district, factories.service())
    assert response.status_code == 403
    assert not ProblemReport.objects.exists()


def test_report_page_works_on_its_own_and_refuses_other_methods(client):
    district = factories.area("District 5")
    response = client.get(f"/areas/{district.slug}/report/")
    assert response.status_code == 200 and "Report a problem" in response.text
    assert client.put(f"/areas/{district.slug}/report/").status_code == 405
    assert client.get("/areas/atlantis/report/").status_code == 404


# Folding duplicates -----------------------------------------------------------


def test_same_browser_reporting_again_is_folded_into_its_first_report(client):
    district = factories.area()
    fiber = factories.service()
    post_report(client, district, fiber, problem=Problem.SLOW)
    response = post_report(client, district, fiber, problem=Problem.NO_SERVICE, htmx=True)
    assert response.status_code == 200 and "We already had your report" in response.text
    report = ProblemReport.objects.get()
    assert report.problem == Problem.NO_SERVICE  # the latest word wins, counted once


def test_other_browsers_other_services_and_later_reports_are_not_folded(client):
    district = factories.area()
    fiber, mobile = factories.service("Fiber"), factories.service("Mobile")
    post_report(client, district, fiber, agent="Firefox")
    post_report(client, district, fiber, agent="Chrome")  # same network, another browser
    post_report(client, district, mobile, agent="Firefox")  # same browser, another service
    assert ProblemReport.objects.count() == 3
    later = timezone.now() + problem_reports.FOLD_WINDOW + timedelta(minutes=1)
    source = ProblemReport.objects.filter(service=fiber).first()
    outcome = problem_reports.submit(
        area=district,
        service=fiber,
        problem=Problem.SLOW,
        source=problem_reports.Source(client=source.client, browser=source.browser),
        now=later,
    )
    assert not outcome.folded and ProblemReport.objects.count() == 4


def test_folded_report_is_taken_up_by_an_incident_opened_since(client):
    district = factories.area()
    fiber = factories.service()
    post_report(client, district, fiber)
    incident = factories.incident(district, services=[fiber])
    response = post_report(client, district, fiber, htmx=True)
    assert "We know about this" in response.text
    assert ProblemReport.objects.get().incident == incident


def test_sources_are_networks_hashed_with_a_daily_salt():
    def source(ip, agent="Firefox", now=None):
        request = Client().get("/healthz").wsgi_request
        request.META.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
        return problem_reports.source_for(request, now or timezone.now())

    # One IPv6 /64 is one household: rotating the low bits does not make new sources.
    assert source("2001:db8:1:2::1").client == source("2001:db8:1:2:ffff::9").client
    assert source("2001:db8:1:2::1").client != source("2001:db8:1:3::1").client
    assert source("::ffff:192.0.2.1").client == source("192.0.2.1").client
    assert source("192.0.2.1", "A").client == source("192.0.2.1", "B").client
    assert source("192.0.2.1", "A").browser != source("192.0.2.1", "B").browser
    tomorrow = timezone.now() + timedelta(days=1)
    assert source("192.0.2.1").client != source("192.0.2.1", now=tomorrow).client


# Rate limits ------------------------------------------------------------------


def test_one_source_over_its_limit_gets_a_clear_429_and_others_still_get_through(client, settings):
    settings.REPORT_RATE_PER_SOURCE = (2, 600)
    district = factories.area()
    fiber = factories.service()
    for agent in ["A", "B"]:
        assert post_report(client, district, fiber, agent=agent).status_code == 302
    refused = post_report(client, district, fiber, agent="C")
    assert refused.status_code == 429
    assert "You have sent several reports in a short time" in refused.text
    assert 0 < int(refused["Retry-After"]) <= 600
    refused_htmx = post_report(client, district, fiber, agent="D", htmx=True)
    assert refused_htmx.status_code == 429 and 'role="alert"' in refused_htmx.text
    assert "several reports in a short time" in refused_htmx.text
    assert post_report(client, district, fiber, ip="10.9.9.9").status_code == 302
    assert ProblemReport.objects.count() == 3


def test_an_area_over_its_limit_gets_429_while_other_areas_do_not(client, settings):
    settings.REPORT_RATE_PER_AREA = (3, 60)
    busy, quiet = factories.area("Busy"), factories.area("Quiet")
    fiber = factories.service()
    statuses = [post_report(client, busy, fiber, ip=f"10.0.0.{n}").status_code for n in range(1, 6)]
    assert statuses == [302, 302, 302, 429, 429]
    refused = post_report(client, busy, fiber, ip="10.0.0.99")
    assert "We are receiving many reports for Busy right now" in refused.text and refused["Retry-After"]
    assert post_report(client, quiet, fiber, ip="10.0.0.100").status_code == 302
    assert ProblemReport.objects.filter(area=busy).count() == 3


def test_rate_limit_window_passes():
    district = factories.area()
    source = problem_reports.Source(client="c", browser="b")
    now = timezone.now()
    limit, period = problem_reports.DEFAULT_RATE_PER_SOURCE
    for _ in range(limit):
        problem_reports.check_rate_limits(source, district, now)
    with pytest.raises(problem_reports.RateLimited) as refused:
        problem_reports.check_rate_limits(source, district, now)
    assert 0 < refused.value.retry_after <= period
    problem_reports.check_rate_limits(source, district, now + timedelta(seconds=period))


# The public notice ------------------------------------------------------------


def test_notice_shows_once_enough_distinct_sources_reported_in_15_minutes(client):
    set_thresholds(notice_min_sources=3)
    district = factories.area()
    fiber = factories.service()
    reports_from_distinct_sources(district, fiber, 2)
    assert NOTICE not in client.get(f"/areas/{district.slug}/").text
    reports_from_distinct_sources(district, fiber, 1, start=2)
    page = client.get(f"/areas/{district.slug}/").text
    assert NOTICE in page
    # Inside the status card, so the live push and the polling fallback carry it.
    card = page[page.index(f'id="area-status-{district.slug}"') :]
    assert card.index(NOTICE) < card.index("</section>")
    assert NOTICE in client.get(f"/ws/areas/{district.slug}/").text


def test_a_flood_from_one_source_does_not_raise_the_notice(client):
    set_thresholds(notice_min_sources=3)
    district = factories.area()
    fiber = factories.service()
    for n in range(30):  # one network, a new user agent each time: never folded, still one source
        report_from(district, fiber, "198.51.100.7", agent=f"bot-{n}")
    assert ProblemReport.objects.count() == 30
    assert not report_counts.notice_shown(district)
    assert NOTICE not in client.get(f"/areas/{district.slug}/").text


def test_notice_ignores_old_reports_and_reports_already_on_an_incident():
    set_thresholds(notice_min_sources=2)
    district = factories.area()
    fiber = factories.service()
    reports_from_distinct_sources(district, fiber, 2, now=timezone.now() - timedelta(minutes=16))
    assert not report_counts.notice_shown(district)
    reports_from_distinct_sources(district, fiber, 2, start=10)
    assert report_counts.notice_shown(district)
    ProblemReport.objects.update(incident=factories.incident(factories.area()))
    assert not report_counts.notice_shown(district)


def test_ops_can_turn_the_notice_off_with_zero():
    set_thresholds(notice_min_sources=0)
    district = factories.area()
    reports_from_distinct_sources(district, factories.service(), 10)
    assert not report_counts.notice_shown(district)


def test_notice_threshold_defaults_until_ops_save_it():
    assert not ReportSettings.objects.exists()
    assert ReportSettings.load().notice_min_sources == 5
    district = factories.area()
    fiber = factories.service()
    reports_from_distinct_sources(district, fiber, 4)
    assert not report_counts.notice_shown(district)
    reports_from_distinct_sources(district, fiber, 1, start=4)
    assert report_counts.notice_shown(district)


def test_the_report_that_crosses_the_threshold_pushes_the_notice_live(django_capture_on_commit_callbacks):
    set_thresholds(notice_min_sources=2)
    district = factories.area()
    fiber = factories.service()
    with django_capture_on_commit_callbacks(execute=True) as first:
        reports_from_distinct_sources(district, fiber, 1)
    assert not first and not LiveChange.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as second:
        reports_from_distinct_sources(district, fiber, 1, start=1)
    assert len(second) == 1
    change = LiveChange.objects.get()
    assert NOTICE in change.fragments[groups.area_group(district.slug)]["en"]
    with django_capture_on_commit_callbacks(execute=True) as third:
        reports_from_distinct_sources(district, fiber, 1, start=2)
    assert not third  # already showing: no push per report


def test_scheduler_pushes_the_notice_away_when_it_runs_out(django_capture_on_commit_callbacks):
    set_thresholds(notice_min_sources=2)
    district = factories.area()
    reports_from_distinct_sources(district, factories.service(), 2)

    def tick():
        with django_capture_on_commit_callbacks(execute=True):
            changed = jobs.refresh_report_notices(timezone.now())
        return changed

    assert tick() == 1  # first tick: shown now
    assert NOTICE in LiveChange.objects.latest("id").fragments[groups.area_group(district.slug)]["en"]
    assert tick() == 0  # nothing changed, nothing pushed
    ProblemReport.objects.update(created_at=timezone.now() - report_counts.WINDOW - timedelta(minutes=1))
    assert tick() == 1  # ran out
    assert LiveChange.objects.count() == 2
    assert NOTICE not in LiveChange.objects.latest("id").fragments[groups.area_group(district.slug)]["en"]


def test_area_page_query_count_does_not_grow_with_reports(client):
    district = factories.area()
    fiber = factories.service()
    factories.incident(district)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/areas/{district.slug}/").status_code == 200
        return len(captured)

    def snapshot_count():
        with CaptureQueriesContext(connection) as captured:
            current.area_snapshot(district)
        return len(captured)

    before, snapshot_before = count(), snapshot_count()
    reports_from_distinct_sources(district, fiber, 50)
    ProblemReport.objects.update(incident=None)
    assert count() == before and snapshot_count() == snapshot_before


# Unusual areas (what ops see first) --------------------------------------------


def test_quiet_area_is_hot_once_the_minimum_of_distinct_sources_report():
    set_thresholds(hot_min_sources=3, hot_factor=3)
    district = factories.area()
    fiber = factories.service()
    reports_from_distinct_sources(district, fiber, 2)
    assert report_counts.hot_areas() == []
    reports_from_distinct_sources(district, fiber, 1, start=2)
    [hot] = report_counts.hot_areas()
    assert (hot.area, hot.sources, hot.reports, hot.normal_rate) == (district, 3, 3, 0)
    assert hot.services == [(fiber.name, 3)] and hot.problems == [("No service at all", 3)]


def test_busy_area_is_hot_only_above_its_normal_rate():
    set_thresholds(hot_min_sources=3, hot_factor=3)
    busy = factories.area()
    fiber = factories.service()
    now = timezone.now()
    # Two reports per 15 minutes, every 15 minutes of the past week: its normal rate is 2.
    ProblemReport.objects.bulk_create(
        ProblemReport(
            area=busy,
            service=fiber,
            problem=Problem.SLOW,
            client=f"old-{n}",
            browser=f"old-{n}",
            created_at=now - timedelta(minutes=16 + 7.5 * n),
        )
        for n in range(int(report_counts.BASELINE_WINDOWS * 2) - 4)
    )
    reports_from_distinct_sources(busy, fiber, 5, now=now)
    assert report_counts.hot_areas(now) == []  # 5 < 3 × 2
    reports_from_distinct_sources(busy, fiber, 1, start=5, now=now)
    [hot] = report_counts.hot_areas(now)
    assert hot.sources == 6 and hot.threshold == pytest.approx(6, abs=0.05)
    assert hot.normal_rate == pytest.approx(2, abs=0.05) and hot.times_normal == pytest.approx(3, abs=0.1)


def test_a_flood_from_one_source_does_not_make_an_area_hot():
    set_thresholds(hot_min_sources=2, hot_factor=1)
    district = factories.area()
    for n in range(20):
        report_from(district, factories.service(f"Service {n}"), "198.51.100.7", agent=f"bot-{n}")
    assert report_counts.hot_areas() == []


def test_hot_areas_take_a_fixed_number_of_queries():
    set_thresholds(hot_min_sources=1)
    fiber = factories.service()

    def count():
        with CaptureQueriesContext(connection) as captured:
            report_counts.hot_areas()
        return len(captured)

    reports_from_distinct_sources(factories.area(), fiber, 2)
    small = count()
    for n in range(10):
        reports_from_distinct_sources(factories.area(), fiber, 2, start=10 * n)
    assert count() == small and len(report_counts.hot_areas()) == 11


def test_opening_an_incident_from_reports_goes_through_the_services_and_takes_them_up(
    django_capture_on_commit_callbacks, django_user_model
):
    set_thresholds(notice_min_sources=2, hot_min_sources=2)
    operator = django_user_model.objects.create_user("ops-person")
    district = factories.area("District 5")
    fiber, mobile = factories.service("Fiber"), factories.service("Mobile")
    reports_from_distinct_sources(district, fiber, 3)
    reports_from_distinct_sources(district, mobile, 1, start=3)
    assert report_counts.notice_shown(district) and report_counts.hot_areas()
    with django_capture_on_commit_callbacks(execute=True):
        incident = problem_reports.open_incident_from_reports(district, author=operator)
    assert "District 5" in incident.title and incident.impact == Impact.MAJOR
    assert list(incident.areas.all()) == [district]
    assert set(incident.services.all()) == {fiber, mobile}
    assert incident.updates.get().author == operator  # the first update, as services.open_incident posts it
    assert incident.problem_reports.count() == 4
    assert not report_counts.notice_shown(district) and report_counts.hot_areas() == []
    # The live push went out with the incident and without the notice.
    assert NOTICE not in LiveChange.objects.latest("id").fragments[groups.area_group(district.slug)]["en"]
    with pytest.raises(ValidationError):
        problem_reports.open_incident_from_reports(district)


# The admin -------------------------------------------------------------------


@pytest.fixture
def ops(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


HOT = "/admin/outages/problemreport/hot/"


def test_hot_areas_admin_is_for_staff_only(client, django_user_model):
    assert client.get(HOT).status_code == 302
    client.force_login(django_user_model.objects.create_user("customer", password="x"))
    assert client.get(HOT).status_code == 302
    # A poll after the session ended stops polling (htmx: 286) and says why, listing nothing.
    set_thresholds(hot_min_sources=1)
    reports_from_distinct_sources(factories.area("Secret area"), factories.service(), 1)
    ended = client.get(HOT + "fragment/")
    assert ended.status_code == 286 and "Your session has ended" in ended.text and "Secret area" not in ended.text
    staff = django_user_model.objects.create_user("staff-without-rights", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(HOT + "fragment/").status_code == 403


def test_hot_areas_page_polls_its_fragment_without_inline_script(ops):
    response = ops.get(HOT)
    assert response.status_code == 200
    text = response.text
    assert f'hx-get="{HOT}fragment/"' in text and 'hx-trigger="every 10s"' in text
    assert "No area has unusual report activity right now." in text
    assert "htmx-2.min.js" in text and "<script>" not in text
    assert "Unusual report activity (live)" in ops.get("/admin/outages/problemreport/").text


def test_admin_fragment_returns_the_new_hot_area_after_new_reports(ops):
    set_thresholds(hot_min_sources=3)
    district = factories.area("District 5")
    fiber = factories.service("Fiber")
    before = ops.get(HOT + "fragment/")
    assert before.status_code == 200 and "<html" not in before.text
    assert f'id="hot-area-{district.slug}"' not in before.text
    reports_from_distinct_sources(district, fiber, 3)
    after = ops.get(HOT + "fragment/").text
    assert after.lstrip().startswith('<div id="hot-areas"')
    assert f'id="hot-area-{district.slug}"' in after and "District 5" in after and "Fiber (3)" in after
    assert f'action="{HOT}{district.pk}/open/"' in after and "Open incident from these reports" in after


def test_one_click_opens_the_incident_and_lands_on_it(ops):
    set_thresholds(hot_min_sources=2)
    district = factories.area("District 5")
    reports_from_distinct_sources(district, factories.service(), 2)
    assert ops.get(f"{HOT}{district.pk}/open/").status_code == 405
    response = ops.post(f"{HOT}{district.pk}/open/")
    incident = district.incidents.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/outages/incident/{incident.pk}/change/"
    assert incident.problem_reports.count() == 2
    again = ops.post(f"{HOT}{district.pk}/open/", follow=True)
    assert "There are no recent reports for District 5" in again.text
    assert district.incidents.count() == 1


def test_ops_edit_the_thresholds_in_the_admin(ops):
    response = ops.get("/admin/outages/reportsettings/")
    assert response.status_code == 302 and response["Location"].endswith("/add/")
    response = ops.post(
        "/admin/outages/reportsettings/add/", {"notice_min_sources": 7, "hot_min_sources": 4, "hot_factor": 2.5}
    )
    assert response.status_code == 302
    assert ReportSettings.load().notice_min_sources == 7
    assert ops.get("/admin/outages/reportsettings/")["Location"].endswith("/1/change/")


def test_reports_list_in_the_admin_is_read_only(ops):
    district = factories.area("District 5")
    reports_from_distinct_sources(district, factories.service(), 1)
    report = ProblemReport.objects.get()
    assert "District 5" in ops.get("/admin/outages/problemreport/").text
    assert ops.post(f"/admin/outages/problemreport/{report.pk}/change/", {"problem": "slow"}).status_code in (302, 403)
    assert ProblemReport.objects.get().problem == Problem.NO_SERVICE
    assert ops.get("/admin/outages/problemreport/add/").status_code == 403


# Housekeeping -----------------------------------------------------------------


def test_old_reports_no_incident_took_up_are_pruned():
    district = factories.area()
    fiber = factories.service()
    old = timezone.now() - problem_reports.KEEP - timedelta(days=1)
    reports_from_distinct_sources(district, fiber, 2, now=old)
    reports_from_distinct_sources(district, fiber, 1, start=5)
    kept = ProblemReport.objects.filter(created_at__lt=timezone.now() - problem_reports.KEEP).first()
    kept.incident = factories.incident(district)
    kept.save()
    assert problem_reports.prune_reports(timezone.now()) == 1
    assert ProblemReport.objects.count() == 2
