"""Soak: thousands of live clients, a page load and an update every few seconds, for minutes.

    .venv/bin/python bench/soak.py                       # 10 minutes, 3000 clients
    .venv/bin/python bench/soak.py --duration 60 --clients 500   # a quick look

One daphne process (production settings, Redis channel layer on a private
redis-server started here, SQLite in a temporary directory unless
--database-url is given) serves:
- N websocket clients from a separate process, spread over /ws/status/,
  /ws/areas/<slug>/ and /ws/incidents/<pk>/; each records which updates it saw
  and reconnects (full jitter) if dropped;
- a modest HTTP loop (--rps requests a second over the public pages and the API);
- one update every --every seconds through outages.services.post_update.

Every --sample seconds it records the server's RSS, its open file descriptors
and the Relay's own count of clients, groups and asyncio tasks (logged by the
server every LIVE_STATS_SECONDS). At the end it prints those series, the HTTP
figures, and for every update how many clients received it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, wait_http  # noqa: E402

MARKER = re.compile(r"soak-update-(\d+)")
STATS = re.compile(r"live relay clients=(\d+) groups=(\d+) tasks=(\d+) seen=(\d+) snapshots=(\d+)")
AREAS = 20


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the client swarm (its own process) ----------------------------------------


async def swarm(base: str, paths: list[str], clients: int, out: str, ready: str, stop: str) -> None:
    import websockets

    seen: list[set[int]] = [set() for _ in range(clients)]
    connects = [0] * clients
    gate = asyncio.Semaphore(200)
    origin = base.replace("ws://", "http://")

    async def client(index: int) -> None:
        url = base + paths[index % len(paths)]
        attempt = 0
        while True:
            try:
                async with gate:
                    ws = await websockets.connect(
                        url, origin=origin, open_timeout=60, ping_interval=None, compression=None, max_size=2**22
                    )
                connects[index] += 1
                attempt = 0
                async with ws:
                    async for message in ws:
                        seen[index].update(int(n) for n in MARKER.findall(message))
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            await asyncio.sleep(random.random() * 2 ** min(attempt, 6))
            attempt += 1

    running = [asyncio.create_task(client(i)) for i in range(clients)]  # noqa: F841 (referenced, so none is collected)
    started = time.time()
    while sum(1 for c in connects if c) < clients and time.time() - started < 300:
        await asyncio.sleep(0.5)
    Path(ready).write_text(json.dumps({"connected": sum(1 for c in connects if c), "seconds": time.time() - started}))
    while not Path(stop).exists():
        await asyncio.sleep(0.5)
    Path(out).write_text(
        json.dumps(
            {
                "seen": [sorted(s) for s in seen],
                "connects": connects,
                "paths": [paths[i % len(paths)] for i in range(clients)],
            }
        )
    )
    os._exit(0)


# --- the orchestrator ----------------------------------------------------------


class HttpLoad(threading.Thread):
    def __init__(self, base: str, paths: list[str], rps: float):
        super().__init__(daemon=True)
        self.base, self.paths, self.interval = base, paths, 1 / rps
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.base + random.choice(self.paths), timeout=30) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            self.latencies.append(time.monotonic() - started)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--duration", type=float, default=600, help="seconds of load after the clients connect (default 600)"
    )
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between updates")
    parser.add_argument("--rps", type=float, default=5.0, help="HTTP requests a second")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--redis-url", help="default: a private redis-server on a free port")
    parser.add_argument("--role", default="orchestrator", help=argparse.SUPPRESS)
    parser.add_argument("--base"), parser.add_argument("--paths"), parser.add_argument("--out")
    parser.add_argument("--ready"), parser.add_argument("--stop")
    args = parser.parse_args()
    if args.role == "swarm":
        asyncio.run(swarm(args.base, json.loads(args.paths), args.clients, args.out, args.ready, args.stop))
        return

    redis_process = None
    redis_url = args.redis_url
    if not redis_url:
        redis_process, redis_url = start_redis()
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "0",
        "SECRET_KEY": "soak-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/soak.sqlite3",
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "INFO",
        # Every client comes from 127.0.0.1: no per-address websocket cap.
        "WEBSOCKETS_PER_ADDRESS": "0",
        "LIVE_STATS_SECONDS": str(args.sample),
    }
    os.environ.update(env)
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from outages import services
    from outages.models import Incident, Region, ServiceArea

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    region, _ = Region.objects.get_or_create(slug="soak", defaults={"name": "Soak"})
    areas = [
        ServiceArea.objects.get_or_create(slug=f"soak-{n}", defaults={"name": f"Soak area {n}", "region": region})[0]
        for n in range(AREAS)
    ]
    Incident.objects.filter(areas__in=areas).delete()
    incident = services.open_incident(
        title="Soak outage", areas=areas, message="start", eta=timezone.now() + timedelta(hours=5)
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / "daphne.log"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),
    )
    swarm_process = None
    stop_file = workdir / "stop"
    try:
        wait_http(base + "/healthz")
        ws_paths = [
            "/ws/status/",
            "/ws/status/?summary=1",
            f"/ws/incidents/{incident.pk}/",
            *[f"/ws/areas/{area.slug}/" for area in areas],
        ]
        out, ready = workdir / "swarm.json", workdir / "ready.json"
        swarm_process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--role",
                "swarm",
                "--base",
                base.replace("http://", "ws://"),
                "--paths",
                json.dumps(ws_paths),
                "--clients",
                str(args.clients),
                "--out",
                str(out),
                "--ready",
                str(ready),
                "--stop",
                str(stop_file),
            ],
            cwd=ROOT,
        )
        while not ready.exists():
            if swarm_process.poll() is not None:
                raise RuntimeError("the swarm died")
            time.sleep(0.5)
        connected = json.loads(ready.read_text())
        print(
            f"{connected['connected']} of {args.clients} clients connected in {connected['seconds']:.1f} s", flush=True
        )

        http = HttpLoad(
            base,
            [
                "/",
                f"/areas/{areas[0].slug}/",
                f"/incidents/{incident.pk}/",
                "/api/v2/summary.json",
                "/history/",
                "/search/?q=soak",
            ],
            args.rps,
        )
        http.start()
        samples = []
        posted = 0
        started = time.monotonic()
        next_sample = started
        next_update = started
        while time.monotonic() - started < args.duration:
            now = time.monotonic()
            if now >= next_update:
                services.post_update(incident, status="identified", message=f"soak-update-{posted}")
                posted += 1
                next_update += args.every
            if now >= next_sample:
                samples.append((round(now - started), rss_mb(server.pid), open_fds(server.pid)))
                print(
                    f"t={samples[-1][0]:>4}s rss={samples[-1][1]:.1f} MB fds={samples[-1][2]} updates={posted}",
                    flush=True,
                )
                next_sample += args.sample
            time.sleep(0.05)
        http.running = False
        samples.append((round(time.monotonic() - started), rss_mb(server.pid), open_fds(server.pid)))
        time.sleep(max(5.0, 3 * float(os.environ.get("LIVE_OUTBOX_POLL_SECONDS", "0.5"))))  # the last pushes land
        stop_file.write_text("stop")
        swarm_process.wait(timeout=120)
        result = json.loads(out.read_text())
    finally:
        stop_file.write_text("stop")
        if swarm_process and swarm_process.poll() is None:
            swarm_process.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if redis_process:
            redis_process.kill()

    stats = [tuple(int(x) for x in m.groups()) for m in STATS.finditer(log_path.read_text(errors="replace"))]
    seen = [set(s) for s in result["seen"]]
    per_update = [sum(1 for s in seen if n in s) for n in range(posted)]
    missing = sum(args.clients - count for count in per_update)
    reconnects = sum(max(0, c - 1) for c in result["connects"])
    errors = {status: count for status, count in http.statuses.items() if status >= 500 or status == 0}
    print("\n== soak figures ==")
    print(
        f"duration {args.duration:.0f} s, clients {args.clients}, updates posted {posted} (one every {args.every} s), "
        f"HTTP {sum(http.statuses.values())} requests at ~{args.rps}/s"
    )
    print("server RSS MB every sample: " + " ".join(f"{rss:.1f}" for _, rss, _ in samples))
    print("server open fds every sample: " + " ".join(str(fds) for _, _, fds in samples))
    if stats:
        print("relay clients/groups/asyncio tasks every sample: " + " ".join(f"{c}/{g}/{t}" for c, g, t, _, _ in stats))
    steady = [rss for t, rss, _ in samples if t >= min(120, args.duration / 3)] or [samples[-1][1]]
    print(
        f"RSS after warm-up: min {min(steady):.1f} MB, max {max(steady):.1f} MB, last-first {steady[-1] - steady[0]:+.1f} MB"
    )
    print(
        f"delivery: {posted} updates x {args.clients} clients = {posted * args.clients} expected; "
        f"missing {missing}; fewest clients for one update {min(per_update) if per_update else 0}; reconnects {reconnects}"
    )
    print(
        f"HTTP: statuses {dict(sorted(http.statuses.items()))}; p50 {percentile(http.latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(http.latencies, 0.99) * 1000:.0f} ms; errors {errors or 'none'}"
    )
    if statistics and missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
