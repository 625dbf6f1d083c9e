"""Email: the notice message with one-click unsubscribe, sent over the
configured mailer (EMAIL_URL), with SMTP errors sorted into permanent and
temporary ones.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from ..models import Delivery
from . import outcomes
from .compose import MANAGE_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from .links import link
from .outcomes import PermanentFailure, TemporaryFailure


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


def smtp_error(error: Exception) -> tuple[str, bool]:
    """A short description for the log and whether the failure is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return f"recipient refused ({', '.join(map(str, codes))})", all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}", error.smtp_code >= 500
    return f"SMTP unavailable: {type(error).__name__}", False


def send_one(email) -> None:
    """One message on its own (confirmations, a team's answer): raises TemporaryFailure / PermanentFailure."""
    try:
        mail.mailers.default.send_messages([email])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        description, permanent = smtp_error(error)
        raise (PermanentFailure if permanent else TemporaryFailure)(description) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(smtp_error(error)[0]) from None
    except ValueError:
        raise PermanentFailure("invalid address") from None


def send_emails(items: list[tuple[Delivery, dict]], on_progress) -> None:
    if not items:
        return
    mailer = mail.mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as error:
        description, permanent = smtp_error(error)
        for delivery, _rendered in items:
            outcomes.failed(delivery, description, permanent=False)
        return
    try:
        for index, (delivery, rendered) in enumerate(items):
            try:
                message = build_email(delivery, rendered)
                mailer.send_messages([message])
            except ValueError as error:  # an address Django refuses to put on the wire
                outcomes.failed(delivery, f"invalid address: {type(error).__name__}", permanent=True)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                description, permanent = smtp_error(error)
                outcomes.failed(delivery, description, permanent=permanent)
            except (OSError, smtplib.SMTPException) as error:
                # The connection is gone: this one and the rest of the batch retry later.
                description, _permanent = smtp_error(error)
                for later, _rendered in items[index:]:
                    outcomes.failed(later, description, permanent=False)
                mailer.connection = None
                return
            else:
                outcomes.sent(delivery)
            on_progress()
    finally:
        try:
            mailer.close()
        except (OSError, smtplib.SMTPException):
            pass
