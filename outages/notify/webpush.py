"""Browser notifications (Web Push): the message encrypted for one browser
(RFC 8291, aes128gcm, by pywebpush) and signed with our VAPID key (RFC 8292,
py-vapid), POSTed to the browser's push service through the SSRF guard
(outages.ssrf): the endpoint is a URL the browser gave, so it is vetted at
every connection like a webhook's, and redirects are never followed.

- TTL (WEBPUSH_TTL), `Urgency: high` for incidents (normal for planned
  maintenance) and a Topic per incident, so a newer update replaces one the
  push service still holds for an offline browser.
- The payload is JSON for our service worker (static/js/sw.js): title, body
  (the SMS's sentence, from outages.notify.compose), the page to open, the
  language the browser subscribed in.
- 2xx sent; 404/410: the subscription has expired, so it is deleted; 408,
  429, 5xx and network trouble are retried by the engine; other answers fail.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid, VapidException

from .. import ssrf
from ..models import Delivery, Kind, Subscriber
from . import outcomes

CONTENT_ENCODING = "aes128gcm"
# A VAPID token is good for at most 24 hours (RFC 8292); ours for 12.
TOKEN_LIFETIME = 12 * 3600
GONE = {404, 410}


def generate_keys() -> dict[str, str]:
    """A new VAPID key pair: {"private_key": raw 32 bytes, "public_key": the
    uncompressed point (what the browser's applicationServerKey takes)}, base64url."""
    vapid = Vapid()
    vapid.generate_keys()
    return {"private_key": private_key_text(vapid), "public_key": public_key_text(vapid)}


def private_key_text(vapid: Vapid) -> str:
    number = vapid.private_key.private_numbers().private_value
    return _b64(number.to_bytes(32, "big"))


def public_key_text(vapid: Vapid) -> str:
    point = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64(point)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signer() -> Vapid | None:
    if not settings.VAPID_PRIVATE_KEY:
        return None
    return Vapid.from_string(settings.VAPID_PRIVATE_KEY)


def push_request(subscriber: Subscriber, payload: dict, *, urgency: str, topic: str, signer: Vapid):
    """The body and headers of one push message to this browser."""
    # pywebpush brings aiohttp and requests: imported where a push is built,
    # not by every process that loads the admin (a management command's start-up).
    from pywebpush import WebPusher

    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    encrypted = WebPusher({"endpoint": subscriber.address, "keys": subscriber.push_keys}).encode(data, CONTENT_ENCODING)
    parts = urlsplit(subscriber.address)
    claims = {
        "sub": settings.VAPID_SUBJECT,
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + TOKEN_LIFETIME,
    }
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Encoding": CONTENT_ENCODING,
        "TTL": str(settings.WEBPUSH_TTL),
        "Urgency": urgency,
        "Topic": topic,
        **signer.sign(claims),
    }
    return encrypted["body"], headers


def send_pushes(items: list[tuple[Delivery, dict]], on_progress) -> None:
    if not items:
        return
    from pywebpush import WebPushException

    signer = _signer()
    for delivery, rendered in items:
        if signer is None:
            outcomes.failed(delivery, "VAPID keys are not configured", permanent=False)
            continue
        subscriber = delivery.subscriber
        urgency = "high" if rendered["push_kind"] == Kind.INCIDENT else "normal"
        try:
            body, headers = push_request(
                subscriber, rendered["push"], urgency=urgency, topic=rendered["push_topic"], signer=signer
            )
            response = ssrf.post(subscriber.address, body, headers)
        except ssrf.UnsafeURL as error:  # before ValueError, which it is
            outcomes.failed(delivery, f"refused: {error}", permanent=True)
        except VapidException as error:  # our configuration (VAPID_SUBJECT): retried once it is fixed
            outcomes.failed(delivery, f"VAPID: {error}", permanent=False)
        except (WebPushException, ValueError) as error:
            outcomes.failed(delivery, f"cannot encrypt for this subscription: {type(error).__name__}", permanent=True)
        except OSError as error:
            outcomes.failed(delivery, f"unreachable: {type(error).__name__}", permanent=False)
        else:
            _record(delivery, response.status)
        on_progress()


def _record(delivery: Delivery, status: int) -> None:
    if 200 <= status < 300:
        outcomes.sent(delivery)
    elif status in GONE:
        # The browser unsubscribed or the subscription expired: forget it
        # (endpoint and keys); the delivery log keeps only the outcome.
        outcomes.failed(delivery, f"answered {status}: subscription expired, deleted", permanent=True)
        Subscriber.objects.filter(pk=delivery.subscriber_id, channel=delivery.channel).delete()
    elif status in {408, 429} or status >= 500:
        outcomes.failed(delivery, f"answered {status}", permanent=False)
    else:
        outcomes.failed(delivery, f"answered {status}", permanent=True)
