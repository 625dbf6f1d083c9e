"""Every write about subscribers: subscribe, confirm, change, pause, delete.

Called by the subscribe views (and usable from the shell or tests). Messages
(confirmations) are enqueued on commit, like every other side effect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, ssrf
from ..models import Channel, Subscriber, new_webhook_secret
from . import limits
from .limits import RateLimited

RATE_WINDOW_SECONDS = 3600


def _hit(kind: str, value: str, limit: int) -> bool:
    """Count one use in this hour's window; False once the limit is passed. Values are hashed."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]
    return limits.hit(f"subscribe-limit:{kind}:{digest}", RATE_WINDOW_SECONDS) <= limit


def limit_ip(ip: str) -> None:
    if not _hit("ip", ip or "unknown", settings.SUBSCRIBE_LIMIT_PER_IP):
        raise RateLimited(_("Too many subscription requests from your network. Please try again in an hour."))


def limit_address(channel: str, address: str) -> None:
    if not _hit(channel, address, settings.SUBSCRIBE_LIMIT_PER_ADDRESS):
        raise RateLimited(
            _("We have already sent several confirmation messages to this address. Please try again in an hour.")
        )


def normalize_email(raw: str) -> str:
    address = (raw or "").strip()
    validate_email(address)
    return address.lower()


def normalize_phone(raw: str) -> str:
    """E.164 ("+36301234567") for a valid mobile-capable number of an allowed country."""
    regions = settings.SMS_ALLOWED_REGIONS
    default_region = regions[0] if len(regions) == 1 else None
    try:
        number = phonenumbers.parse((raw or "").strip(), default_region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a valid phone number. Include the country code, e.g. +36.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a valid phone number."))
    if phonenumbers.region_code_for_number(number) not in regions:
        raise ValidationError(
            _("Text messages can only be sent to numbers in: %(regions)s.") % {"regions": ", ".join(regions)}
        )
    if phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise ValidationError(_("Text messages need a mobile phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_url(raw: str) -> str:
    url = (raw or "").strip()
    try:
        ssrf.check(url)
    except ssrf.UnsafeURL as error:
        raise ValidationError(str(error)) from None
    return url


NORMALIZERS = {Channel.EMAIL: normalize_email, Channel.SMS: normalize_phone, Channel.WEBHOOK: normalize_url}


@dataclass
class Subscribed:
    subscriber: Subscriber
    # Webhooks only: the signing secret, shown once and never again.
    secret: str = ""


@transaction.atomic
def subscribe(*, channel: str, address: str, areas, language: str) -> Subscribed:
    """Start a subscription. Email and SMS wait for confirmation; a webhook is live at once.

    `address` is already normalised (see NORMALIZERS). Raises RateLimited, ValidationError."""
    areas = list(areas)
    if not areas:
        raise ValidationError({"areas": _("Choose at least one area.")})
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if channel == Channel.WEBHOOK:
        if Subscriber.objects.filter(channel=channel, address=address).exists():
            raise ValidationError(
                {"url": _("This URL is already subscribed. Use the manage link you were given to change it.")}
            )
        subscriber = Subscriber.objects.create(
            channel=channel,
            address=address,
            language=language,
            secret=new_webhook_secret(),
            confirmed_at=timezone.now(),
        )
        subscriber.areas.set(areas)
        return Subscribed(subscriber, secret=subscriber.secret)

    limit_address(channel, address)
    subscriber = Subscriber.objects.select_for_update().filter(channel=channel, address=address).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(channel=channel, address=address, language=language)
        except IntegrityError:  # the same address, subscribing twice at once
            subscriber = Subscriber.objects.select_for_update().get(channel=channel, address=address)
    already_confirmed = subscriber.confirmed_at is not None
    if not already_confirmed:
        # Until confirmed, the latest request decides; a confirmed subscription is
        # changed only through its manage link, never by someone who knows the address.
        subscriber.language = language
        subscriber.save(update_fields=["language", "updated_at"])
        subscriber.areas.add(*areas)
    events.confirmation_requested(subscriber.pk, already_confirmed=already_confirmed)
    return Subscribed(subscriber)


def confirm(subscriber: Subscriber) -> Subscriber:
    Subscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
    subscriber.refresh_from_db()
    return subscriber


@transaction.atomic
def update(subscriber: Subscriber, *, areas, language: str, paused: bool) -> Subscriber:
    areas = list(areas)
    if not areas:
        raise ValidationError({"areas": _("Choose at least one area, or unsubscribe.")})
    if language in dict(settings.LANGUAGES):
        subscriber.language = language
    subscriber.paused = paused
    subscriber.save(update_fields=["language", "paused", "updated_at"])
    subscriber.areas.set(areas)
    return subscriber


def delete(subscriber: Subscriber) -> None:
    """Unsubscribe and erase: the row, its areas, its secret. The delivery log keeps
    only channel and outcome, no longer linked to anyone."""
    Subscriber.objects.filter(pk=subscriber.pk).delete()
