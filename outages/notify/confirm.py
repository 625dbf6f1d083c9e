"""Confirmation and "manage" messages: the double opt-in (or, for someone
already subscribed, their manage link), by email or SMS, as a background task
retried with the engine's backoff while the server is unavailable.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .. import i18n
from ..models import Channel, Subscriber
from ..site import site_name
from .email import send_one
from .links import link
from .outcomes import try_sending
from .sms import get_backend


@task()
def send_confirmation(subscriber_id: int, already_confirmed: bool = False, attempt: int = 1) -> str:
    """The opt-in message as a task; retried with backoff while the server is unavailable."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return "gone"
    outcome, _error = try_sending(
        lambda: send_confirmation_message(subscriber, already_confirmed=already_confirmed),
        task=send_confirmation,
        args=(subscriber_id, already_confirmed),
        attempt=attempt,
    )
    return outcome


def enqueue_confirmation(subscriber_id: int, already_confirmed: bool) -> None:
    send_confirmation.enqueue(subscriber_id, already_confirmed)


def send_confirmation_message(subscriber: Subscriber, *, already_confirmed: bool = False) -> None:
    """The double opt-in message (or, for someone already subscribed, their manage link).

    Raises TemporaryFailure / PermanentFailure like the SMS backends."""
    with translation.override(subscriber.language):
        context = {
            "site_name": site_name(),
            "confirm_url": link(subscriber, "confirm"),
            "manage_url": link(subscriber, "manage"),
            "already_confirmed": already_confirmed,
            "areas": [area.localized_name for area in subscriber.areas.order_by("name")],
        }
        if subscriber.channel == Channel.SMS:
            url = context["manage_url"] if already_confirmed else context["confirm_url"]
            text = (
                _("%(site)s: manage your outage alerts: %(url)s")
                if already_confirmed
                else _("%(site)s: confirm outage alerts by text message: %(url)s")
            ) % {"site": site_name(), "url": i18n.isolate(url)}
            get_backend().send(subscriber.address, text)
            return
        subject = _("Your outage alerts") if already_confirmed else _("Confirm your outage alerts")
        email = EmailMultiAlternatives(
            subject=f"{site_name()}: {subject}",
            body=render_to_string("emails/confirm.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[subscriber.address],
            headers={"Auto-Submitted": "auto-generated"},
        )
        email.attach_alternative(render_to_string("emails/confirm.html", context), "text/html")
    send_one(email)
