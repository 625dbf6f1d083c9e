"""Signed links in messages: confirm, manage, unsubscribe; a contact request's page.

A token names the subscriber and its link key, signed for one purpose;
deleting the subscriber or rotating its key revokes every link at once.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from ..models import ContactRequest, Subscriber
from ..site import absolute

CONFIRM_MAX_AGE = timedelta(days=7)


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


def link(subscriber: Subscriber, purpose: str) -> str:
    return absolute(reverse(f"subscribe-{purpose}", args=[make_token(subscriber, purpose)]))


def was_signed(token: str, purpose: str) -> bool:
    """A genuine token, whether or not its subscriber still exists (unsubscribing twice is fine)."""
    try:
        signing.loads(token, salt=f"outages.subscription.{purpose}")
    except signing.BadSignature:
        return False
    return True


CONTACT_SALT = "outages.contact-request"


def contact_token(request: ContactRequest) -> str:
    """The signed name of a callback or message: its page shows the state, changes the slot or cancels."""
    return signing.dumps([request.pk, request.link_key], salt=CONTACT_SALT)


def read_contact_token(token: str) -> ContactRequest | None:
    try:
        pk, key = signing.loads(token, salt=CONTACT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    found = ContactRequest.objects.select_related("area", "team", "service").filter(pk=pk).first()
    if found is None or not hmac.compare_digest(str(found.link_key), str(key)):
        return None
    return found


def contact_link(request: ContactRequest) -> str:
    return absolute(reverse("contact-request", args=[contact_token(request)]))
