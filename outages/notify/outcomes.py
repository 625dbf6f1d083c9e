"""What happened to one delivery: sent, failed (retried with backoff or given
up), or cancelled. Every channel's sender records its outcomes here, at once,
so a worker that dies mid-batch loses at most the message in flight.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import Delivery

BACKOFF_CAP_SECONDS = 3600


class TemporaryFailure(Exception):
    """Worth retrying later: network trouble, a busy or failing server."""


class PermanentFailure(Exception):
    """Retrying will not help: a refused address, a forbidden URL."""


def backoff(attempts: int) -> timedelta:
    base = settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def try_sending(send, *, task, args: tuple, attempt: int) -> tuple[str, Exception | None]:
    """One attempt of a message sent by a task of its own (a confirmation, a
    notice, a chat reply): a temporary failure enqueues `task(*args, attempt + 1)`
    after the backoff, up to NOTIFY_MAX_ATTEMPTS. The outcome: sent, retry or
    failed, with the error behind the last two."""
    try:
        send()
    except PermanentFailure as error:
        return "failed", error
    except TemporaryFailure as error:
        if attempt >= settings.NOTIFY_MAX_ATTEMPTS:
            return "failed", error
        task.using(run_after=timezone.now() + backoff(attempt)).enqueue(*args, attempt + 1)
        return "retry", error
    return "sent", None


def sent(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=delivery.attempts + 1, last_error=""
    )


def failed(delivery: Delivery, error: str, *, permanent: bool) -> None:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_error": error[:300], "claimed_at": None}
    if permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields["status"] = Delivery.Status.FAILED
    else:
        fields["status"] = Delivery.Status.PENDING
        fields["next_attempt_at"] = timezone.now() + backoff(attempts)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def cancelled(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.CANCELLED, last_error=reason)
