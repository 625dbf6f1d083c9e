"""Callbacks and messages to the local team, write side: book a seat with a
promised time, take, mark called or answered, reschedule, cancel, record a
wait credit when we are late, and forget personal data after a while.

Booking locks the team's contact row (select_for_update on PostgreSQL; SQLite
takes its write lock at the start of the transaction), and the unique
(team, slot, seat) constraint backs it: a seat booked twice at the same
instant goes to one request, the other gets the next free seat. Every write
leaves a ContactRequestEvent row, in the same transaction.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events
from ..models import (
    DONE_CONTACT_STATES,
    OPEN_CONTACT_STATES,
    Channel,
    ContactKind,
    ContactOutcome,
    ContactRequest,
    ContactRequestEvent,
    ContactState,
    TeamContact,
    WaitCredit,
    WaitCreditPolicy,
)
from ..queries import callback_slots
from .audit import as_text
from .subscriptions import normalize_email, normalize_phone

REASON_MAX = 500
MESSAGE_MAX = 1000
ANSWER_MAX = 2000
_ATTEMPTS = 5


class Booked:
    """The outcome of a booking: the request, and whether the chosen slot was gone so the next one was taken."""

    def __init__(self, request: ContactRequest, moved: bool):
        self.request = request
        self.moved = moved


def _log(request: ContactRequest, action: str, user=None, **changes) -> None:
    ContactRequestEvent.objects.create(
        request=request,
        action=action,
        user=user if getattr(user, "pk", None) else None,
        changes={name: as_text(value) for name, value in changes.items()},
    )


def clean_request(*, kind, phone="", email="", answer_channel="", reason="") -> dict:
    """Normalised fields, or ValidationError by field name (nothing written)."""
    errors: dict[str, str] = {}
    fields = {"phone": "", "email": "", "reason": (reason or "").strip()}
    if kind not in ContactKind.values:
        raise ValidationError({"kind": _("Choose a callback or a message.")})
    limit = REASON_MAX if kind == ContactKind.CALLBACK else MESSAGE_MAX
    if kind == ContactKind.MESSAGE and not fields["reason"]:
        errors["reason"] = _("Write your message.")
    if len(fields["reason"]) > limit:
        errors["reason"] = _("Please keep it under %(limit)d characters.") % {"limit": limit}
    channel = Channel.SMS if kind == ContactKind.CALLBACK else answer_channel
    if channel not in (Channel.SMS, Channel.EMAIL):
        errors["answer_channel"] = _("Choose how we should answer: e-mail or text message.")
    elif channel == Channel.SMS:
        try:
            fields["phone"] = normalize_phone(phone)
        except ValidationError as error:
            errors["phone"] = error.messages[0]
    else:
        try:
            fields["email"] = normalize_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address.")
    if errors:
        raise ValidationError(errors)
    fields["answer_channel"] = channel
    return fields


def book(
    *,
    area,
    kind,
    service=None,
    slot_start: datetime | None = None,
    language="",
    team=None,
    incident=None,
    now=None,
    **given,
) -> Booked:
    """Book a callback or message for the team of `area` (`team`: it, if the
    caller has read it); ValidationError by field if it cannot be."""
    now = now or timezone.now()
    no_team = ValidationError({"area": _("This area has no local team taking requests.")})
    team = team or callback_slots.team_for_area(area)
    if team is None:
        raise no_team
    fields = clean_request(kind=kind, **given)
    zone = zoneinfo.ZoneInfo(area.time_zone)
    for _attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                # The team's settings read once, locked: whether it takes requests and its capacity.
                contact = TeamContact.objects.select_for_update().filter(team=team, enabled=True).first()
                if contact is None:
                    raise no_team
                seat, moved = _choose_seat(contact, zone, now, slot_start)
                request = ContactRequest.objects.create(
                    team=team,
                    kind=kind,
                    area=area,
                    service=service,
                    incident=incident,
                    language=language or settings.LANGUAGE_CODE,
                    asap=slot_start is None,
                    slot_start=seat[0],
                    seat=seat[1],
                    promised_at=seat[2],
                    created_at=now,
                    **fields,
                )
                _log(request, "booked", promised_at=request.promised_at, moved=moved or None)
                events.contact_request_changed(request.pk, notice="booked")
                return Booked(request, moved)
        except IntegrityError:
            # Someone else got that seat between our read and our write: read again.
            continue
    raise ValidationError({"slot": _("Many people are asking right now. Please try again in a minute.")})


def _choose_seat(contact, zone, now, slot_start):
    """((slot, seat, promised_at), moved): the chosen slot's seat, else the earliest free one after it."""
    if slot_start is not None:
        if slot_start <= now:
            raise ValidationError({"slot": _("That time has already passed. Choose a later one.")})
        found = callback_slots.seat_in_slot(contact, zone, now, slot_start)
        if found:
            return (slot_start, found[0], found[1]), False
        if slot_start.astimezone(zoneinfo.ZoneInfo("UTC")) not in set(callback_slots.slot_starts(contact, zone, now)):
            raise ValidationError({"slot": _("The team does not work at that time. Choose one of the times offered.")})
        later = callback_slots.earliest_seat(contact, zone, now, after=slot_start)
        if later:
            return later, True
    else:
        earliest = callback_slots.earliest_seat(contact, zone, now)
        if earliest:
            return earliest, False
    raise ValidationError({"slot": _("The team has no free time in the next two weeks.")})


def take(request: ContactRequest, user, now=None) -> bool:
    """Assign an open request to `user`. Two people at once: one wins, the other gets False."""
    now = now or timezone.now()
    with transaction.atomic():
        won = ContactRequest.objects.filter(pk=request.pk, state=ContactState.OPEN, taken_by=None).update(
            state=ContactState.TAKEN, taken_by=user, taken_at=now, version=F("version") + 1
        )
        if won:
            request.refresh_from_db()
            _log(request, "taken", user, taken_by=user)
    return bool(won)


def _close(request: ContactRequest, user, state, now, action, notice=None, **changes) -> ContactRequest:
    with transaction.atomic():
        locked = ContactRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state not in OPEN_CONTACT_STATES:
            raise ValidationError(_("This request is already closed."))
        locked.state = state
        locked.done_at = now
        if not locked.taken_by_id and getattr(user, "pk", None):
            locked.taken_by = user
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.seat = None if state == ContactState.CANCELLED else locked.seat
        locked.version += 1
        locked.save()
        _log(locked, action, user, state=state, **changes)
        if state in DONE_CONTACT_STATES:
            _record_credit(locked, now)
        events.contact_request_changed(locked.pk, notice=notice)
    return locked


def mark_called(request: ContactRequest, user, outcome: str, now=None) -> ContactRequest:
    """A callback made. "No answer, try again" puts it back in the queue; the promise stands."""
    now = now or timezone.now()
    if request.kind != ContactKind.CALLBACK:
        raise ValidationError({"action": _("A message is answered, not called.")})
    if outcome not in ContactOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if outcome == ContactOutcome.NO_ANSWER:
        with transaction.atomic():
            updated = ContactRequest.objects.filter(pk=request.pk, state__in=OPEN_CONTACT_STATES).update(
                state=ContactState.OPEN, taken_by=None, taken_at=None, outcome=outcome, version=F("version") + 1
            )
            if not updated:
                raise ValidationError(_("This request is already closed."))
            request.refresh_from_db()
            _log(request, "no_answer", user, outcome=outcome)
            # Told at once, so a missed call is not mistaken for being forgotten.
            events.contact_request_changed(request.pk, notice="no_answer")
        return request
    return _close(request, user, ContactState.CALLED, now, "called", outcome=outcome)


def answer(request: ContactRequest, user, text: str, now=None) -> ContactRequest:
    """A message answered; the text goes to the customer by the channel they chose, after the commit."""
    now = now or timezone.now()
    if request.kind != ContactKind.MESSAGE:
        raise ValidationError({"action": _("A callback is called, not answered in writing.")})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"answer": _("Write the answer.")})
    if len(text) > ANSWER_MAX:
        raise ValidationError({"answer": _("Please keep it under %(limit)d characters.") % {"limit": ANSWER_MAX}})
    return _close(
        request, user, ContactState.ANSWERED, now, "answered", "answered", answer=text, outcome=ContactOutcome.RESOLVED
    )


def cancel(request: ContactRequest, user=None, now=None) -> ContactRequest:
    """Cancelled by the customer (no user) or by the team, who tell the customer so."""
    notice = "cancelled" if getattr(user, "pk", None) else None
    return _close(request, user, ContactState.CANCELLED, now or timezone.now(), "cancelled", notice)


def reschedule(request: ContactRequest, slot_start: datetime, user=None, now=None) -> Booked:
    """Move an open request to another slot (its seat is given up in the same transaction)."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(request.area.time_zone)
    for _attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                contact = TeamContact.objects.select_for_update().get(team_id=request.team_id)
                locked = ContactRequest.objects.select_for_update().get(pk=request.pk)
                if locked.state not in OPEN_CONTACT_STATES:
                    raise ValidationError(_("This request is already closed."))
                ContactRequest.objects.filter(pk=locked.pk).update(seat=None)
                (start, seat, promised), moved = _choose_seat(contact, zone, now, slot_start)
                before = locked.promised_at
                locked.slot_start, locked.seat, locked.promised_at, locked.asap = start, seat, promised, False
                locked.version += 1
                locked.save()
                _log(locked, "rescheduled", user, promised_at=[as_text(before), as_text(promised)])
                events.contact_request_changed(locked.pk, notice="rescheduled")
                return Booked(locked, moved)
        except IntegrityError:
            continue
    raise ValidationError({"slot": _("Many people are asking right now. Please try again in a minute.")})


# Wait credits -------------------------------------------------------------


def _policy_for(minutes_late: float) -> WaitCreditPolicy | None:
    """The highest active threshold the lateness is strictly beyond."""
    return (
        WaitCreditPolicy.objects.filter(active=True, threshold_minutes__lt=minutes_late)
        .order_by("-threshold_minutes")
        .first()
    )


def _record_credit(request: ContactRequest, now: datetime) -> WaitCredit | None:
    late = request.lateness(now)
    if late is None:
        return None
    minutes = late.total_seconds() / 60
    policy = _policy_for(minutes)
    existing = WaitCredit.objects.filter(request=request).first()
    if existing:
        # Recorded once; at the close the final lateness is written down.
        if int(minutes) > existing.minutes_late:
            existing.minutes_late = int(minutes)
            existing.save(update_fields=["minutes_late"])
        return existing
    if policy is None:
        return None
    credit, created = WaitCredit.objects.get_or_create(
        request=request,
        defaults={
            "policy": policy,
            "minutes_late": int(minutes),
            "credit": policy.credit,
            # The wording in every language as it is now: a later edit of the policy changes no recorded credit.
            "credit_translations": dict(policy.credit_translations or {}),
            "recorded_at": now,
        },
    )
    if created:
        _log(request, "credited", minutes_late=int(minutes), credit=policy.credit)
    return credit


def record_wait_credits(now: datetime) -> int:
    """Periodic: open requests already later than a threshold get their credit now, once."""
    lowest = WaitCreditPolicy.objects.filter(active=True).order_by("threshold_minutes").first()
    if lowest is None:
        return 0
    due = ContactRequest.objects.filter(
        state__in=OPEN_CONTACT_STATES,
        promised_at__lt=now - timedelta(minutes=lowest.threshold_minutes),
        wait_credit__isnull=True,
    )
    recorded = 0
    for request in due:
        with transaction.atomic():
            if _record_credit(request, now):
                recorded += 1
    return recorded


# Personal data ------------------------------------------------------------


def delete_personal_data(now: datetime) -> int:
    """Blank phone numbers, addresses and texts of requests closed over N days ago (settings)."""
    days = getattr(settings, "CONTACT_PERSONAL_DATA_DAYS", 30)
    closed = ~Q(state__in=OPEN_CONTACT_STATES) & Q(done_at__lt=now - timedelta(days=days))
    return ContactRequest.objects.filter(closed, personal_data_deleted_at=None).update(
        phone="", email="", reason="", answer="", personal_data_deleted_at=now
    )
