"""Benchmark: 1,000 inbound customer messages in one minute across SMS (Twilio
webhook, answered inline with TwiML), Telegram (answered inline: sendMessage in
the webhook's response), WhatsApp and the generic SMS gateway (acknowledged at
once, answered from the worker through a local fake of the provider's API and
the gateway), on the embedded default as `make run` starts it (`manage.py
serve`, `db_worker` and `scheduler`; SQLite + local memory). Some messages are
sent twice with the same provider id, as providers retry. Prints answered,
duplicates and latencies: the webhook's answer time for every channel, and for
the worker's replies the time until the fake provider received them.

    .venv/bin/python bench/inbound_storm.py                  # 1,000 messages over 60 s
    .venv/bin/python bench/inbound_storm.py --messages 300 --seconds 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_chat_bench .venv/bin/python bench/inbound_storm.py

Every message comes from its own sender, so each must get exactly one answer:
the TwiML <Message> for SMS, the sendMessage body for Telegram, one API call for
the others.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, percentile, server_environment, wait_http  # noqa: E402

TWILIO_TOKEN, TELEGRAM_SECRET, WHATSAPP_SECRET = "bench-twilio", "bench-telegram", "bench-whatsapp"
GATEWAY_SECRET = "bench-gateway"
INLINE = ("sms", "telegram")
TEXTS = ["status 1051", "állapot 1052", "מצב 1051", "2030", "Érd", "help", "OUT 1051", "when?", "🙂", "FOLLOW 1051"]


class FakeProvider:
    """Records every message we sent to a provider's API, by recipient."""

    def __init__(self):
        self.sent: Counter[str] = Counter()
        self.first_at: dict[str, float] = {}
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                to = str(body.get("chat_id") or body.get("to") or "")
                with provider.lock:
                    provider.sent[to] += 1
                    provider.first_at.setdefault(to, time.perf_counter())
                payload = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def twilio_request(base: str, n: int, text: str) -> urllib.request.Request:
    url = base + "/webhooks/sms/"
    params = {"From": f"+3630{n:07d}", "To": "+3612", "Body": text, "MessageSid": f"SM{n}"}
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    signature = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    return urllib.request.Request(
        url, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )


def telegram_request(base: str, n: int, text: str) -> urllib.request.Request:
    update = {"update_id": n, "message": {"chat": {"id": n}, "from": {"language_code": "en"}, "text": text}}
    return urllib.request.Request(
        base + "/webhooks/telegram/",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )


def whatsapp_request(base: str, n: int, text: str) -> urllib.request.Request:
    message = {"from": str(n), "id": f"wamid.{n}", "text": {"body": text}}
    body = json.dumps({"entry": [{"changes": [{"value": {"messages": [message]}}]}]}).encode()
    signature = "sha256=" + hmac.new(WHATSAPP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return urllib.request.Request(
        base + "/webhooks/whatsapp/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )


def gateway_request(base: str, n: int, text: str) -> urllib.request.Request:
    body = json.dumps({"id": f"gw{n}", "from": f"+3631{n:07d}", "to": "Status", "text": text}).encode()
    signature = "sha256=" + hmac.new(GATEWAY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return urllib.request.Request(
        base + "/webhooks/sms-gateway/",
        data=body,
        headers={"Content-Type": "application/json", "X-Gateway-Signature": signature},
    )


BUILDERS = {
    "sms": twilio_request,
    "telegram": telegram_request,
    "whatsapp": whatsapp_request,
    "gateway": gateway_request,
}


def recipient(channel: str, n: int) -> str:
    """Whom the fake provider sees a worker's reply addressed to."""
    return f"+3631{n:07d}" if channel == "gateway" else str(n)


def line(label: str, values: list[float], note: str = "") -> str:
    if not values:
        return f"{label:<34} (none)"
    return (
        f"{label:<34} p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  "
        f"p99 {percentile(values, 0.99):7.1f} ms  max {max(values):7.1f} ms{note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--replays", type=int, default=50, help="messages sent a second time with the same id")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the worker's replies")
    args = parser.parse_args()

    fake = FakeProvider()
    tmp = tempfile.TemporaryDirectory()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(
        tmp.name,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_WEBHOOK_URL=base + "/webhooks/sms/",
        TWILIO_API_BASE=fake.url + "/twilio",
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        TELEGRAM_BOT_TOKEN="1:bench",
        TELEGRAM_API_BASE=fake.url + "/telegram",
        WHATSAPP_APP_SECRET=WHATSAPP_SECRET,
        WHATSAPP_TOKEN="bench",
        WHATSAPP_PHONE_NUMBER_ID="1",
        WHATSAPP_API_BASE=fake.url + "/whatsapp",
        SMS_BACKEND="outages.notify.sms.HttpGatewayBackend",
        SMS_GATEWAY_URL=fake.url + "/gateway",
        SMS_GATEWAY_WEBHOOK_SECRET=GATEWAY_SECRET,
    )
    os.environ.update(env)

    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from outages import services
    from outages.models import ConversationMessage, Region, Service, ServiceArea

    call_command("migrate", verbosity=0)
    region = Region.objects.create(name="Budapest", slug="budapest")
    fiber = Service.objects.create(name="Fiber internet", slug="fiber")
    district = ServiceArea.objects.create(name="District 5", slug="district-5", region=region, postcodes="1051,1052")
    ServiceArea.objects.create(name="Érd", slug="erd", region=region, postcodes="2030")
    services.open_incident(
        title="Fiber cut",
        areas=[district],
        services=[fiber],
        message="Crew on the way.",
        eta=timezone.now() + timedelta(hours=3),
    )

    # As `make run` starts it: the web process, the task worker and the scheduler.
    commands = [["serve", "--port", str(port)], ["db_worker"], ["scheduler"]]
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp.name) / f"{command[0]}.log", "w"),
        )
        for command in commands
    ]
    try:
        wait_http(base + "/healthz", timeout=90)  # a busy shared machine starts slowly
        channels = list(BUILDERS)
        plan = [(n, channels[n % len(channels)], TEXTS[n % len(TEXTS)]) for n in range(1, args.messages + 1)]
        plan += [plan[(k * 7) % len(plan)] for k in range(args.replays)]
        interval = args.seconds / len(plan)
        results: list[tuple[str, int, float, str, int]] = []
        sent_at: dict[tuple[str, int], float] = {}
        lock = threading.Lock()
        started = time.perf_counter()

        def send(index: int, item) -> None:
            n, channel, text = item
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            request = BUILDERS[channel](base, n, text)
            t0 = time.perf_counter()
            with lock:
                sent_at.setdefault((channel, n), t0)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, body = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, body = error.code, ""
            except OSError as error:
                status, body = 0, str(error)
            elapsed = time.perf_counter() - t0
            with lock:
                results.append((channel, n, elapsed, body, status))

        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for index, item in enumerate(plan):
                pool.submit(send, index, item)
        wall = time.perf_counter() - started

        unique = {(n, channel) for n, channel, _t in plan}
        queued = {recipient(channel, n) for n, channel in unique if channel not in INLINE}
        deadline = time.perf_counter() + args.drain
        while time.perf_counter() < deadline and any(fake.sent[r] < 1 for r in queued):
            time.sleep(0.2)
        time.sleep(1.0)  # a duplicate would show up now

        errors = Counter(status for *_rest, status in results if status != 200)
        inline_answers: Counter[tuple[int, str]] = Counter()
        for channel, n, _elapsed, body, status in results:
            if channel == "sms" and status == 200:
                inline_answers[(n, channel)] += body.count("<Message>")
            elif channel == "telegram" and status == 200 and body.startswith("{"):
                inline_answers[(n, channel)] += json.loads(body).get("method") == "sendMessage"
        inline_unique = {key for key in unique if key[1] in INLINE}
        answered = sum(1 for key in inline_unique if inline_answers[key] >= 1) + sum(
            1 for r in queued if fake.sent[r] >= 1
        )
        duplicates = sum(max(0, inline_answers[key] - 1) for key in inline_unique) + sum(
            max(0, fake.sent[r] - 1) for r in queued
        )
        webhook = {
            channel: [elapsed * 1000 for c, _n, elapsed, _b, _s in results if c == channel] for channel in channels
        }
        inline = webhook["sms"] + webhook["telegram"]
        delivered = [
            (fake.first_at[recipient(channel, n)] - sent_at[(channel, n)]) * 1000
            for n, channel in unique
            if channel not in INLINE and recipient(channel, n) in fake.first_at
        ]
        logged = ConversationMessage.objects.filter(direction="in").count()

        print(
            f"setup: manage.py serve + db_worker + scheduler (as `make run`), "
            f"{'PostgreSQL' if env['DATABASE_URL'].startswith('postgres') else 'SQLite'} + local memory, "
            f"{os.cpu_count()} CPU cores (shared)"
        )
        print(
            f"sent {len(plan)} requests ({len(unique)} messages + {args.replays} replays) in {wall:.1f} s "
            f"({len(plan) / wall:.1f}/s), {args.concurrency} at a time"
        )
        print(f"answered {answered} of {len(unique)}; duplicate answers {duplicates}; non-200 {dict(errors) or 0}")
        per_channel = Counter(
            channel
            for n, channel in unique
            if (inline_answers[(n, channel)] if channel in INLINE else fake.sent[recipient(channel, n)]) >= 1
        )
        print("answered by channel: " + ", ".join(f"{c} {per_channel[c]}" for c in channels))
        print(f"inbound rows logged {logged} (replays not logged twice)")
        print(line("inline reply: SMS (TwiML)", webhook["sms"]))
        print(line("inline reply: Telegram (sendMessage)", webhook["telegram"]))
        print(line("inline replies, both", inline))
        print(line("webhook ack: WhatsApp", webhook["whatsapp"]))
        print(line("webhook ack: SMS gateway", webhook["gateway"]))
        print(line("worker reply reached the provider", delivered, "  (from the webhook call)"))
        verdict = answered == len(unique) and duplicates == 0 and percentile(inline, 0.99) < 500 and not errors
        print(f"target: every message answered, no duplicates, inline p99 < 500 ms: {'met' if verdict else 'NOT met'}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
