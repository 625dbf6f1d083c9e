"""Telegram Bot API: the webhook carries X-Telegram-Bot-Api-Secret-Token (set
with setWebhook's secret_token). The answer rides in the webhook's response as
a sendMessage call (the Bot API's "making requests when getting updates":
a JSON body with "method"), so answering costs no request of ours; Telegram
reports no result for it. A follow's updates go out with sendMessage."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

from ...models import ChatChannel
from .base import Inbound, Provider, post
from .config import account


class TelegramProvider(Provider):
    channel = ChatChannel.TELEGRAM
    inline = True

    def verify(self, request: HttpRequest) -> bool:
        secret = account(self.channel).secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return bool(secret and given) and constant_time_compare(secret, given)

    def parse(self, request: HttpRequest) -> list[Inbound]:
        try:
            update = json.loads(request.body or b"{}")
        except ValueError:
            return []
        message = update.get("message") if isinstance(update, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
            return []
        chat_id = message["chat"].get("id")
        if chat_id is None:
            return []
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        text = message.get("text") if isinstance(message.get("text"), str) else message.get("caption") or ""
        return [
            Inbound(
                sender=str(chat_id),
                text=str(text),
                message_id=str(update.get("update_id", "")),
                language_hint=str(sender.get("language_code") or ""),
            )
        ]

    def respond(self, answers: list[tuple[Inbound, str]]) -> HttpResponse:
        # One update per webhook call, so at most one answer.
        if not answers:
            return HttpResponse("ok", content_type="text/plain")
        message, reply = answers[0]
        return JsonResponse({"method": "sendMessage", "chat_id": message.sender, "text": reply})

    def send(self, sender: str, text: str) -> None:
        config = account(self.channel)
        post(
            f"{config.api_base.rstrip('/')}/bot{config.token}/sendMessage", json_body={"chat_id": sender, "text": text}
        )


PROVIDER = TelegramProvider()
