"""Benchmark: 2,000 customers asking one local team for a callback within a
minute, during an outage in their area, on `manage.py serve` with the embedded
default (SQLite + local memory), the background worker alongside as `make run`
starts it. Most ask "as soon as possible"; some choose one of a few popular
hours, so the same seat is asked for at the same instant.

    .venv/bin/python bench/callback_storm.py                    # 2,000 customers over 60 s
    .venv/bin/python bench/callback_storm.py --customers 300 --seconds 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_callback_bench .venv/bin/python bench/callback_storm.py

Checks: every customer got a promise (a redirect to their request's page);
no seat booked twice; no hour holds more than the team's capacity; every
promise is the time the capacity gives (seat k of an hour at k+1 capacity-ths
of it, a chosen hour by its end; a chosen hour already full moves on to the
next free seat) and later than the booking; every customer's
confirmation SMS was sent. Prints p50 / p95 / p99 of the response.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, other_cores, percentile, pinned, server_environment, wait_http  # noqa: E402

ALWAYS_OPEN = {str(day): ["00:00", "23:59"] for day in range(7)}


class NoRedirect(urllib.request.HTTPErrorProcessor):
    def http_response(self, request, response):
        return response

    https_response = http_response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--capacity", type=int, default=12, help="callbacks per staffed hour")
    parser.add_argument("--chosen", type=float, default=0.2, help="share of customers who choose an hour")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--server-core", type=int, default=0, help="the web process's core; the rest run on the others")
    args = parser.parse_args()
    other_cores(args.server_core)

    tmp = tempfile.TemporaryDirectory()
    sms_file = Path(tmp.name) / "sms.jsonl"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(
        tmp.name,
        # Everyone comes from 127.0.0.1 here: the per-network limit would stop the storm at 10.
        CONTACT_LIMIT_PER_IP=str(args.customers * 2),
        SMS_FILE_PATH=str(sms_file),
    )
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count
    from django.utils import timezone

    from outages import services
    from outages.models import ContactRequest, Region, Service, ServiceArea, Team, TeamContact, TeamRegion
    from outages.queries import callback_slots

    call_command("migrate", verbosity=0)
    region = Region.objects.create(name="Budapest", slug="budapest")
    fiber = Service.objects.create(name="Fiber internet", slug="fiber")
    district = ServiceArea.objects.create(
        name="District 5", slug="district-5", region=region, postcodes="1051", time_zone="Europe/Budapest"
    )
    team = Team.objects.create(name="Budapest crew", public_name="Budapest Network Team")
    TeamRegion.objects.create(team=team, region=region)
    contact = TeamContact.objects.create(team=team, hours=ALWAYS_OPEN, callbacks_per_hour=args.capacity)
    services.open_incident(
        title="Fiber cut",
        areas=[district],
        services=[fiber],
        message="Crew on the way.",
        eta=timezone.now() + timedelta(hours=3),
    )
    # A few popular hours a while ahead: the chosen ones collide on the same seats.
    popular = [
        slot.start
        for slot in callback_slots.offered_slots(contact, zoneinfo.ZoneInfo(district.time_zone), limit=40)[20:24]
    ]

    def run(command, core=None):
        return subprocess.Popen(
            [*pinned(core), sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp.name) / f"{command[0]}.log", "w"),
        )

    server = run(["serve", "--port", str(port)], args.server_core)
    worker = run(["db_worker"])
    opener = urllib.request.build_opener(NoRedirect)
    try:
        wait_http(base + "/healthz")
        opener.open(base + "/areas/district-5/contact/", timeout=30).read()  # warm up
        every = max(1, round(1 / args.chosen)) if args.chosen else 0
        plan = []
        for n in range(args.customers):
            slot = popular[n % len(popular)].isoformat() if every and n % every == 0 else "asap"
            plan.append((n, slot))
        interval = args.seconds / len(plan)
        load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
        results: list[tuple[int, str, float, int, str]] = []
        lock = threading.Lock()
        started = time.perf_counter()

        def send(index: int, item) -> None:
            n, slot = item
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = urllib.parse.urlencode(
                {
                    "kind": "callback",
                    "phone": f"+3630{1000000 + n:07d}",
                    "service": "fiber",
                    "reason": "No internet since the storm",
                    "slot": slot,
                }
            ).encode()
            request = urllib.request.Request(
                base + "/areas/district-5/contact/", data=body, headers={"Sec-Fetch-Site": "same-origin"}
            )
            t0 = time.perf_counter()
            try:
                with opener.open(request, timeout=30) as response:
                    status, location = response.status, response.headers.get("Location", "")
                    response.read()
            except OSError as error:
                status, location = 0, str(error)
            elapsed = time.perf_counter() - t0
            with lock:
                results.append((n, slot, elapsed, status, location))

        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for index, item in enumerate(plan):
                pool.submit(send, index, item)
        wall = time.perf_counter() - started

        statuses = Counter(status for *_rest, status, _loc in results)
        promised = sum(1 for *_rest, status, loc in results if status == 302 and "/contact/requests/" in loc)
        rows = list(ContactRequest.objects.filter(team=team).order_by("created_at", "id"))
        per_seat = Counter((row.slot_start, row.seat) for row in rows)
        double = sum(count - 1 for count in per_seat.values() if count > 1)
        per_hour = ContactRequest.objects.filter(team=team).values("slot_start").annotate(n=Count("id"))
        over = sum(1 for hour in per_hour if hour["n"] > args.capacity)
        hour = timedelta(hours=1)
        wrong = 0
        for row in rows:
            # Seat k of an hour is due at k+1 capacity-ths of it; a chosen hour (not moved on) by its end.
            seat_time = row.slot_start + hour * (row.seat + 1) / args.capacity
            due = {seat_time} if row.asap else {seat_time, row.slot_start + hour}
            if row.seat >= args.capacity or row.promised_at not in due or row.promised_at <= row.created_at:
                wrong += 1
        moved = sum(1 for *_rest, status, loc in results if "moved=1" in loc)
        asap_rows = [row for row in rows if row.asap]
        latest = max((row.promised_at for row in asap_rows), default=None)
        deadline = time.monotonic() + 120
        sent = 0
        while time.monotonic() < deadline:
            sent = len(sms_file.read_text().splitlines()) if sms_file.exists() else 0
            if sent >= len(rows):
                break
            time.sleep(1)
        confirmed = set()
        if sms_file.exists():
            confirmed = {json.loads(line)["to"] for line in sms_file.read_text().splitlines()}
        latencies = [elapsed * 1000 for _n, _s, elapsed, status, _l in results if status == 302]

        print(f"load average before / after: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(
            f"setup: manage.py serve + db_worker, "
            f"{'PostgreSQL' if env['DATABASE_URL'].startswith('postgres') else 'SQLite'} + local memory; "
            f"one team, {args.capacity} callbacks per staffed hour, an incident open in the area; "
            f"server on core {args.server_core}, worker and customers on the others"
        )
        print(
            f"sent {len(plan)} callback requests in {wall:.1f} s ({len(plan) / wall:.1f}/s), "
            f"{args.concurrency} at a time; {sum(1 for _n, s in plan if s != 'asap')} chose one of "
            f"{len(popular)} popular hours"
        )
        print(f"answers: {dict(statuses)}; promised {promised} of {len(plan)}; rows {len(rows)}")
        print(
            f"double-booked seats {double}; hours over capacity {over}; promises not as capacity gives {wrong}; "
            f"chosen hour full so the next one was booked {moved}"
        )
        if latest:
            print(f"latest ASAP promise: {(latest - timezone.now()).total_seconds() / 3600:.1f} h from now")
        print(f"confirmation SMS sent {sent}, to {len(confirmed)} different numbers")
        if latencies:
            print(
                f"booking response  p50 {statistics.median(latencies):7.1f} ms  "
                f"p95 {percentile(latencies, 0.95):7.1f} ms  p99 {percentile(latencies, 0.99):7.1f} ms  "
                f"max {max(latencies):7.1f} ms"
            )
        p99 = percentile(latencies, 0.99) if latencies else float("inf")
        verdict = promised == len(plan) == len(rows) and not double and not over and not wrong and p99 < 300
        print(
            "target: every customer a promise consistent with capacity, none double-booked, p99 < 300 ms: "
            + ("met" if verdict else "NOT met")
        )
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
