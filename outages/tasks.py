"""Background work (django.tasks, run by `manage.py db_worker`)."""



from django.tasks import task
from django.utils import timezone

from . import notifications
from .models import Subscriber
from .scheduler import periodic
from .sms import PermanentFailure, TemporaryFailure


@task()
def deliver_event(event_id: int) -> dict:
    """Tell every subscriber of the affected areas about one incident update."""
    return notifications.run_event(event_id)


@task()
def send_confirmation(subscriber_id: int, already_confirmed: bool = False, attempt: int = 1) -> str:
    """The double opt-in message; retried with backoff while the server is unavailable."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return "gone"
    try:
        notifications.send_confirmation(subscriber, already_confirmed=already_confirmed)
    except PermanentFailure:
        return "failed"
    except TemporaryFailure:
        from django.conf import settings

        if attempt >= settings.NOTIFY_MAX_ATTEMPTS:
            return "failed"
        retry_at = timezone.now() + notifications.backoff(attempt)
        send_confirmation.using(run_after=retry_at).enqueue(subscriber_id, already_confirmed, attempt + 1)
        return "retry"
    return "sent"


@periodic
def revive_stalled_notifications(now) -> int:
    """A worker that died mid-event: its event is picked up again (see notifications.sweep)."""
    return notifications.sweep(now)



