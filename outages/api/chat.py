"""Inbound webhooks of the SMS and chat providers: verify, parse, answer.

The signature (or secret token) is checked before anything is parsed: a bad
one is a 403 and leaves nothing but a counter. Each message is answered by
outages.services.conversations within the provider's timeout: SMS (TwiML) and
Telegram (a sendMessage in the response body) carry the reply in the
webhook's answer; for WhatsApp, Viber, Messenger and the SMS gateway the
webhook acknowledges at once and the worker sends the reply
(outages.notify.chat.replies, retried on 429 and 5xx). A sender over the
rate limit gets 429 and one "slow down" message, also from the worker.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..models import ChatChannel
from ..notify.chat import PROVIDERS, Inbound, Provider, config
from ..services import conversations

RETRY_AFTER_SECONDS = 60


def receive(request: HttpRequest, provider: Provider) -> HttpResponse:
    if not config.account(provider.channel).enabled:
        return HttpResponse("This channel is not enabled.", status=404, content_type="text/plain")
    if not provider.verify(request):
        conversations.count(provider.channel, "bad signature")
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    answers: list[tuple[Inbound, str]] = []
    limited = False
    for message in provider.parse(request):
        now = timezone.now()
        slow_down = conversations.check_rate(provider.channel, message.sender, now)
        if slow_down is not None:
            limited = True
            conversations.count(provider.channel, "rate limited")
            if slow_down:
                conversations.slow_down(provider.channel, message.sender, message.text, message.language_hint, now)
            continue
        answer = conversations.handle(
            channel=provider.channel,
            sender=message.sender,
            text=message.text,
            message_id=message.message_id,
            language_hint=message.language_hint,
            now=now,
            send_later=not provider.inline,
        )
        if answer.reply and provider.inline:
            answers.append((message, answer.reply))
    if limited and not answers:
        response = HttpResponse("Too many messages from this sender.", status=429, content_type="text/plain")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return provider.respond(answers if provider.inline else [])


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    return receive(request, PROVIDERS[ChatChannel.SMS])


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    return receive(request, PROVIDERS[ChatChannel.TELEGRAM])


def _challenged(request: HttpRequest, provider) -> HttpResponse:
    """Meta's subscription check (WhatsApp, Messenger): echo hub.challenge if the verify token is right."""
    challenge = provider.challenge(request) if config.account(provider.channel).enabled else None
    if challenge is None:
        return HttpResponse("Wrong verify token.", status=403, content_type="text/plain")
    return HttpResponse(challenge, content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    provider = PROVIDERS[ChatChannel.WHATSAPP]
    return _challenged(request, provider) if request.method == "GET" else receive(request, provider)


@csrf_exempt
@require_POST
def viber_webhook(request: HttpRequest) -> HttpResponse:
    return receive(request, PROVIDERS[ChatChannel.VIBER])


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messenger_webhook(request: HttpRequest) -> HttpResponse:
    provider = PROVIDERS[ChatChannel.MESSENGER]
    return _challenged(request, provider) if request.method == "GET" else receive(request, provider)


@csrf_exempt
@require_POST
def gateway_webhook(request: HttpRequest) -> HttpResponse:
    return receive(request, PROVIDERS[ChatChannel.GATEWAY])
