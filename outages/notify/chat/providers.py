"""Every provider module by its channel."""

from __future__ import annotations

from ...models import ChatChannel
from . import gateway, messenger, sms, telegram, viber, whatsapp
from .base import Provider

PROVIDERS: dict[str, Provider] = {
    ChatChannel.SMS: sms.PROVIDER,
    ChatChannel.TELEGRAM: telegram.PROVIDER,
    ChatChannel.WHATSAPP: whatsapp.PROVIDER,
    ChatChannel.VIBER: viber.PROVIDER,
    ChatChannel.MESSENGER: messenger.PROVIDER,
    ChatChannel.GATEWAY: gateway.PROVIDER,
}
