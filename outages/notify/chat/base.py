"""The interface every provider module fills in, and the one HTTP call they share."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..outcomes import PermanentFailure, TemporaryFailure


@dataclass(frozen=True)
class Inbound:
    sender: str
    text: str
    message_id: str
    language_hint: str = ""


class Provider:
    channel = ""
    # respond() carries the replies in the webhook's answer; else the worker sends them.
    inline = False

    def verify(self, request: HttpRequest) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def parse(self, request: HttpRequest) -> list[Inbound]:  # pragma: no cover - interface
        raise NotImplementedError

    def send(self, sender: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def respond(self, answers: list[tuple[Inbound, str]]) -> HttpResponse:
        """The webhook's answer: (message, reply) pairs when inline, else none (a bare 200)."""
        return HttpResponse("ok", content_type="text/plain")


def post(url: str, *, json_body=None, form=None, headers=None, permanent_codes=(400, 401, 403, 404)) -> bytes:
    """POST to a provider's API. 408, 429 and 5xx (or no answer) are temporary;
    the listed codes are permanent (an invalid recipient, a blocked bot).

    The base URLs are the operator's own settings, so they are not SSRF-checked."""
    headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    else:
        data = urllib.parse.urlencode(form or {}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.CHAT_SEND_TIMEOUT) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        if error.code in {408, 429} or error.code >= 500:
            raise TemporaryFailure(f"provider answered {error.code}") from None
        if error.code in permanent_codes:
            raise PermanentFailure(f"provider answered {error.code}") from None
        raise TemporaryFailure(f"provider answered {error.code}") from None
    except OSError as error:
        raise TemporaryFailure(f"provider unreachable: {type(error).__name__}") from None
