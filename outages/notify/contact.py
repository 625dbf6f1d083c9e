"""Messages to a customer who asked the local team for a callback or wrote to it:
the confirmation with the promise and the signed link to the request's page,
a new time, the team's answer, a cancellation. Sent by the channel the customer
chose (SMS to the number, or e-mail), as a background task retried with the
engine's backoff while the server is unavailable.

The sentences are the request page's (queries.callback_slots), so both say the same.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task
from django.utils import translation
from django.utils.translation import gettext as _

from .. import i18n
from ..models import Channel, ContactKind, ContactRequest, WaitCredit
from ..queries import callback_slots
from ..site import site_name
from .email import send_one
from .links import contact_link
from .outcomes import try_sending
from .sms import get_backend

NOTICES = ("booked", "rescheduled", "no_answer", "answered", "cancelled")


@task()
def send_contact_notice(request_id: int, notice: str, attempt: int = 1) -> str:
    request = ContactRequest.objects.select_related("area", "team").filter(pk=request_id).first()
    if request is None or request.personal_data_deleted_at or notice not in NOTICES:
        return "gone"
    outcome, _error = try_sending(
        lambda: send_contact_notice_message(request, notice),
        task=send_contact_notice,
        args=(request_id, notice),
        attempt=attempt,
    )
    return outcome


def enqueue_contact_notice(request_id: int, notice: str) -> None:
    send_contact_notice.enqueue(request_id, notice)


def compose(request: ContactRequest, notice: str) -> tuple[str, list[str]]:
    """(subject, lines) in the customer's language; the last line is the signed link."""
    callback = request.kind == ContactKind.CALLBACK
    subject = _("Your callback") if callback else _("Your message")
    lines: list[str] = []
    # The notices that restate the promise, each with its own opening.
    promise_openings = {
        "booked": _("We have your request."),
        "rescheduled": _("New time:"),
        "no_answer": _("We called you but could not reach you. We will try again."),
    }
    if notice in promise_openings:
        promise = callback_slots.plain(callback_slots.promise_sentence(request))
        lines.append(promise_openings[notice] + " " + promise)
    elif notice == "answered":
        subject = _("Our answer to your message")
        lines.append(_("%(team)s answered your message:") % {"team": i18n.isolate(request.team.localized_public_name)})
        lines.append(request.answer)
    elif notice == "cancelled":
        lines.append(_("Your request was cancelled."))
    credit = WaitCredit.objects.filter(request=request).first()
    if credit:
        lines.append(callback_slots.plain(callback_slots.credit_sentence(credit)))
    lines.append(_("See, change or cancel your request: %(url)s") % {"url": i18n.isolate(contact_link(request))})
    return f"{site_name()}: {subject}", lines


def send_contact_notice_message(request: ContactRequest, notice: str) -> None:
    """Raises TemporaryFailure / PermanentFailure like the SMS backends."""
    with translation.override(request.language):
        subject, lines = compose(request, notice)
    if request.answer_channel == Channel.SMS:
        get_backend().send(request.phone, f"{site_name()}: " + " ".join(lines))
        return
    email = EmailMessage(
        subject=subject,
        body="\n\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[request.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    send_one(email)
