"""Capacity and promises of a team's callbacks and messages (read side).

A team works its opening hours, read in the time zone of the area a customer
writes from, on every day that is not a holiday. Each whole staffed hour is a
slot of `callbacks_per_hour` seats; seat k of a slot starting at S is promised
for S + (k + 1) hours / capacity, so a full queue pushes promises later at
exactly the pace the team can answer. A chosen slot is promised by its end.
Hours are stepped in UTC from the local opening time, so a day with a
daylight-saving change has the 23 or 25 real hours it has.

Imports: models, i18n (isolates), and headline for the written time. The booking itself is outages.services.contact_requests.
"""

from __future__ import annotations

import html
import statistics
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import conditional_escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import i18n
from ..models import (
    DONE_CONTACT_STATES,
    OPEN_CONTACT_STATES,
    ContactKind,
    ContactRequest,
    ContactState,
    Incident,
    Kind,
    ServiceArea,
    TeamContact,
    TeamRegion,
    WaitCredit,
)
from . import headline

HORIZON_DAYS = 14
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    capacity: int
    booked: int

    @property
    def end(self) -> datetime:
        return self.start + HOUR

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    def seat_time(self, seat: int) -> datetime:
        return self.start + HOUR * (seat + 1) / self.capacity


def team_for_area(area: ServiceArea):
    """The team that owns the area's region or the nearest region above it (None: nobody)."""
    region = area.region
    seen: set[int] = set()
    while region is not None and region.pk not in seen:
        seen.add(region.pk)
        owner = TeamRegion.objects.filter(region_id=region.pk).select_related("team").first()
        if owner:
            return owner.team
        region = region.parent
    return None


def contact_for(team) -> TeamContact | None:
    if team is None:
        return None
    return TeamContact.objects.filter(team=team, enabled=True).first()


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def holidays(contact: TeamContact) -> set[date]:
    return {date.fromisoformat(line) for line in contact.holidays.split() if line}


def hours_on(contact: TeamContact, day: date) -> tuple[time, time] | None:
    """Opening and closing local time on that date (None: closed all day)."""
    span = (contact.hours or {}).get(str(day.weekday()))
    if not span or day in holidays(contact):
        return None
    return _parse(span[0]), _parse(span[1])


def _aware(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    # A wall time inside a spring-forward gap does not exist; the round trip
    # through UTC moves it to the first real instant after the gap.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def opening_spans(contact: TeamContact, zone: zoneinfo.ZoneInfo, start: date, days: int):
    """(local date, open, close) as aware datetimes, for each open day from `start`."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        span = hours_on(contact, day)
        if span:
            yield day, _aware(day, span[0], zone), _aware(day, span[1], zone)


def slot_starts(contact: TeamContact, zone: zoneinfo.ZoneInfo, now: datetime, days: int = HORIZON_DAYS):
    """Every staffed hour (UTC starts) that has not ended by `now`, for `days` local days."""
    today = now.astimezone(zone).date()
    for _day, opens, closes in opening_spans(contact, zone, today, days):
        start, end = opens.astimezone(UTC), closes.astimezone(UTC)
        while start + HOUR <= end:
            if start + HOUR > now:
                yield start
            start += HOUR


def booked_seats(team_id: int, starts: list[datetime]) -> dict[datetime, set[int]]:
    """The seats taken in these slots (only these: the full ones between them can hold thousands)."""
    seats: dict[datetime, set[int]] = {}
    rows = ContactRequest.objects.filter(team_id=team_id, seat__isnull=False, slot_start__in=starts).values_list(
        "slot_start", "seat"
    )
    for start, seat in rows:
        seats.setdefault(start.astimezone(UTC), set()).add(seat)
    return seats


def booked_counts(team_id: int, since: datetime, until: datetime) -> dict[datetime, int]:
    """Seats booked per slot: one row per slot, however many customers booked (a storm books thousands)."""
    rows = (
        ContactRequest.objects.filter(team_id=team_id, seat__isnull=False, slot_start__gte=since, slot_start__lt=until)
        .values("slot_start")
        .annotate(booked=Count("id"))
        .order_by()
        .values_list("slot_start", "booked")
    )
    return {start.astimezone(UTC): booked for start, booked in rows}


def slots(contact: TeamContact, zone, now: datetime | None = None, days: int = HORIZON_DAYS) -> list[Slot]:
    """The team's slots from now on, with how many seats are booked."""
    now = now or timezone.now()
    starts = list(slot_starts(contact, zone, now, days))
    if not starts:
        return []
    booked = booked_counts(contact.team_id, starts[0], starts[-1] + HOUR)
    capacity = contact.callbacks_per_hour
    return [Slot(start, capacity, booked.get(start, 0)) for start in starts]


def offered_slots(contact: TeamContact, zone, now: datetime | None = None, limit: int = 24) -> list[Slot]:
    """The slots a customer may choose: starting later than now, not full."""
    now = now or timezone.now()
    return [slot for slot in slots(contact, zone, now) if slot.start > now and slot.free][:limit]


def free_seat(slot: Slot, taken: set[int], now: datetime, *, asap: bool) -> int | None:
    """The lowest free seat; for ASAP, only seats whose promised time is still ahead."""
    for seat in range(slot.capacity):
        if seat not in taken and (not asap or slot.seat_time(seat) > now):
            return seat
    return None


def earliest_seat(contact: TeamContact, zone, now: datetime, *, after: datetime | None = None):
    """(slot start, seat, promised time) of the earliest free seat; None if the horizon is full."""
    starts = [start for start in slot_starts(contact, zone, now) if after is None or start >= after]
    if not starts:
        return None
    capacity = contact.callbacks_per_hour
    booked = booked_counts(contact.team_id, starts[0], starts[-1] + HOUR)
    # Two slots with room at most: the first may have only seats already past,
    # a later one has a free seat ahead of now (it starts after now).
    candidates = [start for start in starts if booked.get(start, 0) < capacity][:2]
    if not candidates:
        return None
    taken = booked_seats(contact.team_id, candidates)
    for start in candidates:
        slot = Slot(start, capacity, 0)
        seat = free_seat(slot, taken.get(start, set()), now, asap=True)
        if seat is not None:
            return start, seat, slot.seat_time(seat)
    return None


def seat_in_slot(contact: TeamContact, zone, now: datetime, start: datetime):
    """(seat, promised time) in the chosen slot, or None if it is full or not a slot of ours."""
    start = start.astimezone(UTC)
    if start <= now or start not in set(slot_starts(contact, zone, now)):
        return None
    taken = booked_seats(contact.team_id, [start]).get(start, set())
    slot = Slot(start, contact.callbacks_per_hour, len(taken))
    seat = free_seat(slot, taken, now, asap=False)
    return None if seat is None else (seat, slot.end)


@dataclass(frozen=True)
class Opening:
    open_now: bool
    today: tuple[time, time] | None
    next_open: datetime | None  # local, aware


def opening(contact: TeamContact, zone, now: datetime | None = None) -> Opening:
    """ "Open today 08:00–20:00", or when it opens next."""
    now = (now or timezone.now()).astimezone(zone)
    today = hours_on(contact, now.date())
    open_now = False
    next_open = None
    for _day, opens, closes in opening_spans(contact, zone, now.date(), HORIZON_DAYS):
        if opens <= now < closes:
            open_now = True
        if opens > now:
            next_open = opens
            break
    return Opening(open_now, today, next_open)


def queue_length(team_id: int) -> int:
    return ContactRequest.objects.filter(team_id=team_id, state__in=OPEN_CONTACT_STATES).count()


@dataclass(frozen=True)
class PromiseRecord:
    total: int
    kept: int
    median_late_minutes: float | None

    @property
    def share_kept(self) -> int | None:
        return None if not self.total else round(100 * self.kept / self.total)


def promise_record(
    now: datetime | None = None, *, team_ids=None, region_ids=None, kind: str | None = None, days: int = 30
):
    """Promises whose time came in the last `days` days: share kept, median lateness of the late ones."""
    now = now or timezone.now()
    rows = ContactRequest.objects.filter(promised_at__gt=now - timedelta(days=days), promised_at__lte=now).exclude(
        state=ContactState.CANCELLED
    )
    if team_ids is not None:
        rows = rows.filter(team_id__in=team_ids)
    if region_ids is not None:
        rows = rows.filter(area__region_id__in=region_ids)
    if kind:
        rows = rows.filter(kind=kind)
    total = kept = 0
    late: list[float] = []
    for state, promised_at, done_at in rows.values_list("state", "promised_at", "done_at"):
        total += 1
        end = done_at if state in DONE_CONTACT_STATES else now
        if end <= promised_at:
            kept += 1
        else:
            late.append((end - promised_at).total_seconds() / 60)
    return PromiseRecord(total, kept, statistics.median(late) if late else None)


def callback_record(team_id: int, now: datetime | None = None) -> PromiseRecord:
    return promise_record(now, team_ids=[team_id], kind=ContactKind.CALLBACK)


def deflection(area: ServiceArea, service=None):
    """The active incident covering the area (and the service, if chosen): said before the form."""
    incidents = Incident.objects.active().filter(kind=Kind.INCIDENT, incident_areas__area=area)
    if service is not None:
        incidents = incidents.filter(Q(services=service) | Q(services=None))
    return incidents.order_by("-started_at").distinct().first()


def contact_panel(area: ServiceArea, now: datetime | None = None) -> dict | None:
    """What the area page and the contact page show of the local team (None: no team takes requests)."""
    now = now or timezone.now()
    team = team_for_area(area)
    contact = contact_for(team)
    if contact is None:
        return None
    zone = zoneinfo.ZoneInfo(area.time_zone)
    record = callback_record(team.pk, now)
    return {
        "team": team,
        "contact": contact,
        "opening": opening(contact, zone, now),
        "record": record if record.total else None,
        "queue": queue_length(team.pk),
    }


# The sentences of a request: its page and the messages to the customer say the same words.
# The translated text is ours; what fills it (team name, credit wording) is escaped.


def promise_sentence(request: ContactRequest) -> SafeString:
    """ "Budapest Network Team will call you by 14:30 CEST." (HTML: the time is a
    <time>); in a right-to-left language the team's name is isolated."""
    if request.kind == ContactKind.CALLBACK:
        text = _("%(team)s will call you by %(time)s.")
    else:
        text = _("%(team)s will answer by %(time)s.")
    when = headline.local_time(request.promised_at, request.area.time_zone)
    team = conditional_escape(i18n.isolate(request.team.localized_public_name))
    return mark_safe(text % {"team": team, "time": when})


def credit_sentence(credit: WaitCredit) -> SafeString:
    """ "Sorry — we were 12 minutes late. You'll receive a $5 credit." The wording
    is the recorded one, in the active language; in a right-to-left one it is isolated."""
    text = ngettext(
        "Sorry — we were %(minutes)d minute late. You'll receive %(credit)s.",
        "Sorry — we were %(minutes)d minutes late. You'll receive %(credit)s.",
        credit.minutes_late,
    )
    wording = conditional_escape(i18n.isolate(credit.localized_credit))
    return mark_safe(text % {"minutes": credit.minutes_late, "credit": wording})


def plain(sentence: str) -> str:
    """The text form of one of these sentences, for SMS and e-mail."""
    return html.unescape(strip_tags(sentence))
