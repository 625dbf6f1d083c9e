"""Facebook Messenger (Send API): the hub.challenge verification GET and
X-Hub-Signature-256, as WhatsApp's Cloud API; replies to /me/messages with
the page token."""

from __future__ import annotations

import json
import urllib.parse

from django.http import HttpRequest

from ...models import ChatChannel
from .base import Inbound, post
from .config import account
from .whatsapp import MetaHubProvider


class MessengerProvider(MetaHubProvider):
    channel = ChatChannel.MESSENGER

    def parse(self, request: HttpRequest) -> list[Inbound]:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return []
        found = []
        entries = payload.get("entry") if isinstance(payload, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            events = entry.get("messaging") if isinstance(entry, dict) else None
            for event in events if isinstance(events, list) else []:
                if not isinstance(event, dict) or not isinstance(event.get("message"), dict):
                    continue
                sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
                message = event["message"]
                if not sender.get("id") or message.get("is_echo"):
                    continue
                text = message.get("text") if isinstance(message.get("text"), str) else ""
                found.append(Inbound(sender=str(sender["id"]), text=text, message_id=str(message.get("mid", ""))))
        return found

    def send(self, sender: str, text: str) -> None:
        config = account(self.channel)
        query = urllib.parse.urlencode({"access_token": config.token})
        post(
            f"{config.api_base.rstrip('/')}/me/messages?{query}",
            json_body={"recipient": {"id": sender}, "messaging_type": "RESPONSE", "message": {"text": text}},
        )


PROVIDER = MessengerProvider()
