"""Chat and text-message providers, one small module each with the same interface:

- verify(request) -> bool: the provider's signature or secret, checked before anything is parsed
- parse(request) -> list[Inbound]: the text messages in a verified webhook call
- send(sender, text): a message out (a reply, a follow's update); raises
  outcomes.TemporaryFailure (429, 5xx, no answer) or PermanentFailure (an invalid recipient)
- respond(replies) -> HttpResponse: what the webhook answers (TwiML for SMS, else a plain 200)
  and `inline`: whether respond() itself carries the replies

sms (Twilio-compatible), telegram (Bot API), whatsapp (Cloud API), viber (REST bot API),
messenger (Send API). Each
provider's API base URL is a setting. send_chats is the delivery engine's
sender for channel "chat": a follow's updates, then one "fixed" message, then
the follow ends.
"""

from __future__ import annotations

from . import config
from .base import Inbound, Provider
from .follow import send_chats
from .providers import PROVIDERS

__all__ = ["PROVIDERS", "Inbound", "Provider", "config", "send_chats"]
