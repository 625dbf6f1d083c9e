"""ETA in one tap: quick choices across daylight-saving changes, the zone named,
past and absurd ETAs refused with a clear message."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from outages import services
from outages.admin import quick_eta
from outages.models import Incident
from tests import factories

BUDAPEST = ZoneInfo("Europe/Budapest")
UTC = ZoneInfo("UTC")


def _local(value):
    return value.astimezone(BUDAPEST).strftime("%Y-%m-%d %H:%M %Z")


def test_plus_two_hours_across_the_spring_change_is_two_real_hours_later():
    # 29 March 2026, 01:30 CET; at 02:00 the clocks jump to 03:00 CEST.
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    eta = quick_eta.resolve("+120", now=now, current=None)
    assert eta - now == timedelta(hours=2)
    assert _local(eta) == "2026-03-29 04:30 CEST"
    assert quick_eta.words(eta, now) == "today 04:30, in 2 h"


def test_plus_one_hour_in_the_autumn_repeated_hour_is_not_ambiguous():
    # 25 October 2026, 02:30 CEST; at 03:00 CEST the clocks go back to 02:00 CET.
    now = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    eta = quick_eta.resolve("+60", now=now, current=None)
    assert _local(eta) == "2026-10-25 02:30 CET"
    assert eta - now == timedelta(hours=1)
    assert quick_eta.words(eta, now) == "today 02:30, in 1 h"


def test_end_of_today_on_the_spring_change_day_is_23_59_summer_time():
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    eta = quick_eta.resolve("end-of-day", now=now, current=None)
    assert _local(eta) == "2026-03-29 23:59 CEST"
    # 21 h 29 min of real time: one hour of the night never happened.
    assert eta - now == timedelta(hours=21, minutes=29)


def test_keep_and_clear_mean_the_services_keep_and_no_estimate():
    now = timezone.now()
    assert quick_eta.resolve("keep", now=now, current=None) is services.KEEP
    assert quick_eta.resolve("clear", now=now, current=now) is None
    with pytest.raises(ValidationError):
        quick_eta.resolve("+7", now=now, current=None)


def test_the_zone_is_named_with_its_abbreviation_of_the_day():
    assert quick_eta.zone_label(datetime(2026, 1, 10, 12, tzinfo=UTC)) == "Europe/Budapest, CET"
    assert quick_eta.zone_label(datetime(2026, 7, 10, 12, tzinfo=UTC)) == "Europe/Budapest, CEST"


def test_past_and_absurdly_far_etas_are_refused_with_what_they_mean(settings):
    settings.ETA_MAX_DAYS = 14
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    with pytest.raises(ValidationError) as past:
        quick_eta.check(now - timedelta(hours=2), now)
    assert past.value.messages == [
        "today 11:00, 2 h ago has already passed: the estimate must be in the future (or choose “Clear” if there is none)."
    ]
    with pytest.raises(ValidationError) as far:
        quick_eta.check(now + timedelta(days=20), now)
    assert "more than 14 days ahead" in far.value.messages[0] and "check the date" in far.value.messages[0]
    quick_eta.check(now + timedelta(days=13), now)  # within the limit: fine
    quick_eta.check(None, now)


@pytest.fixture
def ops(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def _post(ops, incident, **data):
    incident.refresh_from_db()
    area = incident.areas.first()
    return ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "areas": [area.pk],
            "update_status": incident.status,
            "update_crew_status": incident.crew_status,
            "update_eta": timezone.localtime(incident.eta).strftime("%Y-%m-%dT%H:%M") if incident.eta else "",
            "seen_version": incident.version,
            "_post_update": "1",
            **data,
        },
    )


@pytest.mark.django_db
def test_a_quick_choice_posted_from_the_console_counts_from_the_moment_of_posting(ops):
    incident = factories.incident(factories.area("District 5"), eta_in=timedelta(hours=1))
    before = timezone.now()
    response = _post(ops, incident, eta_choice="+240")
    after = timezone.now()
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert before + timedelta(hours=4) <= incident.eta <= after + timedelta(hours=4)
    assert incident.updates.count() == 2


@pytest.mark.django_db
def test_a_quick_choice_wins_over_a_typed_time_and_clear_withdraws_the_eta(ops):
    incident = factories.incident(factories.area(), eta_in=timedelta(hours=1))
    response = _post(
        ops,
        incident,
        eta_choice="clear",
        update_eta=timezone.localtime(timezone.now() + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.eta is None


@pytest.mark.django_db
def test_the_console_refuses_an_eta_weeks_ahead_and_keeps_the_operators_text(ops, settings):
    settings.ETA_MAX_DAYS = 3
    incident = factories.incident(factories.area())
    far = timezone.localtime(timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = _post(ops, incident, update_eta=far, update_message="Cable ordered")
    assert response.status_code == 200
    assert "more than 3 days ahead" in response.text
    assert "Cable ordered" in response.text
    assert Incident.objects.get(pk=incident.pk).updates.count() == 1


@pytest.mark.django_db
def test_an_unknown_quick_choice_is_a_form_error_not_a_500(ops):
    incident = factories.incident(factories.area())
    response = _post(ops, incident, eta_choice="+99999")
    assert response.status_code == 200
    assert incident.updates.count() == 1


@pytest.mark.django_db
def test_the_change_page_names_the_zone_and_offers_every_quick_choice_without_inline_script(ops):
    incident = factories.incident(factories.area())
    page = ops.get(f"/admin/outages/incident/{incident.pk}/change/")
    text = page.text
    assert quick_eta.zone_label() in text
    for label in ["+30 min", "+1 h", "+2 h", "+4 h", "End of today", "Keep", "Clear"]:
        assert f"> {label}</label>" in text
    assert "/static/js/console.js" in text
    # Every script is a file or carries the nonce: nothing inline without it.
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or "nonce=" in tag, tag
