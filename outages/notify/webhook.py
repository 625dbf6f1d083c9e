"""Webhooks: Standard Webhooks signing (webhook-id, -timestamp, -signature),
and the POST itself through the SSRF guard (outages.ssrf), which refuses
private, loopback and metadata addresses at connect time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings

from .. import ssrf
from ..models import Delivery, new_webhook_secret
from . import outcomes

__all__ = ["new_webhook_secret", "sign_webhook", "verify_webhook", "webhook_request", "send_webhooks"]


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


def send_webhooks(items: list[tuple[Delivery, dict]], on_progress) -> None:
    for delivery, rendered in items:
        body, headers = webhook_request(delivery, rendered["payload"])
        try:
            response = ssrf.post(delivery.subscriber.address, body, headers)
        except ssrf.UnsafeURL as error:
            outcomes.failed(delivery, f"refused: {error}", permanent=True)
        except OSError as error:
            outcomes.failed(delivery, f"unreachable: {type(error).__name__}", permanent=False)
        else:
            status = response.status
            if 200 <= status < 300:
                outcomes.sent(delivery)
            elif 300 <= status < 400:
                outcomes.failed(delivery, f"answered {status} (redirects are not followed)", permanent=True)
            elif status in {408, 429} or status >= 500:
                outcomes.failed(delivery, f"answered {status}", permanent=False)
            else:
                outcomes.failed(delivery, f"answered {status}", permanent=True)
        on_progress()
