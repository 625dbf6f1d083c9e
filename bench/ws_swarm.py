"""Websocket fan-out benchmark: our daphne + Redis layer against the Python floor.

    .venv/bin/python bench/ws_swarm.py --clients 10000 --updates 5              # with REDIS_URL
    .venv/bin/python bench/ws_swarm.py --clients 10000 --updates 5 --embedded   # the embedded default
    .venv/bin/python bench/ws_swarm.py --clients 2000 --updates 5 --via-command # the operator's clock
    .venv/bin/python bench/ws_swarm.py --clients 2000 --updates 5 --via-command --mix  # four pages, three languages
    .venv/bin/python bench/ws_swarm.py --clients 2000 --updates 20 --via-command --interleave  # updates taking turns

For each server in turn (ours: daphne + channels_redis, the outbox relay; the
floor: a minimal broadcast server written with the `websockets` library,
fed through Redis pub/sub), N clients connect to one area's socket from a
separate process pinned to another core, then M operator updates are
posted (ours: through outages.services, one transaction each; the floor: one
PUBLISH of a payload of the same size). Each client records when each update
arrives; latency is commit (or publish) to receipt, on one clock.

The swarm is a storm: every client starts at its own moment within `--spread`
seconds (3), with no throttling of connects in flight (`--connect-concurrency 0`),
split over processes of at most 5,000 clients each (the file limit). A client
tries once, then retries up to 5 times; the first attempt is counted apart.
`--via-command`: ours gets its updates from the `incident update` command,
timed from the start of its work (the floor's clock still starts at its
publish); the start-up of a new `manage.py` process is printed apart, and so is the work of
`incident update` in a new process (nothing loaded yet).
`--interleave`: both servers and both swarms are up at once and their updates
take turns (ours, then the floor's, each followed by the interval), so a spell of
the machine running slower falls on both alike; without it ours runs first, then the floor.
`--mix`: ours' clients take turns on four sockets (the area's page and the home
page in the site's language, the area's in Hungarian, the incident's in
Hebrew), so a change is rendered for three groups and three languages, as in a
storm; without it every client reads the area's page in the site's language.

Prints, per server: connected on the first attempt (%), connected, connect
time, p50, p99, max latency, commit to first and to last client, updates lost
for connected clients, server RSS delta per connection (idle RSS taken after one
warm-up socket), Redis commands per update, the load average. Everything runs
on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, pinned, wait_http  # noqa: E402

MARKER = re.compile(r"bench-update-(\d+)")
AREA = "bench-area"
# static/js/status.js: RECONNECT_SPREAD_MS, RECONNECT_MAX_MS.
RECONNECT_SPREAD, RECONNECT_MAX = 6.0, 60.0


# --- helpers -----------------------------------------------------------------


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def redis_commands(redis_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).info("stats")["total_commands_processed"])


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# --- the swarm (runs in its own processes) ------------------------------------


def reconnect_delay(retries: int) -> float:
    """static/js/status.js's reconnectDelay(retries): random within 6 s x 2^retries, at most 60 s."""
    return random.random() * min(RECONNECT_SPREAD * 2**retries, RECONNECT_MAX)


async def swarm(args):
    """One slice of the swarm: clients `first`..`first + clients - 1` of `total`,
    each started at its moment of the storm (start_at + its share of `spread`
    seconds), one connect attempt, then up to 5 retries counted apart.

    `--reconnect`: a socket closed before every update came is opened again as
    status.js does (reconnect_delay), each reconnect recorded with the newest
    update its snapshot shows. `--source-addresses K`: client i connects from
    127.1.0.(i mod K + 1), as K customers' addresses. SIGUSR1: write out now."""
    import websockets

    clients, updates = args.clients, args.updates
    received: list[dict[int, float]] = [dict() for _ in range(clients)]
    first_try = [False] * clients
    connected_at = [0.0] * clients
    connected = 0
    # [client, closed at, opened again at (0: not yet), failed attempts, newest update in its snapshot]
    reconnects: list[list] = []
    attempts_at: list[float] = []
    gate = asyncio.Semaphore(args.connect_concurrency) if args.connect_concurrency else None
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, stop.set)

    async def open_one(position: int):
        source = {"local_addr": (f"127.1.0.{position % args.source_addresses + 1}", 0)} if args.source_addresses else {}
        urls = args.url.split(",")
        return await websockets.connect(
            urls[position % len(urls)],
            origin=args.origin,
            open_timeout=60,
            ping_interval=None,
            max_size=2**20,
            compression=None,
            **source,
        )

    async def listen(ws, mine: dict[int, float], record: list | None) -> bool:
        """Until every update is in (True) or the socket closes (False); a
        reconnect's record gets the newest update its first message (the snapshot) shows."""
        try:
            async for message in ws:
                now = time.time()
                numbers = [int(number) for number in MARKER.findall(message)]
                if record is not None and record[4] is None:
                    record[4] = max(numbers, default=-1)
                for number in numbers:
                    mine.setdefault(number, now)
                if len(mine) >= updates:
                    # Left open until the swarm is done: closing here would
                    # busy this process while other clients still wait.
                    return True
        except Exception:
            pass
        await ws.close()
        return False

    async def client(index: int):
        nonlocal connected
        position = args.first + index
        await asyncio.sleep(max(0.0, args.start_at + args.spread * position / args.total - time.time()))
        ws = None
        for attempt in range(6):
            try:
                if gate is None:
                    ws = await open_one(position)
                else:
                    async with gate:
                        ws = await open_one(position)
                break
            except Exception:
                await asyncio.sleep(0.5 * (attempt + 1) + random.random())
        if ws is None:
            return
        first_try[index] = attempt == 0
        connected_at[index] = time.time()
        connected += 1
        record = None
        while True:
            if await listen(ws, received[index], record) or not args.reconnect:
                return
            record = [index, time.time(), 0.0, 0, None]
            reconnects.append(record)
            while True:
                await asyncio.sleep(reconnect_delay(record[3]))
                attempts_at.append(time.time())
                try:
                    ws = await open_one(position)
                    break
                except Exception:
                    record[3] += 1
            record[2] = time.time()

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    while connected < clients and time.time() - args.start_at < 300:
        await asyncio.sleep(0.1)
        if all(task.done() for task in tasks):
            break
    connect_seconds = time.time() - args.start_at
    if not args.reconnect:
        # The instrument's own pauses stay out of what it measures: with every
        # socket open, what is left to allocate is the messages, freed as read.
        gc.collect()
        gc.freeze()
        gc.disable()
    Path(args.ready).write_text(json.dumps({"connected": connected, "connect_seconds": connect_seconds}))
    # Wait for all updates, SIGUSR1 or the deadline.
    await asyncio.wait(
        [asyncio.gather(*tasks, return_exceptions=True), asyncio.create_task(stop.wait())],
        timeout=args.hold or updates * 30 + 60,
        return_when=asyncio.FIRST_COMPLETED,
    )
    written = Path(args.out + ".part")
    written.write_text(
        json.dumps(
            {
                "connected": connected,
                "first_try": sum(first_try),
                "connect_seconds": connect_seconds,
                "connected_at": [at for at in connected_at if at],
                "received": [{str(k): v for k, v in r.items()} for r in received],
                "reconnects": [[args.first + record[0], *record[1:]] for record in reconnects],
                "attempts_at": attempts_at,
            }
        )
    )
    written.rename(args.out)
    # Every socket stays open until the whole swarm is done (the parent ends
    # this process): a slice leaving early would have the server handle its
    # thousands of closes while the other slices still wait for an update.
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1)
    os._exit(0)


# --- the minimal floor server --------------------------------------------------


async def floor_server(port: int, redis_url: str, channel: str):
    import redis.asyncio as aioredis
    import websockets

    clients: set = set()

    async def handler(ws):
        clients.add(ws)
        try:
            await ws.send("<p>snapshot</p>")
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def relay():
        pubsub = aioredis.Redis.from_url(redis_url).pubsub()
        await pubsub.subscribe(channel)
        async for message in pubsub.listen():
            if message["type"] == "message":
                websockets.broadcast(clients, message["data"].decode())

    # The same listen backlog as ours (manage.py serve), so the storm meets the same kernel queue.
    async with websockets.serve(
        handler, "127.0.0.1", port, ping_interval=None, compression=None, max_size=2**16, backlog=4096
    ):
        print("ready", flush=True)
        await relay()


# --- orchestration -----------------------------------------------------------


class Swarm:
    """The swarm split over processes (each within its file limit), all
    starting the storm at the same moment."""

    def __init__(self, url: str, args, origin: str, extra: tuple[str, ...] = ()):
        self.tmp = tempfile.mkdtemp(prefix="swarm-")
        self.processes, self.outs, self.readies = [], [], []
        parts = max(1, args.swarm_processes or -(-args.clients // 5000))
        start_at = time.time() + 2 + parts * 0.5
        share = -(-args.clients // parts)
        for part in range(parts):
            first = part * share
            count = min(share, args.clients - first)
            out, ready = os.path.join(self.tmp, f"out{part}.json"), os.path.join(self.tmp, f"ready{part}.json")
            self.outs.append(out)
            self.readies.append(ready)
            self.processes.append(
                subprocess.Popen(
                    [
                        *pinned(args.swarm_core),
                        sys.executable,
                        __file__,
                        *("--role", "swarm", "--url", url, "--origin", origin),
                        *("--clients", str(count), "--first", str(first), "--total", str(args.clients)),
                        *("--updates", str(args.updates), "--out", out, "--ready", ready),
                        *("--start-at", str(start_at), "--spread", str(args.spread)),
                        *("--connect-concurrency", str(args.connect_concurrency)),
                        *extra,
                    ],
                    cwd=ROOT,
                )
            )
        deadline = time.monotonic() + 360
        while not all(os.path.exists(ready) for ready in self.readies):
            if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                raise RuntimeError("swarm failed to connect")
            time.sleep(0.2)
        time.sleep(0.2)

    def finish(self, timeout: float) -> list[dict]:
        """Each process's record, once it has every update or, after `timeout`
        seconds, what it has then (SIGUSR1); then every process leaves at once."""
        self._written(time.monotonic() + timeout)
        for out, process in zip(self.outs, self.processes):
            if process.poll() is None and not os.path.exists(out):
                process.send_signal(signal.SIGUSR1)
        self._written(time.monotonic() + 30)
        for process in self.processes:
            process.kill()
            process.wait()
        return [json.loads(Path(out).read_text()) for out in self.outs]

    def _written(self, deadline: float) -> None:
        """Until every process has written its record (or ended), or the deadline."""
        while time.monotonic() < deadline:
            if all(os.path.exists(out) or p.poll() is not None for out, p in zip(self.outs, self.processes)):
                return
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def collect(self, commits: dict[int, float], clients: int) -> dict:
        return summarize(self.finish(len(commits) * 30 + 90), commits, clients)


def summarize(parts: list[dict], commits: dict[int, float], clients: int) -> dict:
    """Connects and the latency and losses of the updates in `commits`, over every swarm process's record."""
    latencies = []
    by_update: dict[int, list[float]] = {number: [] for number in commits}
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    received = 0
    per_update = dict.fromkeys(sorted(commits), 0)
    for data in parts:
        for per_client in data["received"]:
            for number, at in per_client.items():
                if int(number) in commits:
                    latency = at - commits[int(number)]
                    latencies.append(latency)
                    by_update[int(number)].append(latency)
                    first[int(number)] = min(first.get(int(number), latency), latency)
                    last[int(number)] = max(last.get(int(number), latency), latency)
                    per_update[int(number)] += 1
                    received += 1
    connected = sum(data["connected"] for data in parts)
    first_try = sum(data["first_try"] for data in parts)
    connected_at = sorted(at for data in parts for at in data["connected_at"])
    return {
        "clients": clients,
        "connected": connected,
        "connected_first_attempt_pct": round(100 * first_try / clients, 2),
        "connect_seconds": round(max(data["connect_seconds"] for data in parts), 1),
        "last_connect_after_first_s": round(connected_at[-1] - connected_at[0], 1) if connected_at else 0,
        "received": received,
        # Every connected client was connected before the first update.
        "expected": connected * len(commits),
        "lost": connected * len(commits) - received,
        "received_per_update": list(per_update.values()),
        "p50_ms": round(1000 * percentile(latencies, 50), 1),
        "p99_ms": round(1000 * percentile(latencies, 99), 1),
        "max_ms": round(1000 * max(latencies), 1) if latencies else float("nan"),
        "p99_per_update_ms": [round(1000 * percentile(values, 99)) for values in by_update.values()],
        "first_client_per_update_ms": [round(1000 * first[number]) for number in sorted(first)],
        # Commit to the first client: the pipeline, without the fan-out spread.
        "first_client_p50_ms": round(1000 * statistics.median(first.values()), 1) if first else float("nan"),
        "last_client_p50_ms": round(1000 * statistics.median(last.values()), 1) if last else float("nan"),
    }


def bench_incident():
    """The bench area (created once) with one open incident, its earlier ones deleted (Django set up)."""
    from datetime import timedelta

    from django.utils import timezone

    from outages import services
    from outages.models import Incident, Region, ServiceArea

    region, _ = Region.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    area, _ = ServiceArea.objects.get_or_create(slug=AREA, defaults={"name": "Bench area", "region": region})
    Incident.objects.filter(areas=area).delete()
    return services.open_incident(
        title="Bench outage", areas=[area], message="start", eta=timezone.now() + timedelta(hours=5)
    )


def post_marked_update(incident, number: int, commits: dict[int, float]) -> None:
    """One operator update through outages.services, its message marked `number`;
    commits[number] is its commit time."""
    from django.db import transaction

    from outages import services

    with transaction.atomic():
        # Registered before the service's own hook: runs first, at commit.
        transaction.on_commit(lambda: commits.__setitem__(number, time.time()))
        services.post_update(incident, status="identified", message=f"bench-update-{number}")


def warm_up(url: str, origin: str, snapshot: bool) -> None:
    """One socket opened (its snapshot read) and closed before the idle RSS is
    taken: what the first connect loads once (modules, compiled templates, the
    relay and its first snapshot) is the process's, not every connection's."""
    from websockets.sync.client import connect

    with connect(url, origin=origin, open_timeout=30) as ws:
        if snapshot:
            ws.recv(timeout=30)


# A new process, set up as manage.py sets up, that times `incident update` from
# the start of its work, as the bench's own clock does.
TIMED_UPDATE = """
import io, sys, time
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command("incident", "update", sys.argv[1], "--status", "identified", "--message", "cold", stdout=io.StringIO())
print(round(1000 * (time.perf_counter() - started), 1))
"""


def command_in_new_process(env: dict, incident_pk: int) -> dict:
    """What an operator's command costs in a process of its own: the start-up
    (`incident --help`, the best of three) and then the work of `incident
    update` when nothing is loaded yet (URL map, templates, connections; three runs)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "incident", "--help"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - started)
    work = [
        float(
            subprocess.run(
                [sys.executable, "-c", TIMED_UPDATE, str(incident_pk)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
        )
        for _ in range(3)
    ]
    return {"command_startup_s": round(min(times), 2), "command_work_new_process_ms": work}


class Side:
    """A server under test and its swarm: started, updated one at a time,
    collected, stopped (by run_all, alone or interleaved with the other side)."""

    name = ""

    def __init__(self, args, redis_url: str):
        self.args, self.redis_url = args, redis_url
        self.server = self.swarm = None
        self.commits: dict[int, float] = {}

    def measured(self) -> dict:
        """The swarm's record of the updates, and the server's memory per connection."""
        result = self.swarm.collect(self.commits, self.args.clients)
        result["server_rss_idle_mb"] = round(self.idle_rss / 1024, 1)
        result["server_kb_per_connection"] = round((self.loaded_rss - self.idle_rss) / max(result["connected"], 1), 1)
        return result

    def stop(self) -> None:
        if self.swarm is not None:
            self.swarm.stop()
            self.swarm = None
        if self.server is not None:
            self.stop_server()
            self.server = None

    def stop_server(self) -> None:
        self.server.kill()
        self.server.wait()


class Ours(Side):
    """Our server as `make run` starts it, its swarm, and the operator's updates."""

    name = "ours (manage.py serve)"

    def __init__(self, args, redis_url: str):
        super().__init__(args, redis_url)
        self.command_ms: list[float] = []
        self.redis_spent = 0
        self.new_process: dict = {}

    def start(self) -> None:
        args = self.args
        workdir = tempfile.mkdtemp(prefix="bench-db-")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "statuspage.settings",
            # Production settings: DEBUG off (no query log, no debug toolbar of any kind).
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.sqlite3",
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "WARNING",
            # The whole swarm comes from 127.0.0.1: without this the per-address cap
            # (1,000 sockets) closes every client past it with 1008.
            "WEBSOCKETS_PER_ADDRESS": "0",
        }
        if args.embedded:
            # The embedded default: in-memory layer, changes reach the server through the outbox poll.
            env.pop("REDIS_URL")
            os.environ.pop("REDIS_URL", None)
            self.redis_url = None
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.incident = bench_incident()

        port = free_port()
        self.server = subprocess.Popen(
            # Started as `make run` and the deploy units start it.
            [*pinned(args.server_core), sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"http://127.0.0.1:{port}/healthz")
        warm_up(f"ws://127.0.0.1:{port}/ws/areas/{AREA}/", f"http://127.0.0.1:{port}", snapshot=True)
        time.sleep(1)
        self.idle_rss = rss_kb(self.server.pid)
        sockets = f"ws://127.0.0.1:{port}/ws/areas/{AREA}/"
        if args.mix:
            # Customers as a storm has them: the area's page and the home page in
            # the site's language, the area's page in Hungarian, the incident's in Hebrew.
            base = f"ws://127.0.0.1:{port}/ws"
            sockets = ",".join(
                [sockets, f"{base}/status/", f"{sockets}?lang=hu", f"{base}/incidents/{self.incident.pk}/?lang=he"]
            )
        self.swarm = Swarm(sockets, args, f"http://127.0.0.1:{port}")
        # The operator's writes run where the server runs, as on a server: the
        # swarm's core is the load's alone.
        if args.server_core is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {args.server_core})
        time.sleep(5)  # let the connect burst's buffers settle
        self.loaded_rss = rss_kb(self.server.pid)
        # While every client is connected (the swarm leaves once it has every
        # update): what a command renders follows what they read. Its updates
        # carry no bench marker, so no client counts them.
        if args.via_command:
            self.new_process = command_in_new_process(env, self.incident.pk)

    def update(self, number: int) -> None:
        """One operator update, marked `number`; then the interval's quiet."""
        redis_before = redis_commands(self.redis_url) if self.redis_url else 0
        if self.args.via_command:
            from django.core.management import call_command

            # The operator's clock: from the start of `incident update`'s
            # work (parsing its arguments included); Python's and Django's
            # start-up before it is measured apart (command_startup_s).
            self.commits[number] = time.time()
            command = f"incident update {self.incident.pk} --status identified --message bench-update-{number}"
            call_command(*command.split(), stdout=io.StringIO())
            self.command_ms.append(round(1000 * (time.time() - self.commits[number]), 1))
        else:
            post_marked_update(self.incident, number, self.commits)
        time.sleep(self.args.interval)
        if self.redis_url:
            # Less the INFO that read redis_before.
            self.redis_spent += redis_commands(self.redis_url) - redis_before - 1

    def collect(self) -> dict:
        result = self.measured()
        result["redis_commands_per_update"] = round(self.redis_spent / max(len(self.commits), 1), 1)
        if self.args.via_command:
            # The command's whole run (its write, the render, the outbox row, the announcement).
            result["command_ms"] = self.command_ms
            result.update(self.new_process)
        return result

    def stop_server(self) -> None:
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()


FLOOR_PAYLOAD = 3500  # bytes, about our area fragment with a few updates on its timeline


def start_floor(port: int, redis_url: str, channel: str, core: int | None) -> subprocess.Popen:
    """The floor server on `port`, fed by `channel`, once it listens."""
    server = subprocess.Popen(
        [*pinned(core), sys.executable, __file__, "--role", "floor", "--port", str(port)]
        + ["--redis", redis_url, "--channel", channel],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    server.stdout.readline()
    return server


def floor_message(number: int) -> str:
    """The floor's update `number`: a marked payload of FLOOR_PAYLOAD bytes."""
    return f"<p>bench-update-{number}</p><!--{'x' * max(0, FLOOR_PAYLOAD - 40)}-->"


def floor_updates(redis_url: str, channel: str, updates: int, interval: float) -> dict[int, float]:
    """The floor's updates, one PUBLISH each; their publish times."""
    import redis

    client = redis.Redis.from_url(redis_url)
    commits: dict[int, float] = {}
    for number in range(updates):
        commits[number] = time.time()
        client.publish(channel, floor_message(number))
        time.sleep(interval)
    return commits


class Floor(Side):
    """The minimal `websockets` broadcast server, fed through Redis pub/sub, and
    the same swarm; each update one PUBLISH of a marked payload of FLOOR_PAYLOAD bytes."""

    name = "floor (websockets broadcast)"

    def start(self) -> None:
        import redis

        port = free_port()
        self.channel = f"bench-floor-{port}"
        self.server = start_floor(port, self.redis_url, self.channel, self.args.server_core)
        warm_up(f"ws://127.0.0.1:{port}/", f"http://127.0.0.1:{port}", snapshot=False)
        time.sleep(1)
        self.idle_rss = rss_kb(self.server.pid)
        self.swarm = Swarm(f"ws://127.0.0.1:{port}/", self.args, f"http://127.0.0.1:{port}")
        time.sleep(5)
        self.loaded_rss = rss_kb(self.server.pid)
        self.client = redis.Redis.from_url(self.redis_url)

    def update(self, number: int) -> None:
        self.commits[number] = time.time()
        self.client.publish(self.channel, floor_message(number))
        time.sleep(self.args.interval)

    def collect(self) -> dict:
        return {**self.measured(), "redis_commands_per_update": 1.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", default="main", choices=["main", "swarm", "floor"])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between updates")
    parser.add_argument(
        "--connect-concurrency", type=int, default=0, help="connects in flight per swarm process; 0: no throttling"
    )
    parser.add_argument("--spread", type=float, default=3.0, help="seconds over which the clients start")
    parser.add_argument("--swarm-processes", type=int, default=0, help="default: one per 5,000 clients")
    parser.add_argument("--embedded", action="store_true", help="ours without REDIS_URL (the embedded default)")
    parser.add_argument(
        "--via-command",
        action="store_true",
        help="updates through the `incident update` command, timed from the start of its work",
    )
    parser.add_argument(
        "--mix",
        action="store_true",
        help="ours: clients in turn on the area's page, the home page, the area in Hungarian, the incident in Hebrew",
    )
    parser.add_argument("--first", type=int, default=0), parser.add_argument("--total", type=int, default=0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--reconnect", action="store_true", help="swarm: reopen a closed socket as status.js does")
    parser.add_argument("--source-addresses", type=int, default=0, help="swarm: connect from this many 127.1.0.x")
    parser.add_argument("--hold", type=float, default=0, help="swarm: seconds to wait for every update")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--swarm-core", type=int, default=1)
    parser.add_argument(
        "--redis",
        default=None,
        help="default: a private redis-server started for the run, so its counters are ours alone",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--only", choices=["ours", "floor"], default=None)
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="both servers and swarms up at once, their updates taking turns (default: ours, then the floor)",
    )
    parser.add_argument("--url"), parser.add_argument("--out"), parser.add_argument("--ready")
    parser.add_argument("--origin"), parser.add_argument("--port", type=int), parser.add_argument("--channel")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    if args.role == "swarm":
        asyncio.run(swarm(args))
        return
    if args.role == "floor":
        asyncio.run(floor_server(args.port, args.redis, args.channel))
        return

    print(
        f"websocket fan-out: {args.clients} clients started within {args.spread} s "
        f"({'no throttling' if not args.connect_concurrency else f'{args.connect_concurrency} in flight'}), "
        f"{args.updates} updates{' through manage.py incident update' if args.via_command else ''}, "
        f"ours {'embedded (no Redis)' if args.embedded else 'with REDIS_URL'}, server on core {args.server_core}, "
        f"swarm on core {args.swarm_core}, file limit {hard}; load average {load_average()}"
    )
    redis_process = None
    if args.redis is None:
        redis_port = free_port()
        redis_process = subprocess.Popen(
            [
                *pinned(args.swarm_core),
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        args.redis = f"redis://127.0.0.1:{redis_port}/0"
        time.sleep(0.5)
    try:
        run_all(args)
    finally:
        if redis_process:
            redis_process.terminate()


def run_all(args):
    chosen = [kind(args, args.redis) for kind, side in ((Ours, "ours"), (Floor, "floor")) if args.only in (None, side)]
    results = {}
    # Interleaved, both are connected at once and their updates take turns: a
    # spell of the machine running slower (it comes and goes for seconds at a
    # time here) falls on both alike instead of on whichever ran then.
    rounds = [chosen] if args.interleave else [[bench] for bench in chosen]
    try:
        for together in rounds:
            for bench in together:
                bench.start()
            for number in range(args.updates):
                for bench in together:
                    bench.update(number)
            for bench in together:
                results[bench.name] = {**bench.collect(), "load": load_average()}
                bench.stop()
    finally:
        for bench in chosen:
            bench.stop()
    for name, result in results.items():
        print(f"\n{name} (load average at the end {result.pop('load')})")
        for key, value in result.items():
            print(f"  {key:28} {value}")
    if len(results) == 2:
        ours, floor = results.values()
        print(f"\np99 ratio ours/floor: {ours['p99_ms'] / floor['p99_ms']:.2f} (target <= 1.5)")
        print(f"lost messages (ours): {ours['lost']} of {ours['expected']}")
        print(f"connected on first attempt (ours): {ours['connected_first_attempt_pct']}% (target >= 99.5%)")


if __name__ == "__main__":
    main()
