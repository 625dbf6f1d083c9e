"""The delivery engine: getting every event to every subscriber, once or more, never less.

How an incident update reaches subscribers:
1. The service that records the update calls events.incident_changed(...,
   update=...), which creates a NotificationEvent row in the SAME transaction
   (so a committed update can never be forgotten) and, on commit, enqueues
   one task (deliver_event, below) for it.
2. The task plans the deliveries once: one Delivery row per confirmed,
   unpaused subscriber of an affected area, unique per (event, subscriber,
   channel), so a subscriber of two affected areas gets one message.
3. It then works them off in batches: claim a batch (pending -> sending),
   send each message, record each outcome at once (sent, or a retry time with
   exponential backoff, or failed for good). Remaining retries re-enqueue the
   task for the earliest retry time.
4. A periodic sweep re-enqueues an event whose worker went silent (crash,
   kill -9) and hands its claimed-but-unconfirmed deliveries back.

Delivery is at-least-once: the only message that can be sent twice is one in
flight at the moment a worker dies (the server accepted it, we never recorded
it). Such a retry carries the same Message-ID / webhook-id, so the receiver
can recognise it. Nothing is ever skipped.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.tasks import task
from django.utils import timezone

from ..models import Channel, Delivery, NotificationEvent, Subscriber
from . import outcomes
from .chat import send_chats
from .compose import Composer
from .email import send_emails
from .sms import send_sms
from .webhook import send_webhooks
from .webpush import send_pushes

# A worker that has not touched its event for this long is presumed dead.
STALE_AFTER = timedelta(minutes=5)
# A task spends at most this long on one event before handing over to a fresh task.
TASK_TIME_BUDGET = 60.0


@task()
def deliver_event(event_id: int) -> dict:
    """Tell every subscriber of the affected areas about one incident update."""
    return run_event(event_id)


def enqueue(event_id: int, run_after: datetime | None = None) -> None:
    job = deliver_event.using(run_after=run_after) if run_after else deliver_event
    job.enqueue(event_id)


def recipients(area_ids):
    """Who an event for these areas goes to: their confirmed, unpaused subscribers."""
    return Subscriber.objects.filter(areas__in=area_ids, confirmed_at__isnull=False, paused=False)


def plan(event: NotificationEvent) -> int:
    """Create the deliveries once: the confirmed, unpaused subscribers of the affected areas."""
    if event.planned_at:
        return 0
    with transaction.atomic():
        event = NotificationEvent.objects.select_for_update().get(pk=event.pk)
        if event.planned_at:
            return 0
        now = timezone.now()
        rows = recipients(event.area_ids).values_list("pk", "channel").distinct()
        deliveries = [
            Delivery(event=event, subscriber_id=pk, channel=channel, next_attempt_at=now) for pk, channel in rows
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
        event.planned_at = now
        event.state = NotificationEvent.State.SENDING
        event.touched_at = now
        event.save(update_fields=["planned_at", "state", "touched_at"])
    return len(deliveries)


def claim(event_id: int, size: int) -> list[Delivery]:
    """Take a batch of due deliveries for this worker: pending -> sending, committed."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(event_id=event_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if ids:
            Delivery.objects.filter(id__in=ids, status=Delivery.Status.PENDING).update(
                status=Delivery.Status.SENDING, claimed_at=now
            )
    return list(
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING, claimed_at=now)
        .select_related("subscriber")
        .order_by("id")
    )


SENDERS = {
    Channel.EMAIL: send_emails,
    Channel.SMS: send_sms,
    Channel.WEBHOOK: send_webhooks,
    Channel.PUSH: send_pushes,
    Channel.CHAT: send_chats,
}


def send_batch(event: NotificationEvent, batch: list[Delivery], composer: Composer, on_progress) -> None:
    by_channel: dict[str, list[tuple[Delivery, dict]]] = {channel: [] for channel in SENDERS}
    subscriber_areas = _subscriber_areas([d.subscriber_id for d in batch if d.subscriber_id], event.area_ids)
    for delivery in batch:
        subscriber = delivery.subscriber
        if subscriber is None:
            outcomes.cancelled(delivery, "subscriber deleted")
            continue
        if not subscriber.is_active:
            outcomes.cancelled(delivery, "subscription paused" if subscriber.paused else "not confirmed")
            continue
        if not subscriber_areas.get(subscriber.pk):
            outcomes.cancelled(delivery, "no longer follows the affected areas")
            continue
        rendered = composer.for_subscriber(subscriber, subscriber_areas[subscriber.pk])
        by_channel[delivery.channel].append((delivery, rendered))
    for channel, items in by_channel.items():
        SENDERS[channel](items, on_progress)


def _subscriber_areas(subscriber_ids: list[int], area_ids: list[int]) -> dict[int, set[int]]:
    through = Subscriber.areas.through
    result: dict[int, set[int]] = {}
    for subscriber_id, area_id in through.objects.filter(
        subscriber_id__in=subscriber_ids, servicearea_id__in=area_ids
    ).values_list("subscriber_id", "servicearea_id"):
        result.setdefault(subscriber_id, set()).add(area_id)
    return result


def _touch(event_id: int) -> None:
    NotificationEvent.objects.filter(pk=event_id).update(touched_at=timezone.now())


def _schedule(event_id: int, when: datetime) -> None:
    """Enqueue the next run unless one is already due by then (never a pile of duplicate tasks)."""
    now = timezone.now()
    updated = (
        NotificationEvent.objects.filter(pk=event_id)
        .exclude(due_at__gt=now, due_at__lte=when)
        .update(due_at=when, touched_at=max(now, when))
    )
    if updated:
        enqueue(event_id, run_after=when if when > now else None)


@contextmanager
def _fast_commits():
    """PostgreSQL: do not wait for the WAL flush on each delivery's outcome.

    A worker crash loses nothing (the server has the commit); only a crash of
    the database server itself could forget the last fraction of a second of
    outcomes, and those messages would then be sent again, never skipped.
    Without it every message waits for one fsync (about 7x slower here)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def run_event(event_id: int, *, time_budget: float = TASK_TIME_BUDGET) -> dict:
    """The task's body: plan once, then send due deliveries batch by batch."""
    with _fast_commits():
        return _run_event(event_id, time_budget)


def _run_event(event_id: int, time_budget: float) -> dict:
    event = NotificationEvent.objects.select_related("incident", "update__incident").filter(pk=event_id).first()
    if event is None or event.state == NotificationEvent.State.DONE:
        return {"event": event_id, "sent": 0}
    plan(event)
    composer = Composer(event)
    started = time.monotonic()
    last_touch = [started]

    def on_progress():
        if time.monotonic() - last_touch[0] > 5:
            last_touch[0] = time.monotonic()
            _touch(event_id)

    handled = 0
    while batch := claim(event_id, settings.NOTIFY_BATCH_SIZE):
        send_batch(event, batch, composer, on_progress)
        handled += len(batch)
        _touch(event_id)
        if time.monotonic() - started > time_budget:
            _schedule(event_id, timezone.now())
            return {"event": event_id, "handled": handled, "more": True}
    return {"event": event_id, "handled": handled, **_finish_or_reschedule(event_id)}


def _finish_or_reschedule(event_id: int) -> dict:
    deliveries = Delivery.objects.filter(event_id=event_id)
    retry_at = deliveries.filter(status=Delivery.Status.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    if retry_at is not None:
        _schedule(event_id, retry_at)
        return {"retry_at": retry_at.isoformat()}
    if deliveries.filter(status=Delivery.Status.SENDING).exists():
        return {"in_flight_elsewhere": True}  # another worker finishes it; the sweep covers a dead one
    now = timezone.now()
    NotificationEvent.objects.filter(pk=event_id).update(
        state=NotificationEvent.State.DONE, finished_at=now, touched_at=now
    )
    return {"done": True}


def sweep(now: datetime) -> int:
    """Revive events whose worker went silent: hand back their claimed deliveries, enqueue them again."""
    horizon = now - STALE_AFTER
    revived = 0
    stale = NotificationEvent.objects.exclude(state=NotificationEvent.State.DONE).filter(
        touched_at__lt=horizon, due_at__lt=horizon
    )
    for event_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = NotificationEvent.objects.filter(pk=event_id, touched_at__lt=horizon, due_at__lt=horizon).update(
                touched_at=now, due_at=timezone.now()
            )
            if not claimed:
                continue
            Delivery.objects.filter(event_id=event_id, status=Delivery.Status.SENDING, claimed_at__lt=horizon).update(
                status=Delivery.Status.PENDING,
                claimed_at=None,
                next_attempt_at=timezone.now(),
                last_error="handed back after a worker stopped (may have been delivered once)",
            )
            transaction.on_commit(partial(enqueue, event_id))
        revived += 1
    return revived
