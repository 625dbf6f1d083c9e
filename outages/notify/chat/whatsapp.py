"""WhatsApp Cloud API: the hub.challenge verification GET, webhooks signed with
X-Hub-Signature-256 (HMAC-SHA256 of the body with the app secret), messages
out through the phone number's /messages endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest

from ...models import ChatChannel
from .base import Inbound, Provider, post
from .config import account


def body_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MetaHubProvider(Provider):
    """Meta's webhook protocol, shared by WhatsApp and Messenger: the hub.challenge
    subscription check and bodies signed with X-Hub-Signature-256."""

    def challenge(self, request: HttpRequest) -> str | None:
        """The subscription check: the challenge to echo, or None if the verify token is wrong."""
        token = account(self.channel).verify_token
        if not token or request.GET.get("hub.mode") != "subscribe":
            return None
        if not hmac.compare_digest(request.GET.get("hub.verify_token", ""), token):
            return None
        return request.GET.get("hub.challenge", "")[:200]

    def verify(self, request: HttpRequest) -> bool:
        secret = account(self.channel).secret
        given = request.headers.get("X-Hub-Signature-256", "")
        return bool(secret and given) and hmac.compare_digest(body_signature(secret, request.body), given)


class WhatsAppProvider(MetaHubProvider):
    channel = ChatChannel.WHATSAPP

    def parse(self, request: HttpRequest) -> list[Inbound]:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return []
        found = []
        entries = payload.get("entry") if isinstance(payload, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            for change in entry.get("changes", []) if isinstance(entry, dict) else []:
                value = change.get("value") if isinstance(change, dict) else None
                messages = value.get("messages") if isinstance(value, dict) else None
                for message in messages if isinstance(messages, list) else []:
                    if not isinstance(message, dict) or not message.get("from"):
                        continue
                    text = message.get("text", {}).get("body", "") if isinstance(message.get("text"), dict) else ""
                    found.append(
                        Inbound(sender=str(message["from"]), text=str(text), message_id=str(message.get("id", "")))
                    )
        return found

    def send(self, sender: str, text: str) -> None:
        config = account(self.channel)
        post(
            f"{config.api_base.rstrip('/')}/{config.account}/messages",
            json_body={"messaging_product": "whatsapp", "to": sender, "type": "text", "text": {"body": text}},
            headers={"Authorization": f"Bearer {config.token}"},
        )


PROVIDER = WhatsAppProvider()
