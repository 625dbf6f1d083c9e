"""SMS backends: a small interface selected by settings.SMS_BACKEND.

A backend has one method, send(to, text), that returns on success and raises
TemporaryFailure (try again later) or PermanentFailure (give up) otherwise.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from ..models import Delivery
from . import outcomes
from .outcomes import PermanentFailure, TemporaryFailure


class BaseBackend:
    def send(self, to: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: prints each SMS, or appends it as a JSON line to SMS_FILE_PATH."""

    _lock = threading.Lock()

    def send(self, to: str, text: str) -> None:
        record = {"to": to, "text": text, "at": timezone.now().isoformat()}
        path = settings.SMS_FILE_PATH
        with self._lock:
            if path:
                with open(path, "a", encoding="utf-8") as file:
                    file.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(f"SMS to {to}: {text}\n")
                sys.stdout.flush()


class HttpGatewayBackend(BaseBackend):
    """A generic HTTP SMS gateway: POST {"to", "from", "text"} as JSON with a bearer token.

    2xx is sent; 408, 429 and 5xx (or no answer) are temporary; other answers permanent.
    The gateway URL is the operator's own setting, so it is not SSRF-checked."""

    def send(self, to: str, text: str) -> None:
        if not settings.SMS_GATEWAY_URL:
            raise PermanentFailure("SMS_GATEWAY_URL is not set")
        body = json.dumps({"to": to, "from": settings.SMS_SENDER, "text": text}).encode()
        request = urllib.request.Request(
            settings.SMS_GATEWAY_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as error:
            if error.code in {408, 429} or error.code >= 500:
                raise TemporaryFailure(f"gateway answered {error.code}") from None
            raise PermanentFailure(f"gateway answered {error.code}") from None
        except OSError as error:
            raise TemporaryFailure(f"gateway unreachable: {type(error).__name__}") from None


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(items: list[tuple[Delivery, dict]], on_progress) -> None:
    if not items:
        return
    backend = get_backend()
    for delivery, rendered in items:
        try:
            backend.send(delivery.subscriber.address, rendered["sms"])
        except PermanentFailure as error:
            outcomes.failed(delivery, str(error), permanent=True)
        except TemporaryFailure as error:
            outcomes.failed(delivery, str(error), permanent=False)
        else:
            outcomes.sent(delivery)
        on_progress()
