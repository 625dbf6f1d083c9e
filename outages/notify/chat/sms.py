"""SMS through a Twilio-compatible provider: a form POST webhook signed with
X-Twilio-Signature, answered with TwiML; messages out via the Messages API.

The signature is Twilio's documented scheme (HMAC-SHA1 with the auth token
over the URL followed by every POST parameter, sorted, name then value),
done here in a few lines rather than with the `twilio` package, which would
bring an HTTP client stack of its own for two small functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ...models import ChatChannel
from .base import Inbound, Provider, post
from .config import account


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twiml(replies: list[str]) -> str:
    body = "".join(f"<Message>{escape(reply)}</Message>" for reply in replies if reply)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


class TwilioProvider(Provider):
    channel = ChatChannel.SMS
    inline = True

    def verify(self, request: HttpRequest) -> bool:
        token = account(self.channel).token
        given = request.headers.get("X-Twilio-Signature", "")
        if not token or not given:
            return False
        url = settings.TWILIO_WEBHOOK_URL or request.build_absolute_uri()
        params = {key: request.POST.get(key, "") for key in request.POST}
        return hmac.compare_digest(signature(token, url, params), given)

    def parse(self, request: HttpRequest) -> list[Inbound]:
        sender = request.POST.get("From", "").strip()
        if not sender:
            return []
        return [
            Inbound(sender=sender, text=request.POST.get("Body", ""), message_id=request.POST.get("MessageSid", ""))
        ]

    def send(self, sender: str, text: str) -> None:
        config = account(self.channel)
        auth = base64.b64encode(f"{config.account}:{config.token}".encode()).decode()
        post(
            f"{config.api_base.rstrip('/')}/2010-04-01/Accounts/{config.account}/Messages.json",
            form={"To": sender, "From": config.number, "Body": text},
            headers={"Authorization": f"Basic {auth}"},
        )

    def respond(self, answers: list[tuple[Inbound, str]]) -> HttpResponse:
        return HttpResponse(
            twiml([reply for _message, reply in answers]), content_type="application/xml; charset=utf-8"
        )


PROVIDER = TwilioProvider()
