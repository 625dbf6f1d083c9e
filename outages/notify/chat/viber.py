"""Viber REST bot API: callbacks signed with X-Viber-Content-Signature (hex
HMAC-SHA256 of the body with the bot's auth token); messages out with
send_message, whose answer carries its own status (0 is success)."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest

from ...models import ChatChannel
from ..outcomes import PermanentFailure, TemporaryFailure
from .base import Inbound, Provider, post
from .config import account

# Viber's status codes: 5 receiver not registered, 6 not subscribed, 7 blocked; 12 too many requests.
PERMANENT_STATUSES = {5, 6, 7}
TEMPORARY_STATUSES = {12}


def body_signature(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class ViberProvider(Provider):
    channel = ChatChannel.VIBER

    def verify(self, request: HttpRequest) -> bool:
        token = account(self.channel).token
        given = request.headers.get("X-Viber-Content-Signature", "")
        return bool(token and given) and hmac.compare_digest(body_signature(token, request.body), given)

    def parse(self, request: HttpRequest) -> list[Inbound]:
        try:
            event = json.loads(request.body or b"{}")
        except ValueError:
            return []
        if not isinstance(event, dict) or event.get("event") != "message":
            return []  # webhook, subscribed, delivered, seen...: nothing to answer
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if not sender.get("id"):
            return []
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        return [
            Inbound(
                sender=str(sender["id"]),
                text=text,
                message_id=str(event.get("message_token", "")),
                language_hint=str(sender.get("language") or ""),
            )
        ]

    def send(self, sender: str, text: str) -> None:
        config = account(self.channel)
        answer = post(
            f"{config.api_base.rstrip('/')}/send_message",
            json_body={
                "receiver": sender,
                "type": "text",
                "text": text,
                "sender": {"name": config.account or "Status"},
            },
            headers={"X-Viber-Auth-Token": config.token},
        )
        try:
            status = json.loads(answer or b"{}").get("status", 0)
        except (ValueError, AttributeError):
            status = 0
        if status in PERMANENT_STATUSES:
            raise PermanentFailure(f"viber status {status}")
        if status in TEMPORARY_STATUSES or status not in (0, None):
            raise TemporaryFailure(f"viber status {status}")


PROVIDER = ViberProvider()
