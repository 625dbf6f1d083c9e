"""Real receivers on loopback for notification tests: an SMTP server (aiosmtpd)
and an HTTP server that records webhook / SMS-gateway requests. Plus a helper
that runs the django-tasks-db worker in this process until no task is ready."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from django.utils import timezone

from .conftest import free_port


class SMTPSink:
    """aiosmtpd on 127.0.0.1; stop() and start() again on the same port to play "server down"."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def start(self) -> SMTPSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [message for message in self.messages if message["To"] == address]

    def mailer_settings(self) -> dict:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


class HTTPReceiver:
    """Records every POST; answers `status` (and `location` for redirects), after `delay` seconds."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 204
        self.location = ""
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_worker() -> int:
    """Run the database task worker here until no task is ready; fail on a failed task."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    before = DBTaskResult.objects.finished().count()
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()
    failed = list(DBTaskResult.objects.failed().values_list("task_path", "traceback"))
    assert not failed, failed
    return DBTaskResult.objects.finished().count() - before


def time_passes() -> None:
    """Retries scheduled for later become due now (the worker would otherwise wait for them)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    from outages.models import Delivery, NotificationEvent

    now = timezone.now()
    DBTaskResult.objects.filter(status="READY", run_after__gt=now).exclude(run_after=get_date_max()).update(
        run_after=now
    )
    Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__gt=now).update(next_attempt_at=now)
    NotificationEvent.objects.filter(due_at__gt=now).update(due_at=now)
