"""A provider's account: the console's ChatChannelConfig row where a field is
filled in, else the setting. Read at most every few seconds per process."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from ...models import ChatChannel, ChatChannelConfig

CACHE_SECONDS = 10
FIELDS = ("account", "number", "token", "secret", "verify_token", "api_base")
SETTINGS = {
    ChatChannel.SMS: {
        "account": "TWILIO_ACCOUNT_SID",
        "number": "TWILIO_NUMBER",
        "token": "TWILIO_AUTH_TOKEN",
        "api_base": "TWILIO_API_BASE",
    },
    ChatChannel.TELEGRAM: {
        "token": "TELEGRAM_BOT_TOKEN",
        "secret": "TELEGRAM_SECRET_TOKEN",
        "api_base": "TELEGRAM_API_BASE",
    },
    ChatChannel.WHATSAPP: {
        "account": "WHATSAPP_PHONE_NUMBER_ID",
        "token": "WHATSAPP_TOKEN",
        "secret": "WHATSAPP_APP_SECRET",
        "verify_token": "WHATSAPP_VERIFY_TOKEN",
        "api_base": "WHATSAPP_API_BASE",
    },
    # The generic SMS gateway sends through the SMS backend (SMS_GATEWAY_URL); only its signing secret is ours.
    ChatChannel.GATEWAY: {"secret": "SMS_GATEWAY_WEBHOOK_SECRET"},
    ChatChannel.VIBER: {"account": "VIBER_SENDER_NAME", "token": "VIBER_AUTH_TOKEN", "api_base": "VIBER_API_BASE"},
    ChatChannel.MESSENGER: {
        "token": "MESSENGER_PAGE_TOKEN",
        "secret": "MESSENGER_APP_SECRET",
        "verify_token": "MESSENGER_VERIFY_TOKEN",
        "api_base": "MESSENGER_API_BASE",
    },
}


@dataclass(frozen=True)
class Account:
    enabled: bool
    account: str = ""
    number: str = ""
    token: str = ""
    secret: str = ""
    verify_token: str = ""
    api_base: str = ""


def cache_key(channel: str) -> str:
    return f"chat:config:{channel}"


def forget(channel: str) -> None:
    """After the console saves a channel: the next request reads it again."""
    cache.delete(cache_key(channel))


def account(channel: str) -> Account:
    stored = cache.get(cache_key(channel))
    if stored is None:
        row = ChatChannelConfig.objects.filter(channel=channel).values("enabled", *FIELDS).first()
        stored = row or {}
        cache.set(cache_key(channel), stored, CACHE_SECONDS)
    names = SETTINGS.get(channel, {})
    values = {}
    for name in FIELDS:
        values[name] = stored.get(name) or (getattr(settings, names[name], "") if name in names else "")
    return Account(enabled=stored.get("enabled", True), **values)
