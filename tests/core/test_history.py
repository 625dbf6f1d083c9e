"""90 days of history: day bars in the area's time zone, availability, ETA honesty."""

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.models import AreaStatus, Impact, IncidentStatus, MaintenanceStatus
from outages.queries import history as read_history
from outages.queries.history import Day, EtaOutcome, Span
from tests import factories

BUDAPEST = zoneinfo.ZoneInfo("Europe/Budapest")
AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")
MAJOR = AreaStatus.MAJOR


def local(tz, *args):
    return datetime(*args, tzinfo=tz)


def bar(bars, day: date) -> Day:
    return next(item for item in bars if item.day == day)


# Day buckets, pure -----------------------------------------------------------


def test_there_are_ninety_days_oldest_first_ending_today_in_the_areas_zone():
    # 23:30 UTC on 1 June is already 2 June in Budapest and 2 June in Auckland.
    now = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    bars = read_history.day_bars([], BUDAPEST, now)
    assert len(bars) == 90
    assert bars[-1].day == date(2026, 6, 2) and bars[0].day == date(2026, 3, 5)
    assert all(item.status == AreaStatus.OPERATIONAL and not item.outage_minutes for item in bars)
    assert read_history.day_bars([], zoneinfo.ZoneInfo("America/New_York"), now)[-1].day == date(2026, 6, 1)


def test_an_outage_across_local_midnight_is_split_between_the_two_local_days():
    now = local(BUDAPEST, 2026, 6, 10, 12, 0)
    outage = Span(start=local(BUDAPEST, 2026, 6, 4, 23, 30), end=local(BUDAPEST, 2026, 6, 5, 0, 45), status=MAJOR)
    bars = read_history.day_bars([outage], BUDAPEST, now)
    assert bar(bars, date(2026, 6, 4)).outage_minutes == 30
    assert bar(bars, date(2026, 6, 5)).outage_minutes == 45
    assert bar(bars, date(2026, 6, 4)).status == bar(bars, date(2026, 6, 5)).status == MAJOR
    # The same instants seen from Auckland (UTC+12) fall on one local day.
    auckland = read_history.day_bars([outage], AUCKLAND, now)
    assert bar(auckland, date(2026, 6, 5)).outage_minutes == 75
    assert bar(auckland, date(2026, 6, 4)).outage_minutes == 0


def test_an_outage_ending_exactly_at_local_midnight_does_not_touch_the_next_day():
    now = local(BUDAPEST, 2026, 6, 10, 12, 0)
    outage = Span(start=local(BUDAPEST, 2026, 6, 4, 22, 0), end=local(BUDAPEST, 2026, 6, 5, 0, 0), status=MAJOR)
    bars = read_history.day_bars([outage], BUDAPEST, now)
    assert bar(bars, date(2026, 6, 4)).outage_minutes == 120
    assert bar(bars, date(2026, 6, 5)).status == AreaStatus.OPERATIONAL


def test_the_spring_change_makes_a_day_of_23_hours():
    # Budapest: clocks go from 02:00 to 03:00 on the last Sunday of March 2026 (29 March).
    now = local(BUDAPEST, 2026, 4, 2, 12, 0)
    whole_day = Span(start=local(BUDAPEST, 2026, 3, 28, 12, 0), end=local(BUDAPEST, 2026, 3, 30, 12, 0), status=MAJOR)
    bars = read_history.day_bars([whole_day], BUDAPEST, now)
    assert bar(bars, date(2026, 3, 29)).outage_minutes == 23 * 60
    assert bar(bars, date(2026, 3, 28)).outage_minutes == bar(bars, date(2026, 3, 30)).outage_minutes == 12 * 60
    # 01:00 to 04:00 on the clock is two real hours.
    night = Span(start=local(BUDAPEST, 2026, 3, 29, 1, 0), end=local(BUDAPEST, 2026, 3, 29, 4, 0), status=MAJOR)
    assert bar(read_history.day_bars([night], BUDAPEST, now), date(2026, 3, 29)).outage_minutes == 120


def test_the_autumn_change_makes_a_day_of_25_hours():
    # Budapest: clocks go from 03:00 back to 02:00 on 25 October 2026.
    now = local(BUDAPEST, 2026, 11, 2, 12, 0)
    whole_day = Span(start=local(BUDAPEST, 2026, 10, 24, 0, 0), end=None, status=MAJOR)
    bars = read_history.day_bars([whole_day], BUDAPEST, now)
    assert bar(bars, date(2026, 10, 25)).outage_minutes == 25 * 60
    assert bar(bars, date(2026, 10, 24)).outage_minutes == 24 * 60
    # Today counts only up to now.
    assert bars[-1].outage_minutes == 12 * 60
    # 01:00 to 04:00 on the clock is four real hours.
    night = Span(start=local(BUDAPEST, 2026, 10, 25, 1, 0), end=local(BUDAPEST, 2026, 10, 25, 4, 0), status=MAJOR)
    assert bar(read_history.day_bars([night], BUDAPEST, now), date(2026, 10, 25)).outage_minutes == 240


def test_a_day_takes_the_worst_status_and_overlaps_count_once():
    now = local(BUDAPEST, 2026, 6, 10, 12, 0)
    day = date(2026, 6, 8)
    spans = [
        Span(
            start=local(BUDAPEST, 2026, 6, 8, 10, 0), end=local(BUDAPEST, 2026, 6, 8, 11, 0), status=AreaStatus.DEGRADED
        ),
        Span(start=local(BUDAPEST, 2026, 6, 8, 10, 30), end=local(BUDAPEST, 2026, 6, 8, 12, 0), status=MAJOR),
        Span(
            start=local(BUDAPEST, 2026, 6, 8, 1, 0),
            end=local(BUDAPEST, 2026, 6, 8, 3, 0),
            status=AreaStatus.MAINTENANCE,
        ),
    ]
    result = bar(read_history.day_bars(spans, BUDAPEST, now), day)
    assert result.status == MAJOR
    assert result.outage_minutes == 120  # 10:00-12:00, not 60 + 90
    assert result.maintenance_minutes == 120
    assert "120 minutes of outage" in result.text and "120 minutes of planned maintenance" in result.text


def test_maintenance_colours_its_day_but_does_not_count_against_availability():
    now = local(BUDAPEST, 2026, 6, 10, 12, 0)
    window = Span(
        start=local(BUDAPEST, 2026, 6, 8, 1, 0), end=local(BUDAPEST, 2026, 6, 8, 5, 0), status=AreaStatus.MAINTENANCE
    )
    bars = read_history.day_bars([window], BUDAPEST, now)
    assert bar(bars, date(2026, 6, 8)).status == AreaStatus.MAINTENANCE
    assert bar(bars, date(2026, 6, 8)).outage_minutes == 0
    assert read_history.availability([window], BUDAPEST, now) == 100.0
    assert read_history.percent_text(read_history.availability([window], BUDAPEST, now)) == "100%"


def test_availability_is_the_share_of_the_window_without_outage():
    now = local(BUDAPEST, 2026, 6, 10, 0, 0)
    outage = Span(start=local(BUDAPEST, 2026, 6, 1, 0, 0), end=local(BUDAPEST, 2026, 6, 1, 8, 54), status=MAJOR)
    window = (now - read_history.window_start(BUDAPEST, now)).total_seconds()
    # From local midnight 89 days back, less the hour lost on 29 March.
    assert read_history.window_start(BUDAPEST, now) == local(BUDAPEST, 2026, 3, 13, 0, 0)
    assert window == 89 * 86400 - 3600
    expected = 100 * (1 - 8.9 * 3600 / window)
    assert read_history.availability([outage], BUDAPEST, now) == pytest.approx(expected)
    # Rounded down: any outage at all never reads 100%.
    tiny = Span(start=local(BUDAPEST, 2026, 6, 1, 0, 0), end=local(BUDAPEST, 2026, 6, 1, 0, 0, 1), status=MAJOR)
    assert read_history.percent_text(read_history.availability([tiny], BUDAPEST, now)) == "99.99%"


def test_outages_before_the_window_do_not_count():
    now = local(BUDAPEST, 2026, 6, 10, 12, 0)
    old = Span(start=local(BUDAPEST, 2025, 1, 1, 0, 0), end=local(BUDAPEST, 2025, 1, 5, 0, 0), status=MAJOR)
    assert read_history.availability([old], BUDAPEST, now) == 100.0
    assert not any(item.outage_minutes for item in read_history.day_bars([old], BUDAPEST, now))


# ETA honesty, pure -----------------------------------------------------------


def test_eta_honesty_counts_fixes_by_the_first_eta_and_the_median_slip():
    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    kept = [EtaOutcome(resolved_at=at, first_eta=at + timedelta(minutes=minutes)) for minutes in range(8)]
    late = [
        EtaOutcome(resolved_at=at + timedelta(hours=1), first_eta=at),
        EtaOutcome(resolved_at=at + timedelta(hours=2), first_eta=at),
    ]
    without = [EtaOutcome(resolved_at=at, first_eta=None)]
    honesty = read_history.eta_honesty(kept + late + without)
    assert (honesty.given, honesty.kept, honesty.without_eta) == (10, 8, 1)
    assert honesty.median_slip == timedelta(hours=1, minutes=30)
    assert honesty.sentence().startswith(
        "In the last 90 days, 8 of 10 outages here were fixed by the first time we gave."
    )
    assert "median of 1\xa0hour, 30\xa0minutes" in honesty.sentence()
    assert honesty.sentence(here=False).startswith("In the last 90 days, 8 of 10 outages were fixed")


def test_eta_honesty_with_nothing_to_count_says_so():
    assert read_history.eta_honesty([]).sentence() == (
        "In the last 90 days there was no outage here for which we gave a time."
    )
    one = read_history.eta_honesty(
        [EtaOutcome(resolved_at=datetime(2026, 1, 1, tzinfo=UTC), first_eta=datetime(2026, 1, 1, tzinfo=UTC))]
    )
    assert one.sentence() == "In the last 90 days, 1 of 1 outage here was fixed by the first time we gave."


# From the database -----------------------------------------------------------


def past_outage(area, *, started, minutes, title="Past outage", impact=Impact.MAJOR, etas=(), services_=()):
    """An outage in the past: opened at `started`, ETAs posted (minutes after start, ETA minutes after start), resolved."""
    incident = services.open_incident(
        title=title, areas=[area], impact=impact, started_at=started, services=services_, message="Looking into it."
    )
    for posted_after, eta_after in etas:
        services.post_update(
            incident,
            status=IncidentStatus.IDENTIFIED,
            message="Crew on the way.",
            eta=started + timedelta(minutes=eta_after),
            at=started + timedelta(minutes=posted_after),
        )
    services.resolve(incident, message="Fixed.", at=started + timedelta(minutes=minutes))
    return incident


@pytest.mark.django_db
def test_first_eta_is_the_first_update_that_gave_one_not_a_later_revision():
    district = factories.area(time_zone="Europe/Budapest")
    started = timezone.now() - timedelta(days=3)
    # First ETA after 60 min, revised to 180 min; fixed after 150 min: late by 90 minutes.
    past_outage(district, started=started, minutes=150, etas=[(5, 60), (50, 180)])
    # Fixed by its first ETA.
    past_outage(district, started=started - timedelta(days=1), minutes=30, etas=[(1, 45)])
    # No ETA ever: not counted in the ETA figure.
    past_outage(district, started=started - timedelta(days=2), minutes=30)
    honesty = read_history.area_history(district).eta
    assert (honesty.given, honesty.kept, honesty.without_eta) == (2, 1, 1)
    assert honesty.median_slip == timedelta(minutes=90)


@pytest.mark.django_db
def test_maintenance_windows_have_no_eta_honesty_and_no_availability_cost():
    district = factories.area(time_zone="Europe/Budapest")
    start = timezone.now() - timedelta(hours=3)
    # Announced for three hours ago, started now (late) and completed at once.
    window = services.schedule_maintenance(
        title="Exchange upgrade", areas=[district], scheduled_for=start, scheduled_until=start + timedelta(hours=4)
    )
    services.post_update(window, status=MaintenanceStatus.IN_PROGRESS)
    services.resolve(window)
    figures = read_history.area_history(district)
    assert figures.availability == 100.0 and figures.eta.given == 0 and figures.outages == 0
    day = timezone.localtime(start, district.tzinfo).date()
    assert any(item.day == day and item.status == AreaStatus.MAINTENANCE for item in figures.days)


@pytest.mark.django_db
def test_day_bars_from_the_database_follow_the_area_zone_across_the_autumn_change():
    # 2025-10-26 is Budapest's autumn change: a 25-hour day.
    district = factories.area(time_zone="Europe/Budapest")
    started = local(BUDAPEST, 2025, 10, 25, 23, 0).astimezone(UTC)
    past_outage(district, started=started, minutes=26 * 60)  # 26 real hours
    now = local(BUDAPEST, 2025, 11, 1, 12, 0)
    bars = read_history.area_history(district, now).days
    assert bar(bars, date(2025, 10, 25)).outage_minutes == 60
    assert bar(bars, date(2025, 10, 26)).outage_minutes == 25 * 60
    assert bar(bars, date(2025, 10, 27)).outage_minutes == 0  # 23:00 + 26 h of real time = 00:00 on the 27th
    assert bar(bars, date(2025, 10, 24)).status == AreaStatus.OPERATIONAL


@pytest.mark.django_db
def test_an_area_added_to_a_growing_incident_is_affected_from_then_on():
    first, second = factories.area(), factories.area()
    started = timezone.now() - timedelta(hours=5)
    incident = services.open_incident(title="Spreading outage", areas=[first], started_at=started)
    services.edit_incident(incident, areas=[first, second])  # added now
    services.resolve(incident)
    assert 5 * 60 <= sum(day.outage_minutes for day in read_history.area_history(first).days) <= 5 * 60 + 2
    assert sum(day.outage_minutes for day in read_history.area_history(second).days) <= 1


@pytest.mark.django_db
def test_overall_figures_count_each_area_once_and_each_outage_once():
    region = factories.region()
    a, b, c = (factories.area(region_obj=region) for _ in range(3))
    started = timezone.now() - timedelta(days=2)
    incident = services.open_incident(title="Both", areas=[a, b], started_at=started)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=started + timedelta(hours=1), at=started)
    services.resolve(incident, at=started + timedelta(hours=2))
    overall = read_history.eta_honesty_for_areas()
    assert (overall.given, overall.kept) == (1, 0)
    assert read_history.eta_honesty_for_areas(region.areas.filter(pk=c.pk)).given == 0
    assert read_history.eta_honesty_for_areas(region.areas.filter(pk__in=[a.pk, b.pk])).given == 1
    now = timezone.now()
    per_area = [read_history.area_history(area, now).availability for area in (a, b, c)]
    assert per_area[2] == 100.0 and per_area[0] == per_area[1] < 100.0
    assert read_history.overall_availability(now) == pytest.approx(sum(per_area) / 3)
    assert read_history.overall_availability(now, region.areas.filter(pk=c.pk)) == 100.0
    assert read_history.mean_time_to_restore_for_areas(region.areas.all()) == timedelta(hours=2)


# The area page ---------------------------------------------------------------


@pytest.mark.django_db
def test_area_page_shows_ninety_day_bars_in_the_areas_zone_with_text(client):
    district = factories.area("Wellington Central", time_zone="Pacific/Auckland")
    past_outage(district, started=timezone.now() - timedelta(days=10), minutes=95)
    text = client.get(f"/areas/{district.slug}/").text
    days = re.findall(r'data-day="(\d{4}-\d{2}-\d{2})"', text)
    assert len(days) == 90
    assert days[-1] == timezone.localtime(timezone.now(), district.tzinfo).date().isoformat()
    assert "95 minutes of outage" in text
    assert 'class="day day--partial_outage"' in text
    assert 'tabindex="0"' in text and not re.search(r"<[^>]*\sstyle=", text)  # no inline style attribute
    assert "% available" in text and "all areas:" in text
    assert "In the last 90 days there was no outage here for which we gave a time." in text


@pytest.mark.django_db
def test_area_page_states_eta_honesty_as_a_sentence(client):
    district = factories.area()
    started = timezone.now() - timedelta(days=4)
    past_outage(district, started=started, minutes=30, etas=[(1, 60)])
    past_outage(district, started=started - timedelta(days=1), minutes=120, etas=[(1, 60)])
    text = client.get(f"/areas/{district.slug}/").text
    assert "In the last 90 days, 1 of 2 outages here were fixed by the first time we gave." in text
    assert "a median of 1\xa0hour after that time" in text


def _area_page_queries(client, area) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/areas/{area.slug}/").status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_area_page_query_count_is_the_same_with_years_of_history(client):
    district = factories.area(time_zone="Europe/Budapest")
    past_outage(district, started=timezone.now() - timedelta(days=3), minutes=60, etas=[(1, 30)])
    small = _area_page_queries(client, district)
    now = timezone.now()
    for week in range(1, 3 * 52):
        past_outage(
            district,
            started=now - timedelta(weeks=week, hours=week % 24),
            minutes=30 + week,
            etas=[(1, 45)],
            title=f"Outage {week}",
        )
    assert _area_page_queries(client, district) == small
    assert small <= 20  # the same ceiling as tests/test_pages.py
