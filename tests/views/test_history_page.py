"""/history/: past incidents month by month, filterable by area and service, paginated."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.views.history import PER_PAGE
from tests import factories

pytestmark = pytest.mark.django_db


def past(area, title, started, minutes=60, services_=()):
    incident = services.open_incident(title=title, areas=[area], started_at=started, services=services_)
    services.resolve(incident, at=started + timedelta(minutes=minutes))
    return incident


def test_history_lists_incidents_newest_first_under_month_headings(client):
    district = factories.area(time_zone="Europe/Budapest")
    past(district, "September outage", datetime(2025, 9, 10, 12, tzinfo=UTC))
    past(district, "October outage", datetime(2025, 10, 3, 12, tzinfo=UTC))
    # 31 October 23:30 UTC is already 1 November in Budapest.
    past(district, "Halloween night outage", datetime(2025, 10, 31, 23, 30, tzinfo=UTC))
    text = client.get("/history/", {"area": district.slug}).text
    months = re.findall(r'<h2 id="month-([\d-]+)">([^<]+)</h2>', text)
    assert months == [("2025-11", "November 2025"), ("2025-10", "October 2025"), ("2025-09", "September 2025")]
    assert text.index("Halloween night outage") < text.index("October outage") < text.index("September outage")
    assert "1\xa0hour" in text  # the duration


def test_history_filters_by_area_and_by_service(client):
    here, there = factories.area("Here"), factories.area("There")
    fiber, mobile = factories.service("Fiber", "fiber"), factories.service("Mobile", "mobile")
    start = timezone.now() - timedelta(days=3)
    past(here, "Fiber down here", start, services_=[fiber])
    past(here, "Mobile down here", start - timedelta(days=1), services_=[mobile])
    past(there, "Fiber down there", start - timedelta(days=2), services_=[fiber])
    everything = client.get("/history/").text
    assert all(title in everything for title in ["Fiber down here", "Mobile down here", "Fiber down there"])
    only_here = client.get("/history/", {"area": here.slug}).text
    assert "Fiber down here" in only_here and "Mobile down here" in only_here and "Fiber down there" not in only_here
    only_fiber = client.get("/history/", {"service": "fiber"}).text
    assert "Fiber down here" in only_fiber and "Fiber down there" in only_fiber and "Mobile down here" not in only_fiber
    both = client.get("/history/", {"area": here.slug, "service": "fiber"}).text
    assert "Fiber down here" in both and "Mobile down here" not in both and "Fiber down there" not in both


def test_history_is_paginated_and_keeps_the_filter_in_page_links(client):
    district = factories.area()
    start = timezone.now() - timedelta(days=1)
    for n in range(PER_PAGE + 3):
        past(district, f"Outage number {n:02d}", start - timedelta(days=n))
    first = client.get("/history/", {"area": district.slug}).text
    assert "Outage number 00" in first and f"Outage number {PER_PAGE:02d}" not in first
    assert "Page 1 of 2" in first
    assert f'href="?area={district.slug}&amp;page=2"' in first
    second = client.get("/history/", {"area": district.slug, "page": 2}).text
    assert f"Outage number {PER_PAGE + 2:02d}" in second and "Outage number 00" not in second


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"area": "atlantis"}, 400, "There is no area with that name."),
        ({"service": "telepathy"}, 400, "There is no service with that name."),
        ({"page": "two"}, 400, "The page number must be a whole number from 1."),
        ({"page": "0"}, 400, "The page number must be a whole number from 1."),
        ({"page": "99"}, 404, "There is no page 99 of this history."),
        ({"area": "x" * 5000}, 400, "There is no area with that name."),
    ],
)
def test_bad_history_input_gives_a_clear_4xx(client, params, status, message):
    factories.area()
    response = client.get("/history/", params)
    assert response.status_code == status
    assert message in response.text


def test_history_shows_scheduled_maintenance_only_once_it_has_started(client):
    district = factories.area()
    soon = timezone.now() + timedelta(days=2)
    services.schedule_maintenance(
        title="Upcoming exchange upgrade",
        areas=[district],
        scheduled_for=soon,
        scheduled_until=soon + timedelta(hours=2),
    )
    past(district, "Past outage", timezone.now() - timedelta(days=1))
    text = client.get("/history/").text
    assert "Past outage" in text and "Upcoming exchange upgrade" not in text


def test_history_shows_overall_and_per_area_figures(client):
    district = factories.area()
    started = timezone.now() - timedelta(days=2)
    incident = services.open_incident(title="With ETA", areas=[district], started_at=started)
    services.post_update(incident, status="identified", eta=started + timedelta(hours=2), at=started)
    services.resolve(incident, at=started + timedelta(hours=1))
    overall = client.get("/history/").text
    assert "available in the last 90 days, across all areas" in overall
    assert "In the last 90 days, 1 of 1 outage was fixed by the first time we gave." in overall
    here = client.get("/history/", {"area": district.slug}).text
    assert "In the last 90 days, 1 of 1 outage here was fixed by the first time we gave." in here


def test_history_escapes_operator_text(client):
    district = factories.area("<b>Area</b>")
    past(district, "<script>alert(1)</script>", timezone.now() - timedelta(days=1))
    text = client.get("/history/").text
    assert "<script>alert(1)" not in text and "&lt;script&gt;" in text and "<b>Area" not in text


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/history/", params).status_code == 200
    return len(captured)


def test_history_query_count_does_not_grow_with_incidents(client):
    areas = [factories.area() for _ in range(3)]
    fiber = factories.service("Fiber", "fiber")
    start = timezone.now() - timedelta(days=1)
    past(areas[0], "First", start, services_=[fiber])
    small = [_queries(client, {}), _queries(client, {"area": areas[0].slug}), _queries(client, {"service": "fiber"})]
    for n in range(60):
        incident = services.open_incident(
            title=f"Outage {n}", areas=areas, started_at=start - timedelta(days=n * 5), services=[fiber]
        )
        services.resolve(incident, at=start - timedelta(days=n * 5) + timedelta(hours=1))
    large = [_queries(client, {}), _queries(client, {"area": areas[0].slug}), _queries(client, {"service": "fiber"})]
    assert small == large
    assert max(large) <= 12
