"""Benchmark: 1,000 inbound customer messages in one minute across SMS (Twilio
webhook, answered inline with TwiML), Telegram and WhatsApp (answered through a
local fake of each provider's API), on `manage.py serve` with the embedded
default (SQLite + local memory). Some messages are sent twice with the same
provider id, as providers retry. Prints answered, duplicates and latencies.

    .venv/bin/python bench/inbound_storm.py                  # 1,000 messages over 60 s
    .venv/bin/python bench/inbound_storm.py --messages 300 --seconds 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_chat_bench .venv/bin/python bench/inbound_storm.py

Every message comes from its own sender, so each must get exactly one answer:
the TwiML <Message> for SMS, one API call for the others.
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
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, wait_http  # noqa: E402

TWILIO_TOKEN, TELEGRAM_SECRET, WHATSAPP_SECRET = "bench-twilio", "bench-telegram", "bench-whatsapp"
TEXTS = ["status 1051", "állapot 1052", "מצב 1051", "2030", "Érd", "help", "OUT 1051", "when?", "🙂", "FOLLOW 1051"]


class FakeProvider:
    """Records every message we sent to a provider's API, by recipient."""

    def __init__(self):
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                recipient = str(body.get("chat_id") or body.get("to") or "")
                with provider.lock:
                    provider.sent[recipient] += 1
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


def fresh_postgres(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit("the PostgreSQL database name must end in _bench (it is dropped)")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


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


BUILDERS = {"sms": twilio_request, "telegram": telegram_request, "whatsapp": whatsapp_request}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--replays", type=int, default=50, help="messages sent a second time with the same id")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    fake = FakeProvider()
    tmp = tempfile.TemporaryDirectory()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp.name}/bench.sqlite3"
    if database_url.startswith("postgres"):
        fresh_postgres(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_WEBHOOK_URL": base + "/webhooks/sms/",
        "TWILIO_API_BASE": fake.url + "/twilio",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_BOT_TOKEN": "1:bench",
        "TELEGRAM_API_BASE": fake.url + "/telegram",
        "WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
        "WHATSAPP_TOKEN": "bench",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_API_BASE": fake.url + "/whatsapp",
    }
    env.pop("REDIS_URL", None)
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

    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(tmp.name) / "serve.log", "w"),
    )
    try:
        wait_http(base + "/healthz")
        channels = list(BUILDERS)
        plan = [(n, channels[n % 3], TEXTS[n % len(TEXTS)]) for n in range(1, args.messages + 1)]
        plan += [plan[(k * 7) % len(plan)] for k in range(args.replays)]
        interval = args.seconds / len(plan)
        results: list[tuple[str, int, float, str, int]] = []
        lock = threading.Lock()
        started = time.perf_counter()

        def send(index: int, item) -> None:
            n, channel, text = item
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            request = BUILDERS[channel](base, n, text)
            t0 = time.perf_counter()
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
        time.sleep(0.5)

        errors = Counter(status for *_rest, status in results if status != 200)
        inline_answers: Counter[int] = Counter()
        for channel, n, _elapsed, body, status in results:
            if channel == "sms" and status == 200:
                inline_answers[n] += body.count("<Message>")
        api_expected = {str(n) for n, channel, _t in plan if channel != "sms"}
        unique = {(n, channel) for n, channel, _t in plan}
        sms_unique = {n for n, channel in unique if channel == "sms"}
        answered = sum(1 for n in sms_unique if inline_answers[n] >= 1) + sum(
            1 for recipient in api_expected if fake.sent[recipient] >= 1
        )
        duplicates = sum(max(0, inline_answers[n] - 1) for n in sms_unique) + sum(
            max(0, fake.sent[recipient] - 1) for recipient in api_expected
        )
        inline = [elapsed * 1000 for channel, _n, elapsed, _b, status in results if channel == "sms"]
        api_side = [elapsed * 1000 for channel, _n, elapsed, _b, status in results if channel != "sms"]
        logged = ConversationMessage.objects.filter(direction="in").count()

        print(
            f"setup: manage.py serve, {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'} + local memory"
        )
        print(
            f"sent {len(plan)} requests ({len(unique)} messages + {args.replays} replays) in {wall:.1f} s "
            f"({len(plan) / wall:.1f}/s), {args.concurrency} at a time"
        )
        print(f"answered {answered} of {len(unique)}; duplicate answers {duplicates}; non-200 {dict(errors) or 0}")
        print(f"inbound rows logged {logged} (replays not logged twice)")
        print(
            f"SMS inline reply (TwiML)     p50 {statistics.median(inline):7.1f} ms  "
            f"p95 {percentile(inline, 0.95):7.1f} ms  p99 {percentile(inline, 0.99):7.1f} ms  max {max(inline):7.1f} ms"
        )
        print(
            f"Telegram/WhatsApp webhook    p50 {statistics.median(api_side):7.1f} ms  "
            f"p95 {percentile(api_side, 0.95):7.1f} ms  p99 {percentile(api_side, 0.99):7.1f} ms  "
            f"max {max(api_side):7.1f} ms  (reply sent to the provider's API within)"
        )
        verdict = answered == len(unique) and duplicates == 0 and percentile(inline, 0.99) < 500 and not errors
        print(f"target: every message answered, no duplicates, inline p99 < 500 ms: {'met' if verdict else 'NOT met'}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
