"""Benchmark: one incident update fanned out to N confirmed email subscribers,
through the real task worker (`manage.py db_worker --batch`, a separate process)
to a local SMTP sink (aiosmtpd, in this process). Prints messages/s and total time.

    .venv/bin/python bench/notify_fanout.py                       # SQLite, 10,000 subscribers
    .venv/bin/python bench/notify_fanout.py --subscribers 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_subs_bench .venv/bin/python bench/notify_fanout.py

The database is created from scratch: a temporary SQLite file, or a PostgreSQL
database whose name must end in "_bench" (dropped and recreated).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port  # noqa: E402


class CountingSink:
    def __init__(self):
        self.count = 0
        self.recipients: set[str] = set()
        self.first_at: float | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.recipients.update(envelope.rcpt_tos)
            if self.first_at is None:
                self.first_at = time.perf_counter()
        return "250 OK"


def fresh_postgres(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_bench"):
        sys.exit("refusing: the PostgreSQL database name must end in _bench (it is dropped and recreated)")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    tmp = tempfile.TemporaryDirectory()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp.name}/bench.sqlite3"
    if database_url.startswith("postgres"):
        fresh_postgres(database_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "NOTIFY_BATCH_SIZE": str(args.batch_size),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from outages import services
    from outages.models import Channel, Region, ServiceArea, Subscriber

    call_command("migrate", verbosity=0)
    region = Region.objects.create(name="Bench", slug="bench")
    area = ServiceArea.objects.create(name="Bench district", slug="bench-district", region=region)
    now = timezone.now()
    started = time.perf_counter()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(channel=Channel.EMAIL, address=f"subscriber{n}@example.com", confirmed_at=now)
            for n in range(args.subscribers)
        ],
        batch_size=2000,
    )
    if subscribers[0].pk is None:
        subscribers = list(Subscriber.objects.order_by("pk"))
    Through = Subscriber.areas.through
    Through.objects.bulk_create(
        [Through(subscriber_id=s.pk, servicearea_id=area.pk) for s in subscribers], batch_size=5000
    )
    print(
        f"setup: {args.subscribers} confirmed email subscribers in {time.perf_counter() - started:.1f}s "
        f"({django.db.connection.vendor})"
    )

    with transaction.atomic():
        incident = services.open_incident(
            title="Fiber cut", areas=[area], message="Crew on the way.", eta=now + timezone.timedelta(hours=3)
        )
    started = time.perf_counter()
    worker = subprocess.run(
        [
            sys.executable,
            *os.environ.get("BENCH_PROFILE", "").split(),
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "-v0",
        ],
        cwd=ROOT,
        env=env,
    )
    total = time.perf_counter() - started
    controller.stop()

    from outages.models import Delivery

    statuses = dict(
        Delivery.objects.filter(event__incident=incident)
        .values_list("status")
        .annotate(n=django.db.models.Count("id"))
        .values_list("status", "n")
    )
    assert worker.returncode == 0, "worker failed"
    first = (sink.first_at - started) if sink.first_at else float("nan")
    print(f"delivered: {sink.count} messages to {len(sink.recipients)} distinct recipients; deliveries {statuses}")
    print(f"total time (worker start to exit): {total:.2f}s; first message after {first:.2f}s")
    print(f"throughput: {sink.count / total:.0f} messages/s")
    if sink.count != args.subscribers or len(sink.recipients) != args.subscribers:
        sys.exit("MISMATCH: not exactly one message per subscriber")


if __name__ == "__main__":
    main()
