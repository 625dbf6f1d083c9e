"""Proactive notifications: what a subscriber is told, and getting it to them.

How an incident update reaches subscribers:
1. The service that records the update calls events.incident_changed(...,
   update=...), which creates a NotificationEvent row in the SAME transaction
   (so a committed update can never be forgotten) and, on commit, enqueues
   one task (outages.tasks.deliver_event) for it.
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

import base64
import copy
import hashlib
import hmac
import json
import logging
import random
import secrets
import smtplib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core import mail, signing
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import announcements, credits, ssrf
from .models import (
    CLOSED_STATUSES,
    AreaStatus,
    Channel,
    Delivery,
    Incident,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    NotificationEvent,
    ServiceArea,
    Subscriber,
    area_status_for,
)
from .sms import PermanentFailure, TemporaryFailure, get_backend as get_sms_backend

log = logging.getLogger(__name__)

CONFIRM_MAX_AGE = timedelta(days=7)
# A worker that has not touched its event for this long is presumed dead.
STALE_AFTER = timedelta(minutes=5)
# A task spends at most this long on one event before handing over to a fresh task.
TASK_TIME_BUDGET = 60.0
BACKOFF_CAP_SECONDS = 3600
MANAGE_PLACEHOLDER = "__MANAGE_URL__"
UNSUBSCRIBE_PLACEHOLDER = "__UNSUBSCRIBE_URL__"


# Signed links ---------------------------------------------------------------

def make_token(subscriber: Subscriber, purpose: str) -> str:
    """A link token: the subscriber and its link key, signed for one purpose."""
    return signing.dumps([subscriber.pk, subscriber.link_key], salt=f"outages.subscription.{purpose}")


def read_token(token: str, purpose: str) -> Subscriber | None:
    """The subscriber a token names, or None if it is forged, expired or revoked."""
    max_age = CONFIRM_MAX_AGE if purpose == "confirm" else None
    try:
        pk, key = signing.loads(token, salt=f"outages.subscription.{purpose}", max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    subscriber = Subscriber.objects.filter(pk=pk).first()
    if subscriber is None or not hmac.compare_digest(str(subscriber.link_key), str(key)):
        return None
    return subscriber


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def link(subscriber: Subscriber, purpose: str) -> str:
    return absolute(reverse(f"subscribe-{purpose}", args=[make_token(subscriber, purpose)]))


# Composition: what the subscriber is told -----------------------------------

def local_time_text(value: datetime | None, tz) -> str:
    """"16:30 CET", or with the date when not today, in the active language."""
    if value is None:
        return ""
    return announcements.When(local=timezone.localtime(value, tz), today=timezone.localtime(timezone.now(), tz)).written()


def customer_sentence(incident: Incident, status: str, eta: datetime | None, area_names: str, tz) -> str:
    """What is wrong and when it will be fixed, as of this update, in the active
    language: the voice line's words (outages.announcements), plus the sentences
    only a message needs (announced and finished maintenance, resolution)."""
    params = {"area": area_names}
    if incident.kind == Kind.MAINTENANCE and status == MaintenanceStatus.SCHEDULED:
        params["start"] = local_time_text(incident.scheduled_for, tz)
        params["end"] = local_time_text(incident.scheduled_until, tz)
        return _("Planned maintenance in %(area)s from %(start)s to %(end)s.") % params
    if status == MaintenanceStatus.COMPLETED:
        return _("Planned maintenance in %(area)s is complete.") % params
    if status in CLOSED_STATUSES:
        return _("The outage in %(area)s is resolved.") % params
    # The incident as it stood at this update (a later one may have moved on).
    as_posted = copy.copy(incident)
    as_posted.status, as_posted.eta = status, eta
    return announcements.announce_for(area_names, tz, [as_posted]).text(written=True)


@dataclass
class Notice:
    """One event as told in one language for one set of areas."""

    kind: str
    subject: str
    sentence: str
    status: str
    status_label: str
    area_status_label: str
    title: str
    message: str
    eta: datetime | None
    eta_text: str
    url: str
    area_names: str
    credits: list[str] = field(default_factory=list)  # the credit sentences the page shows, if any


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def compose(event: NotificationEvent, areas: list[ServiceArea]) -> Notice:
    """What the page says about this event, for these areas, in the active language."""
    incident, update = event.incident, event.update
    areas = sorted(areas, key=lambda area: area.name) or [ServiceArea(name=_("your area"))]
    tz = areas[0].tzinfo if areas[0].time_zone else timezone.get_default_timezone()
    area_names = ", ".join(area.name for area in areas)
    eta = None if update.status in CLOSED_STATUSES else update.eta
    status_label = str(dict(Incident._meta.get_field("status").choices).get(update.status, update.status))
    return Notice(
        kind=event_kind(update),
        subject=_one_line(f"{status_label}: {incident.title} · {area_names}")[:200],
        sentence=customer_sentence(incident, update.status, eta, area_names, tz),
        status=update.status,
        status_label=status_label,
        area_status_label=str(AreaStatus(area_status_for(incident.kind, update.status, incident.impact)).label),
        title=_one_line(incident.title),
        message=update.localized_message,
        eta=eta,
        eta_text=local_time_text(eta, tz),
        url=absolute(incident.get_absolute_url()),
        area_names=area_names,
        credits=_credit_sentences(incident, areas),
    )


def _credit_sentences(incident: Incident, areas: list[ServiceArea]) -> list[str]:
    """The service-credit notices of these areas, as the incident card words them."""
    wanted = {area.pk for area in areas}
    return [
        notice.text()
        for notice in credits.notices_for(incident)
        if wanted & {area.pk for area in notice.areas}
    ]


def event_kind(update: IncidentUpdate) -> str:
    """incident.opened / incident.updated / incident.resolved (maintenance.* likewise)."""
    prefix = "maintenance" if update.incident.kind == Kind.MAINTENANCE else "incident"
    if update.status in CLOSED_STATUSES:
        return f"{prefix}.resolved"
    first = update.incident.updates.order_by("created_at", "id").values_list("pk", flat=True).first()
    return f"{prefix}.opened" if first == update.pk else f"{prefix}.updated"


class Composer:
    """Renders each (language, areas) combination once per task run, not once per subscriber."""

    def __init__(self, event: NotificationEvent):
        self.event = event
        self.areas = {area.pk: area for area in ServiceArea.objects.filter(pk__in=event.area_ids)}
        self.cache: dict[tuple, dict] = {}

    def for_subscriber(self, subscriber: Subscriber, area_ids: set[int]) -> dict:
        affected = sorted(pk for pk in area_ids if pk in self.areas)
        key = (subscriber.language, tuple(affected))
        if key not in self.cache:
            with translation.override(subscriber.language):
                notice = compose(self.event, [self.areas[pk] for pk in affected])
                context = {
                    "notice": notice,
                    "site_name": settings.SITE_NAME,
                    "manage_url": MANAGE_PLACEHOLDER,
                    "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
                }
                self.cache[key] = {
                    "notice": notice,
                    "text": render_to_string("emails/notice.txt", context),
                    "html": render_to_string("emails/notice.html", context),
                    "sms": _sms_text(notice),
                    "payload": _webhook_payload(self.event, notice, [self.areas[pk] for pk in affected]),
                }
        return self.cache[key]


def _sms_text(notice: Notice) -> str:
    return " ".join([notice.sentence, *notice.credits, notice.url])


def _webhook_payload(event: NotificationEvent, notice: Notice, areas: list[ServiceArea]) -> dict:
    incident, update = event.incident, event.update
    return {
        "type": notice.kind,
        "timestamp": update.created_at.isoformat(),
        "data": {
            "incident": {
                "id": incident.pk,
                "kind": incident.kind,
                "title": incident.title,
                "status": update.status,
                "impact": incident.impact,
                "eta": notice.eta.isoformat() if notice.eta else None,
                "url": notice.url,
            },
            "update": {"id": update.pk, "message": update.localized_message, "created_at": update.created_at.isoformat()},
            "areas": [{"slug": area.slug, "name": area.name} for area in areas],
            "text": notice.sentence,
            "credits": notice.credits,
            "language": translation.get_language(),
        },
    }


# Standard Webhooks ----------------------------------------------------------

def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: "v1,<base64 HMAC-SHA256 of id.timestamp.body>"."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(secret: str, headers, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: recompute the signature, compare in constant time, check freshness."""
    msg_id = headers.get("webhook-id", "")
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign_webhook(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in headers.get("webhook-signature", "").split())


# Recording an event (inside the writer's transaction) -------------------------

def record_event(update: IncidentUpdate, area_ids) -> None:
    """Called by events.incident_changed inside the service's transaction."""
    event = NotificationEvent.objects.create(
        update=update, incident_id=update.incident_id, area_ids=sorted(area_ids), due_at=timezone.now()
    )
    transaction.on_commit(partial(enqueue, event.pk))


def enqueue(event_id: int, run_after: datetime | None = None) -> None:
    from .tasks import deliver_event

    task = deliver_event.using(run_after=run_after) if run_after else deliver_event
    task.enqueue(event_id)


# Working off an event (the task) ------------------------------------------------

def backoff(attempts: int) -> timedelta:
    base = settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


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
        deliveries = [Delivery(event=event, subscriber_id=pk, channel=channel, next_attempt_at=now) for pk, channel in rows]
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


def _sent(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=delivery.attempts + 1, last_error=""
    )


def _failed(delivery: Delivery, error: str, *, permanent: bool) -> None:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_error": error[:300], "claimed_at": None}
    if permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields["status"] = Delivery.Status.FAILED
    else:
        fields["status"] = Delivery.Status.PENDING
        fields["next_attempt_at"] = timezone.now() + backoff(attempts)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def _cancel(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.CANCELLED, last_error=reason)


def message_id(delivery: Delivery) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notice.{delivery.event_id}.{delivery.pk}@{domain}>"


def build_email(delivery: Delivery, rendered: dict) -> EmailMultiAlternatives:
    subscriber = delivery.subscriber
    manage, unsubscribe = link(subscriber, "manage"), link(subscriber, "unsubscribe")

    def fill(text: str) -> str:
        return text.replace(MANAGE_PLACEHOLDER, manage).replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe)

    email = EmailMultiAlternatives(
        subject=rendered["notice"].subject,
        body=fill(rendered["text"]),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.address],
        headers={
            "Message-ID": message_id(delivery),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    email.attach_alternative(fill(rendered["html"]), "text/html")
    return email


def _smtp_error(error: Exception) -> tuple[str, bool]:
    """A short description for the log and whether the failure is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return f"recipient refused ({', '.join(map(str, codes))})", all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}", error.smtp_code >= 500
    return f"SMTP unavailable: {type(error).__name__}", False


def _send_emails(items: list[tuple[Delivery, dict]], on_progress) -> None:
    if not items:
        return
    mailer = mail.mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as error:
        description, permanent = _smtp_error(error)
        for delivery, _rendered in items:
            _failed(delivery, description, permanent=False)
        return
    try:
        for index, (delivery, rendered) in enumerate(items):
            try:
                message = build_email(delivery, rendered)
                mailer.send_messages([message])
            except ValueError as error:  # an address Django refuses to put on the wire
                _failed(delivery, f"invalid address: {type(error).__name__}", permanent=True)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                description, permanent = _smtp_error(error)
                _failed(delivery, description, permanent=permanent)
            except (OSError, smtplib.SMTPException) as error:
                # The connection is gone: this one and the rest of the batch retry later.
                description, _permanent = _smtp_error(error)
                for later, _rendered in items[index:]:
                    _failed(later, description, permanent=False)
                mailer.connection = None
                return
            else:
                _sent(delivery)
            on_progress()
    finally:
        try:
            mailer.close()
        except (OSError, smtplib.SMTPException):
            pass


def _send_sms(items: list[tuple[Delivery, dict]], on_progress) -> None:
    if not items:
        return
    backend = get_sms_backend()
    for delivery, rendered in items:
        try:
            backend.send(delivery.subscriber.address, rendered["sms"])
        except PermanentFailure as error:
            _failed(delivery, str(error), permanent=True)
        except TemporaryFailure as error:
            _failed(delivery, str(error), permanent=False)
        else:
            _sent(delivery)
        on_progress()


def webhook_request(delivery: Delivery, payload: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    msg_id = f"msg_{delivery.event_id}_{delivery.pk}"
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SITE_NAME} webhooks",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(delivery.subscriber.secret, msg_id, timestamp, body),
    }
    return body, headers


def _send_webhooks(items: list[tuple[Delivery, dict]], on_progress) -> None:
    for delivery, rendered in items:
        body, headers = webhook_request(delivery, rendered["payload"])
        try:
            response = ssrf.post(delivery.subscriber.address, body, headers)
        except ssrf.UnsafeURL as error:
            _failed(delivery, f"refused: {error}", permanent=True)
        except OSError as error:
            _failed(delivery, f"unreachable: {type(error).__name__}", permanent=False)
        else:
            status = response.status
            if 200 <= status < 300:
                _sent(delivery)
            elif 300 <= status < 400:
                _failed(delivery, f"answered {status} (redirects are not followed)", permanent=True)
            elif status in {408, 429} or status >= 500:
                _failed(delivery, f"answered {status}", permanent=False)
            else:
                _failed(delivery, f"answered {status}", permanent=True)
        on_progress()


SENDERS = {Channel.EMAIL: _send_emails, Channel.SMS: _send_sms, Channel.WEBHOOK: _send_webhooks}


def send_batch(event: NotificationEvent, batch: list[Delivery], composer: Composer, on_progress) -> None:
    by_channel: dict[str, list[tuple[Delivery, dict]]] = {channel: [] for channel in SENDERS}
    subscriber_areas = _subscriber_areas([d.subscriber_id for d in batch if d.subscriber_id], event.area_ids)
    for delivery in batch:
        subscriber = delivery.subscriber
        if subscriber is None:
            _cancel(delivery, "subscriber deleted")
            continue
        if not subscriber.is_active:
            _cancel(delivery, "subscription paused" if subscriber.paused else "not confirmed")
            continue
        if not subscriber_areas.get(subscriber.pk):
            _cancel(delivery, "no longer follows the affected areas")
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
    NotificationEvent.objects.filter(pk=event_id).update(state=NotificationEvent.State.DONE, finished_at=now, touched_at=now)
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
                status=Delivery.Status.PENDING, claimed_at=None, next_attempt_at=timezone.now(),
                last_error="handed back after a worker stopped (may have been delivered once)",
            )
            transaction.on_commit(partial(enqueue, event_id))
        revived += 1
    return revived


# Confirmation and "manage" messages --------------------------------------------

def send_confirmation(subscriber: Subscriber, *, already_confirmed: bool = False) -> None:
    """The double opt-in message (or, for someone already subscribed, their manage link).

    Raises TemporaryFailure / PermanentFailure like the SMS backends."""
    with translation.override(subscriber.language):
        context = {
            "site_name": settings.SITE_NAME,
            "confirm_url": link(subscriber, "confirm"),
            "manage_url": link(subscriber, "manage"),
            "already_confirmed": already_confirmed,
            "areas": list(subscriber.areas.order_by("name").values_list("name", flat=True)),
        }
        if subscriber.channel == Channel.SMS:
            url = context["manage_url"] if already_confirmed else context["confirm_url"]
            text = (
                _("%(site)s: manage your outage alerts: %(url)s")
                if already_confirmed
                else _("%(site)s: confirm outage alerts by text message: %(url)s")
            ) % {"site": settings.SITE_NAME, "url": url}
            get_sms_backend().send(subscriber.address, text)
            return
        subject = _("Your outage alerts") if already_confirmed else _("Confirm your outage alerts")
        email = EmailMultiAlternatives(
            subject=f"{settings.SITE_NAME}: {subject}",
            body=render_to_string("emails/confirm.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[subscriber.address],
            headers={"Auto-Submitted": "auto-generated"},
        )
        email.attach_alternative(render_to_string("emails/confirm.html", context), "text/html")
    try:
        mail.mailers.default.send_messages([email])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        description, permanent = _smtp_error(error)
        raise (PermanentFailure if permanent else TemporaryFailure)(description) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(_smtp_error(error)[0]) from None
    except ValueError:
        raise PermanentFailure("invalid address") from None
