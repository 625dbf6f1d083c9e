"""Callbacks and messages to the local team: capacity, promises, hours in the
area's zone (across a daylight-saving change), the late -> credit rule, the
races, and forgetting personal data."""

import csv
import io
import threading
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from outages import jobs
from outages.models import (
    ContactKind,
    ContactOutcome,
    ContactRequest,
    ContactState,
    Team,
    TeamContact,
    TeamRegion,
    WaitCredit,
    WaitCreditPolicy,
)
from outages.queries import callback_slots, credit_export
from outages.services import contact_requests
from tests import factories

pytestmark = pytest.mark.django_db

BUDAPEST = zoneinfo.ZoneInfo("Europe/Budapest")
WEEKDAYS = {str(day): ["08:00", "20:00"] for day in range(5)}
# Tuesday 12 May 2026, 10:05 in Budapest (UTC+2).
T0 = datetime(2026, 5, 12, 8, 5, tzinfo=UTC)
PHONE = "+36301234567"


def local_team(capacity=2, hours=None, holidays="", time_zone="Europe/Budapest"):
    region = factories.region("Budapest")
    area = factories.area("District 5", region_obj=region, slug="district-5", time_zone=time_zone)
    team = Team.objects.create(name="Budapest crew", public_name="Budapest Network Team")
    TeamRegion.objects.create(team=team, region=region)
    contact = TeamContact.objects.create(
        team=team, hours=WEEKDAYS if hours is None else hours, holidays=holidays, callbacks_per_hour=capacity
    )
    return area, contact


def callback(area, now=T0, slot=None, phone=PHONE):
    return contact_requests.book(
        area=area, kind=ContactKind.CALLBACK, phone=phone, reason="No signal", slot_start=slot, now=now
    )


def local(request_or_time):
    value = getattr(request_or_time, "promised_at", request_or_time)
    return value.astimezone(BUDAPEST).strftime("%a %H:%M")


def test_asap_gets_the_earliest_free_seat_and_a_full_queue_pushes_promises_later():
    area, _ = local_team(capacity=2)
    # 10:05: seat 0 of the 10:00 hour (10:30) is still ahead, then 11:00, then the 11:00 hour.
    promised = [local(callback(area).request) for _ in range(4)]
    assert promised == ["Tue 10:30", "Tue 11:00", "Tue 11:30", "Tue 12:00"]


def test_seats_whose_time_has_passed_are_not_promised():
    area, _ = local_team(capacity=2)
    late_in_hour = T0 + timedelta(minutes=30)  # 10:35: the 10:30 seat is gone
    assert local(callback(area, now=late_in_hour).request) == "Tue 11:00"


def test_a_full_slot_is_not_offered_and_choosing_it_gives_the_next_one():
    area, contact = local_team(capacity=1)
    noon = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)  # 12:00 local
    first = callback(area, slot=noon)
    assert not first.moved and local(first.request) == "Tue 13:00"  # promised by the slot's end
    offered = [slot.start for slot in callback_slots.offered_slots(contact, BUDAPEST, T0)]
    assert noon not in offered and noon + timedelta(hours=1) in offered
    second = callback(area, slot=noon, phone="+36301234568")
    assert second.moved and second.request.slot_start == noon + timedelta(hours=1)


def test_out_of_hours_asap_is_the_next_opening_and_holidays_are_closed():
    area, _ = local_team(capacity=4, holidays="2026-05-13")
    evening = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)  # 20:30 Tuesday, closed
    # Wednesday is a holiday: Thursday 08:15 is the first seat.
    assert local(callback(area, now=evening).request) == "Thu 08:15"


def test_hours_are_read_in_the_area_time_zone():
    area, contact = local_team(capacity=1, time_zone="America/New_York")
    zone = zoneinfo.ZoneInfo(area.time_zone)
    first = next(callback_slots.slot_starts(contact, zone, T0))  # 04:05 in New York
    assert first.astimezone(zone).strftime("%H:%M") == "08:00"
    assert first == datetime(2026, 5, 12, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "slots_utc"),
    [
        # Sunday 29 March 2026: 02:00 -> 03:00, open 00:00-06:00 local is five real hours.
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 5),
        # Sunday 25 October 2026: 03:00 -> 02:00, the same hours are seven real hours.
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), 7),
    ],
)
def test_a_daylight_saving_day_has_the_hours_it_really_has(day, slots_utc):
    _, contact = local_team(capacity=1, hours={"6": ["00:00", "06:00"]})
    starts = [s for s in callback_slots.slot_starts(contact, BUDAPEST, day, days=2)]
    assert len(starts) == slots_utc
    assert starts[0].astimezone(BUDAPEST).strftime("%H:%M") == "00:00"
    assert (starts[-1] + timedelta(hours=1)).astimezone(BUDAPEST).strftime("%H:%M") == "06:00"


def test_an_opening_inside_the_spring_gap_starts_at_the_first_real_instant():
    _, contact = local_team(capacity=1, hours={"6": ["02:30", "05:00"]})
    starts = list(callback_slots.slot_starts(contact, BUDAPEST, datetime(2026, 3, 28, 12, 0, tzinfo=UTC), days=2))
    assert [s.astimezone(BUDAPEST).strftime("%H:%M") for s in starts] == ["03:30"]


def test_opening_says_open_today_or_when_it_opens_next():
    _, contact = local_team()
    now = callback_slots.opening(contact, BUDAPEST, T0)
    assert now.open_now and [t.strftime("%H:%M") for t in now.today] == ["08:00", "20:00"]
    friday_night = datetime(2026, 5, 15, 19, 0, tzinfo=UTC)
    later = callback_slots.opening(contact, BUDAPEST, friday_night)
    assert not later.open_now and later.next_open.strftime("%a %H:%M") == "Mon 08:00"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": ContactKind.CALLBACK, "phone": "12"}, "phone"),
        ({"kind": ContactKind.CALLBACK, "phone": "+441632960961"}, "phone"),  # not an allowed country
        ({"kind": ContactKind.CALLBACK, "phone": PHONE, "reason": "x" * 501}, "reason"),
        ({"kind": ContactKind.MESSAGE, "answer_channel": "email", "email": "nope", "reason": "Hi"}, "email"),
        ({"kind": ContactKind.MESSAGE, "answer_channel": "email", "email": "a@example.com"}, "reason"),
        ({"kind": ContactKind.CALLBACK, "phone": PHONE, "slot_start": T0 - timedelta(hours=1)}, "slot"),
        ({"kind": ContactKind.CALLBACK, "phone": PHONE, "slot_start": T0 + timedelta(hours=14)}, "slot"),  # closed
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(fields, field):
    area, _ = local_team()
    with pytest.raises(ValidationError) as error:
        contact_requests.book(area=area, now=T0, **fields)
    assert field in error.value.message_dict
    assert not ContactRequest.objects.exists()


def test_an_area_without_a_team_is_refused():
    with pytest.raises(ValidationError) as error:
        contact_requests.book(area=factories.area(), kind=ContactKind.CALLBACK, phone=PHONE, now=T0)
    assert "area" in error.value.message_dict


def test_a_message_is_promised_by_the_same_capacity():
    area, _ = local_team(capacity=2)
    callback(area)
    message = contact_requests.book(
        area=area, kind=ContactKind.MESSAGE, answer_channel="email", email="Ann@Example.com", reason="Bill?", now=T0
    ).request
    assert local(message) == "Tue 11:00" and message.email == "ann@example.com"


def staff(name="ann"):
    return get_user_model().objects.create_user(name, password="pw", is_staff=True)


def test_take_once_then_called_closes_it():
    area, _ = local_team()
    request = callback(area).request
    ann, bob = staff("ann"), staff("bob")
    assert contact_requests.take(request, ann, now=T0)
    assert not contact_requests.take(request, bob, now=T0)
    assert request.taken_by == ann
    done = contact_requests.mark_called(request, ann, ContactOutcome.RESOLVED, now=T0 + timedelta(minutes=5))
    assert done.state == ContactState.CALLED and done.lateness() is None
    assert [e.action for e in done.events.all()] == ["booked", "taken", "called"]


def test_no_answer_puts_it_back_in_the_queue():
    area, _ = local_team()
    request = callback(area).request
    ann = staff()
    contact_requests.take(request, ann, now=T0)
    again = contact_requests.mark_called(request, ann, ContactOutcome.NO_ANSWER, now=T0)
    assert again.state == ContactState.OPEN and again.taken_by is None


def test_cancel_frees_the_seat_and_reschedule_moves_it():
    area, _ = local_team(capacity=1)
    first = callback(area).request  # 11:00
    contact_requests.cancel(first, now=T0)
    second = callback(area).request
    assert local(second) == "Tue 11:00"
    moved = contact_requests.reschedule(second, datetime(2026, 5, 12, 12, 0, tzinfo=UTC), now=T0).request
    assert local(moved) == "Tue 15:00"
    assert local(callback(area).request) == "Tue 11:00"


def test_late_beyond_the_threshold_earns_the_credit_once_and_not_at_the_boundary():
    area, _ = local_team()
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit")
    with time_machine.travel(T0, tick=False) as clock:
        request = callback(area, now=T0).request  # promised 10:30 local
        promised = request.promised_at
        clock.move_to(promised + timedelta(minutes=5))  # exactly 5 minutes late: not "more than"
        assert jobs.tick()["record_wait_credits"] == 0
        clock.move_to(promised + timedelta(minutes=5, seconds=1))
        assert jobs.tick()["record_wait_credits"] == 1
        assert jobs.tick()["record_wait_credits"] == 0
        clock.move_to(promised + timedelta(minutes=12))
        contact_requests.mark_called(request, staff(), ContactOutcome.RESOLVED)
    credit = WaitCredit.objects.get()
    assert credit.request == request and credit.minutes_late == 12 and credit.credit == "a $5 credit"


def test_called_exactly_at_the_threshold_earns_nothing():
    area, _ = local_team()
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit")
    request = callback(area).request
    contact_requests.mark_called(
        request, staff(), ContactOutcome.RESOLVED, now=request.promised_at + timedelta(minutes=5)
    )
    assert not WaitCredit.objects.exists()
    assert request.promised_at + timedelta(minutes=5) > request.promised_at  # late, but within the policy


def test_an_inactive_policy_grants_nothing():
    area, _ = local_team()
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit", active=False)
    request = callback(area).request
    contact_requests.mark_called(
        request, staff(), ContactOutcome.RESOLVED, now=request.promised_at + timedelta(hours=1)
    )
    assert not WaitCredit.objects.exists()


def test_promise_record_counts_kept_and_median_lateness():
    area, contact = local_team(capacity=4)
    ann = staff()
    requests = [callback(area, phone=f"+3630123456{n}").request for n in range(4)]
    for request, late in zip(requests, [0, 0, 10, 20], strict=True):
        contact_requests.mark_called(
            request, ann, ContactOutcome.RESOLVED, now=request.promised_at + timedelta(minutes=late)
        )
    record = callback_slots.callback_record(contact.team_id, now=T0 + timedelta(days=1))
    assert (record.total, record.kept, record.share_kept, record.median_late_minutes) == (4, 2, 50, 15)


def test_personal_data_is_blanked_days_after_the_request_closes(settings):
    settings.CONTACT_PERSONAL_DATA_DAYS = 30
    area, _ = local_team()
    closed, still_open = callback(area).request, callback(area, phone="+36301234568").request
    contact_requests.mark_called(closed, staff(), ContactOutcome.RESOLVED, now=T0)
    assert contact_requests.delete_personal_data(T0 + timedelta(days=29)) == 0
    assert jobs.tick(T0 + timedelta(days=30, minutes=1))["delete_personal_data"] == 1
    closed.refresh_from_db()
    still_open.refresh_from_db()
    assert (closed.phone, closed.reason, closed.area, closed.outcome) == ("", "", area, ContactOutcome.RESOLVED)
    assert still_open.phone == "+36301234568"


def _race(count, work):
    """Run `work(i)` in `count` threads released at the same instant; each has its own connection."""
    barrier, results, errors = threading.Barrier(count), [None] * count, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_people_take_the_same_request_one_wins():
    area, _ = local_team()
    request = callback(area).request
    people = [staff("ann"), staff("bob")]
    won = _race(2, lambda i: contact_requests.take(ContactRequest.objects.get(pk=request.pk), people[i], now=T0))
    assert sorted(won) == [False, True]
    request.refresh_from_db()
    assert request.taken_by == people[won.index(True)]


@pytest.mark.django_db(transaction=True)
def test_the_same_slot_booked_at_the_same_instant_goes_to_one_the_other_gets_the_next():
    area, _ = local_team(capacity=1)
    noon = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)
    booked = _race(4, lambda i: callback(area, slot=noon, phone=f"+3630123450{i}"))
    starts = sorted(b.request.slot_start for b in booked)
    assert starts == [noon + timedelta(hours=n) for n in range(4)]
    assert sum(not b.moved for b in booked) == 1


def test_wait_credits_are_rows_of_the_billing_csv_with_their_kind():
    area, _ = local_team()
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit")
    request = callback(area).request
    contact_requests.mark_called(
        request, staff(), ContactOutcome.RESOLVED, now=request.promised_at + timedelta(minutes=12)
    )
    out = io.StringIO()
    assert credit_export.write_credits_csv(out, T0 - timedelta(days=1), T0 + timedelta(days=1)) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0])[:-1] == credit_export.CSV_COLUMNS[:-1] and list(rows[0])[-1] == "kind"
    row = rows[0]
    assert (row["kind"], row["area_slug"], row["duration_minutes"], row["credit"], row["threshold_minutes"]) == (
        "wait",
        "district-5",
        "12",
        "a $5 credit",
        "5",
    )


def test_the_confirmation_is_queued_with_the_booking_and_rolled_back_with_it():
    from django_tasks_db.models import DBTaskResult

    area, _ = local_team()
    with pytest.raises(RuntimeError), transaction.atomic():
        callback(area)
        # Inside the booking's transaction already: no second write after commit.
        assert DBTaskResult.objects.filter(task_path__endswith="send_contact_notice").count() == 1
        raise RuntimeError("the caller's transaction fails")
    assert not ContactRequest.objects.exists() and not DBTaskResult.objects.exists()
