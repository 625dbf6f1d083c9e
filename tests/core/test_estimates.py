"""Automatic first estimates: the percentile of similar outages' time to restore,
shown on every channel in the same words until an operator gives an ETA."""

import copy
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from outages import services
from outages.models import Cause, Impact, Incident, IncidentArea, IncidentStatus, Kind, MaintenanceStatus
from outages.notify import compose
from outages.queries import announcements, estimates
from outages.queries import history as read_history
from tests import factories

pytestmark = pytest.mark.django_db
SENTENCE = "Typically fixed within 2 hours (based on 10 similar outages). Our crew will confirm."


def past_outage(
    minutes, *, area, cause=Cause.CABLE_CUT, service=None, impact=Impact.MAJOR, days_ago=10, kind=Kind.INCIDENT
):
    """A resolved outage that took `minutes` to fix, ended `days_ago` days ago."""
    end = timezone.now() - timedelta(days=days_ago)
    incident = Incident.objects.create(
        title="Past outage",
        kind=kind,
        status=IncidentStatus.RESOLVED if kind == Kind.INCIDENT else MaintenanceStatus.COMPLETED,
        impact=impact,
        cause=cause,
        started_at=end - timedelta(minutes=minutes),
        resolved_at=end,
    )
    IncidentArea.objects.create(incident=incident, area=area, added_at=incident.started_at)
    if service is not None:
        incident.services.add(service)
    return incident


def ten_cable_cuts(area, service=None):
    """Ten outages fixed in 10, 20, ... 100 minutes: the 80th percentile is 80, the median 50."""
    for minutes in range(10, 101, 10):
        past_outage(minutes, area=area, service=service)


@override_settings(ESTIMATE_MIN_SAMPLES=5, ESTIMATE_PERCENTILE=80)
def test_the_estimate_is_the_80th_percentile_of_similar_outages_not_the_median():
    area = factories.area()
    ten_cable_cuts(area)
    found = estimates.estimate(cause=Cause.CABLE_CUT, region_ids=[area.region_id], impact=Impact.MAJOR, detail=True)
    assert (found.minutes, found.samples) == (80, 10)
    assert (found.median_minutes, found.low_minutes, found.high_minutes) == (50, 20, 80)
    assert found.basis == ("cause", "region", "impact")


@override_settings(ESTIMATE_MIN_SAMPLES=5, ESTIMATE_PERCENTILE=90)
def test_the_percentile_is_a_setting():
    area = factories.area()
    ten_cable_cuts(area)
    assert estimates.estimate(cause=Cause.CABLE_CUT, region_ids=[area.region_id]).minutes == 90


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_no_estimate_with_fewer_than_k_similar_outages():
    area = factories.area()
    for minutes in (10, 20, 30, 40):
        past_outage(minutes, area=area)
    assert estimates.estimate(cause=Cause.CABLE_CUT) is None
    past_outage(50, area=area)
    assert estimates.estimate(cause=Cause.CABLE_CUT).samples == 5


@override_settings(ESTIMATE_MIN_SAMPLES=5, ESTIMATE_WINDOW_MONTHS=12)
def test_outages_before_the_window_and_maintenance_do_not_count():
    area = factories.area()
    for minutes in (10, 20, 30, 40):
        past_outage(minutes, area=area)
    past_outage(50, area=area, days_ago=370)  # thirteen months ago
    past_outage(60, area=area, kind=Kind.MAINTENANCE)
    assert estimates.estimate(cause=Cause.CABLE_CUT) is None
    with override_settings(ESTIMATE_WINDOW_MONTHS=13):
        assert estimates.estimate(cause=Cause.CABLE_CUT).samples == 5


@override_settings(ESTIMATE_MIN_SAMPLES=3)
def test_fallbacks_drop_impact_then_region_then_service_keeping_the_cause():
    fiber, power = factories.service("Fiber internet"), factories.service("Power")
    here, elsewhere = factories.area(), factories.area()
    facts = {
        "cause": Cause.CABLE_CUT,
        "service_ids": [fiber.pk],
        "region_ids": [here.region_id],
        "impact": Impact.CRITICAL,
    }

    def basis():
        found = estimates.estimate(**facts)
        return found and found.basis

    # Other causes never count, however many.
    for _ in range(5):
        past_outage(30, area=here, service=fiber, impact=Impact.CRITICAL, cause=Cause.STORM)
    assert basis() is None
    for _ in range(3):
        past_outage(300, area=elsewhere, service=power, impact=Impact.MINOR)
    assert basis() == ("cause",)
    for _ in range(3):
        past_outage(200, area=elsewhere, service=fiber, impact=Impact.MINOR)
    assert basis() == ("cause", "service")
    for _ in range(3):
        past_outage(100, area=here, service=fiber, impact=Impact.MINOR)
    assert basis() == ("cause", "service", "region")
    assert estimates.estimate(**facts).minutes == 100
    for _ in range(3):
        past_outage(40, area=here, service=fiber, impact=Impact.CRITICAL)
    assert basis() == ("cause", "service", "region", "impact")
    assert estimates.estimate(**facts).minutes == 40


def test_an_unknown_cause_or_missing_services_filter_nothing():
    levels = estimates.levels(cause="", service_ids=[], region_ids=[3], impact=Impact.MAJOR)
    assert [basis for basis, _filters in levels] == [("region", "impact"), ("region",), ()]


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_opening_an_incident_stores_the_estimate_and_editing_its_cause_refreshes_it():
    area = factories.area()
    ten_cable_cuts(area)
    incident = factories.incident(area, eta_in=None, cause=Cause.CABLE_CUT)
    incident.refresh_from_db()
    assert (incident.estimate_minutes, incident.estimate_samples) == (80, 10)
    services.edit_incident(incident, cause=Cause.STORM)
    incident.refresh_from_db()
    assert incident.estimate_minutes is None and incident.estimate_samples is None


def outage_with_estimate():
    """An open fiber outage in Budapest District 5 with no ETA; ten like it took 10..100 min (p80: 80 -> 2 hours)."""
    area = factories.area("Budapest District 5", slug="budapest-district-5", time_zone="Europe/Budapest")
    fiber = factories.service("Fiber internet", slug="fiber")
    for minutes in [10, 20, 30, 40, 50, 60, 70, 90, 110, 120]:
        past_outage(minutes, area=area, service=fiber)
    incident = factories.incident(area, services=[fiber], eta_in=None, cause=Cause.CABLE_CUT)
    return area, Incident.objects.get(pk=incident.pk)


def channels(client, area, incident) -> dict[str, str]:
    """What each channel says about the area now, as text."""
    native = client.get(f"/api/areas/{area.slug}/").json()["active_incidents"][0]
    v2 = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    incident.refresh_from_db()
    return {
        "area page": client.get(f"/areas/{area.slug}/").content.decode(),
        "incident page": client.get(f"/incidents/{incident.pk}/").content.decode(),
        "widget": client.get(f"/embed/areas/{area.slug}/").content.decode(),
        "home": client.get("/").content.decode(),
        "native api": (native["estimate"] or {}).get("text", ""),
        "v2 api": (v2["x_estimate"] or {}).get("text", ""),
        "voice line": client.get(f"/areas/{area.slug}/announcement.txt").content.decode(),
        "ssml": client.get(f"/areas/{area.slug}/announcement.ssml").content.decode(),
        "message": compose.customer_sentence(incident, incident.status, incident.eta, area.name, area.tzinfo),
    }


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_every_channel_says_the_same_estimate_in_the_same_words(client):
    area, incident = outage_with_estimate()
    assert (incident.estimate_minutes, incident.estimate_samples) == (90, 10)
    said = channels(client, area, incident)
    for channel, text in said.items():
        assert SENTENCE in text, channel
    native = client.get(f"/api/areas/{area.slug}/").json()["active_incidents"][0]
    assert native["eta"] is None and native["estimate"]["minutes"] == 90 and native["estimate"]["samples"] == 10
    assert "We do not have an estimate yet." not in said["area page"]


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_estimate_is_gone_as_soon_as_an_operator_gives_an_eta(client):
    area, incident = outage_with_estimate()
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=timezone.now() + timedelta(hours=5))
    said = channels(client, area, incident)
    for channel, text in said.items():
        assert "Typically fixed within" not in text, channel
    v2 = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    assert v2["x_estimate"] is None and v2["x_eta"] is not None
    assert "We expect service to be restored by" in said["voice line"]


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_estimate_is_never_shown_for_a_resolved_incident_or_a_passed_message(client):
    area, incident = outage_with_estimate()
    as_posted = copy.copy(incident)
    services.resolve(incident)
    incident.refresh_from_db()
    assert announcements.estimate_text(incident) == ""
    assert "Typically fixed" not in client.get(f"/incidents/{incident.pk}/").content.decode()
    assert announcements.estimate_text(as_posted) == SENTENCE


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_estimate_is_translated(client):
    _area, incident = outage_with_estimate()
    with translation.override("hu"):
        hungarian = announcements.estimate_text(incident)
    with translation.override("he"):
        hebrew = announcements.estimate_text(incident)
    assert hungarian == "Általában 2 óra alatt javítjuk (10 hasonló hiba alapján). Szerelőink megerősítik."
    assert hebrew.startswith("בדרך כלל מתוקן בתוך") and "10" in hebrew


def test_durations_are_rounded_up_never_down():
    assert announcements.estimate_duration(1) == "15 minutes"
    assert announcements.estimate_duration(45) == "45 minutes"
    assert announcements.estimate_duration(46) == "1 hour"
    assert announcements.estimate_duration(61) == "2 hours"
    assert announcements.estimate_duration(180) == "3 hours"
    assert announcements.estimate_duration(49 * 60) == "3 days"


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_eta_honesty_figure_counts_automatic_estimates_apart():
    area = factories.area()
    ten_cable_cuts(area)  # history for the estimator: 80 minutes
    now = timezone.now()
    # Two outages with an automatic estimate and no ETA: one fixed within it, one not.
    quick = factories.incident(area, eta_in=None, cause=Cause.CABLE_CUT, started_at=now - timedelta(hours=3))
    slow = factories.incident(area, eta_in=None, cause=Cause.CABLE_CUT, started_at=now - timedelta(hours=3))
    services.resolve(quick, at=now - timedelta(hours=2))  # 60 minutes
    services.resolve(slow, at=now - timedelta(minutes=30))  # 150 minutes
    # One with an operator's ETA, kept; no automatic estimate (no power failures in the history).
    promised = factories.incident(area, eta_in=None, cause=Cause.POWER, started_at=now - timedelta(hours=3))
    services.post_update(
        promised, status=IncidentStatus.IDENTIFIED, eta=now + timedelta(minutes=10), at=now - timedelta(hours=2)
    )
    services.resolve(promised, at=now - timedelta(minutes=20))
    honesty = read_history.eta_honesty_for_areas(None, now)
    assert (honesty.given, honesty.kept) == (1, 1)
    assert (honesty.estimated, honesty.estimate_kept) == (2, 1)
    # The ten past outages ended ten days ago with neither an ETA nor an estimate.
    assert honesty.without_eta == 12
    sentence = honesty.sentence(here=False)
    assert "1 of 1 outage was fixed by the first time we gave" in sentence
    assert "Our automatic estimates from similar outages held for 1 of 2 outages." in sentence
