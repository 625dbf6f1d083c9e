"""SMS through the generic HTTP gateway of SMS_GATEWAY_URL: it posts each text
it receives to /webhooks/sms-gateway/ as JSON, and we answer through the SMS
backend (outages.notify.sms, the same that sends SMS alerts).

Inbound body: {"id": "<gateway message id>", "from": "+3630...", "to": "...",
"text": "...", "language": "<optional hint>"}, signed in the header
X-Gateway-Signature: "sha256=" + hex HMAC-SHA256 of the raw body with
SMS_GATEWAY_WEBHOOK_SECRET (the scheme GitHub and Meta use, so any gateway
that can sign a webhook can be set up to send it)."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest

from ...models import ChatChannel
from ..sms import get_backend
from .base import Inbound, Provider
from .config import account

SIGNATURE_HEADER = "X-Gateway-Signature"


def body_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _text(value) -> str:
    return value if isinstance(value, str) else ""


class GatewayProvider(Provider):
    channel = ChatChannel.GATEWAY

    def verify(self, request: HttpRequest) -> bool:
        secret = account(self.channel).secret
        given = request.headers.get(SIGNATURE_HEADER, "")
        return bool(secret and given) and hmac.compare_digest(body_signature(secret, request.body), given)

    def parse(self, request: HttpRequest) -> list[Inbound]:
        try:
            message = json.loads(request.body or b"{}")
        except ValueError:
            return []
        if not isinstance(message, dict) or not _text(message.get("from")).strip():
            return []
        return [
            Inbound(
                sender=message["from"].strip(),
                text=_text(message.get("text")),
                message_id=str(message.get("id") or ""),
                language_hint=_text(message.get("language")),
            )
        ]

    def send(self, sender: str, text: str) -> None:
        get_backend().send(sender, text)


PROVIDER = GatewayProvider()
