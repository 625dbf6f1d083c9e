"""What happens after a write commits: the live push and the notifications.

The write side (outages.services) calls these inside its transaction. A
notification event (and a contact request's notice, a task row) is recorded
in that same transaction, so a committed change can never be forgotten;
everything else waits for transaction.on_commit, so a rolled-back write
announces nothing.

The receivers belong to the layers above: outages.live renders and publishes
the changed fragments, outages.notify delivers events, confirmation messages
and the chat replies sent from the worker. OutagesConfig.ready() connects
them, so the write side never imports the code that renders or sends.

Imports: models only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from .models import NotificationEvent


@dataclass
class Receivers:
    # (incident_id=id or None, area_ids=...): render and push what changed.
    publish: Callable[[int | None, frozenset[int]], object]
    # (notification event id): tell the subscribers.
    deliver: Callable[[int], object]
    # (subscriber id, already confirmed): send the opt-in or manage message.
    confirm: Callable[[int, bool], object]
    # (conversation message id): send our words in it to the customer from the worker.
    reply: Callable[[int], object]
    # (contact request id, notice): tell the customer (booked, rescheduled, answered, cancelled).
    contact_notice: Callable[[int, str], object]


_receivers: Receivers | None = None


def connect(receivers: Receivers) -> None:
    global _receivers
    _receivers = receivers


def receivers() -> Receivers:
    if _receivers is None:
        raise RuntimeError("outages.events has no receivers: OutagesConfig.ready() connects them")
    return _receivers


def _publish(incident_id: int | None, area_ids: frozenset[int]) -> None:
    receivers().publish(incident_id=incident_id, area_ids=area_ids)


def _deliver(event_id: int) -> None:
    receivers().deliver(event_id)


def _confirm(subscriber_id: int, already_confirmed: bool) -> None:
    receivers().confirm(subscriber_id, already_confirmed)


def _reply(message_id: int) -> None:
    receivers().reply(message_id)


def _contact_notice(request_id: int, notice: str) -> None:
    receivers().contact_notice(request_id, notice)


def incident_changed(incident, *, area_ids: set[int], update=None) -> None:
    """`update`: the timeline entry this change posted (open, update, resolve), if
    any: subscribers are told about it. Edits of facts alone notify nobody."""
    # The open pages first: queueing the subscribers' delivery is a write of its
    # own, and the event row below already keeps it from being forgotten.
    transaction.on_commit(partial(_publish, incident.pk, frozenset(area_ids)))
    if update is not None:
        event = NotificationEvent.objects.create(
            update=update, incident_id=update.incident_id, area_ids=sorted(area_ids), due_at=timezone.now()
        )
        transaction.on_commit(partial(_deliver, event.pk))


def area_changed(*, area_ids: set[int]) -> None:
    """Something an area page shows changed without an incident changing
    (the customer-reports notice): push the areas' status cards again."""
    transaction.on_commit(partial(_publish, None, frozenset(area_ids)))


def public_data_changed(*, area_ids=()) -> None:
    """Something the public pages show changed outside an incident (areas or
    regions edited or imported, team contacts, credit policies, report
    thresholds...): on commit, bump the cached pages' status version and push
    the banner (and these areas' cards) again, like any change."""
    transaction.on_commit(partial(_publish, None, frozenset(area_ids)))


def confirmation_requested(subscriber_id: int, *, already_confirmed: bool) -> None:
    """A subscription asked for its opt-in (or, already confirmed, its manage link)."""
    transaction.on_commit(partial(_confirm, subscriber_id, already_confirmed))


def reply_queued(message_id: int) -> None:
    """A conversation's answer that cannot ride in the webhook's response: the worker sends it."""
    transaction.on_commit(partial(_reply, message_id))


def contact_request_changed(request_id: int, *, notice: str | None = None) -> None:
    """A callback or message changed; `notice`: what the customer is told of it by SMS or e-mail.

    The notice is a task row in the same database, so it is queued inside the
    change's transaction and commits or rolls back with it: one write, not a
    second one after commit that a storm of bookings would queue for."""
    if notice:
        _contact_notice(request_id, notice)
