"""Browser notifications (Web Push): a browser's push subscription follows
areas, and stops following them.

A subscription is the endpoint (a URL of the browser's push service) and two
keys (p256dh, auth) for encrypting to it: nothing else about the browser or
the person is kept. The browser's permission prompt, asked on the visitor's
click, is the opt-in, so the subscription is live at once. One browser has
one endpoint: following a second area adds it to the same subscriber, and
unfollowing the last one deletes the row (endpoint and keys with it).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import ssrf
from ..models import Channel, ServiceArea, Subscriber

MAX_KEY_LENGTH = 200


def _b64url(value) -> bytes:
    if not isinstance(value, str) or not value or len(value) > MAX_KEY_LENGTH:
        raise ValueError
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def clean_keys(keys) -> dict[str, str]:
    """{"p256dh": a P-256 public key, "auth": a 16-byte secret}, both base64url; else ValidationError."""
    if not isinstance(keys, dict):
        raise ValidationError(_("The browser's subscription has no keys."))
    try:
        p256dh, auth = _b64url(keys.get("p256dh")), _b64url(keys.get("auth"))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except (ValueError, TypeError, binascii.Error):
        raise ValidationError(_("The browser's subscription keys are not valid.")) from None
    if len(p256dh) != 65 or len(auth) != 16:
        raise ValidationError(_("The browser's subscription keys are not valid."))
    return {"p256dh": keys["p256dh"], "auth": keys["auth"]}


def clean_endpoint(raw) -> str:
    """The push service's URL: https (plain http only where loopback is allowed, for tests), and
    never an address inside our network (outages.ssrf, checked again at every send)."""
    endpoint = raw.strip() if isinstance(raw, str) else ""
    if not endpoint.startswith("https://") and not (settings.WEBHOOK_ALLOW_LOOPBACK and endpoint.startswith("http://")):
        raise ValidationError(_("The browser's push service must be an https:// URL."))
    try:
        ssrf.check(endpoint)
    except ssrf.UnsafeURL as error:
        raise ValidationError(str(error)) from None
    return endpoint


def _push_subscriber(endpoint: str) -> Subscriber | None:
    return Subscriber.objects.select_for_update().filter(channel=Channel.PUSH, address=endpoint).first()


@transaction.atomic
def follow(*, endpoint: str, keys: dict[str, str], areas, language: str) -> Subscriber:
    """This browser follows these areas too (endpoint and keys already cleaned).
    The keys and language are the latest the browser gave."""
    areas = list(areas)
    if not areas:
        raise ValidationError(_("Choose at least one area."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    subscriber = _push_subscriber(endpoint)
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    channel=Channel.PUSH,
                    address=endpoint,
                    push_keys=keys,
                    language=language,
                    confirmed_at=timezone.now(),
                )
        except IntegrityError:  # the same browser, twice at once
            subscriber = _push_subscriber(endpoint)
    subscriber.push_keys, subscriber.language, subscriber.paused = keys, language, False
    subscriber.confirmed_at = subscriber.confirmed_at or timezone.now()
    subscriber.save(update_fields=["push_keys", "language", "paused", "confirmed_at", "updated_at"])
    subscriber.areas.add(*areas)
    return subscriber


@transaction.atomic
def unfollow(*, endpoint: str, areas=None) -> Subscriber | None:
    """Stop following these areas (all if None); with none left, the row is
    deleted. Returns the subscriber if it still follows something."""
    subscriber = _push_subscriber(endpoint)
    if subscriber is None:
        return None
    if areas is not None:
        subscriber.areas.remove(*areas)
    if areas is None or not subscriber.areas.exists():
        subscriber.delete()
        return None
    return subscriber


def followed(endpoint: str) -> list[ServiceArea]:
    """The areas this browser follows (none if the endpoint is unknown)."""
    return list(ServiceArea.objects.filter(subscribers__channel=Channel.PUSH, subscribers__address=endpoint))
