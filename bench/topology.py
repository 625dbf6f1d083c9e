"""The shipped production topology on one box: nginx in front of two daphne processes,
PostgreSQL and Redis, under a storm of websockets and a rolling restart.

    .venv/bin/python bench/topology.py --clients 1000 --updates 5
    .venv/bin/python bench/topology.py --clients 10000 --updates 5      # the default

Options: --database-url (default postgres://postgres@127.0.0.1:5432/sp_topology_bench,
dropped and created again; the name must end in _bench), --redis-url (default
redis://127.0.0.1:6379/12, flushed at the start), --interval (seconds between updates, 1),
--spread (the storm's seconds, 3), --server-core (0), --swarm-core (1).

Set up as an operator does (README, "Production"): the release steps (`manage.py migrate
--noinput`, `manage.py collectstatic --noinput`), then two web processes started as
deploy/statuspage@.service starts them (`manage.py serve --behind-proxy --port P`, with
the environment of deploy/env.example for loopback: DEBUG=0, PostgreSQL, REDIS_URL,
TRUSTED_PROXIES=1; no TLS on loopback, so SECURE_SSL_REDIRECT=0; no mail), then nginx
with deploy/nginx.conf itself, only its upstream ports, listen port, cache directory and
STATIC_ROOT adapted (bench/common.shipped_nginx), inside a minimal main config (printed).
The worker and the scheduler of statuspage.target are not started: a live push does not
go through them (an update's on-commit hook publishes it, outages/events.py). nginx, the
daphnes and this process (which posts the updates) run on the server core, the swarm on
the other; Redis and PostgreSQL are the machine's own.

A. Storm through nginx: N clients (bench/ws_swarm.py's swarm, processes of at most 5,000)
   start within 3 s with no client-side throttling, each from one of N/500 loopback
   addresses (127.1.0.x, as customers' own addresses: the per-address cap stays at its
   default), and connect to the area's socket through nginx; then M updates are posted
   through outages.services, one transaction each. Printed: connected on the first
   attempt, connected, updates lost for connected clients, p50/p99/max latency from
   commit to receipt, and the clients of each daphne (established connections on its
   port, and the app's own census per process).
B. Rolling restart under load, as docs/scaling.md ("Rolling deploys", which the README
   points to) tells an operator: for each web process in turn, SIGTERM, wait for it to
   exit, start it again the same way, wait for its /readyz, wait 10 s. A client whose
   socket closes reconnects with status.js's rule (random within 6 s x 2^failures, at
   most 60 s) and records the newest update its snapshot shows; after the restarts one
   more update is posted, which every client must receive. Printed: per restart, the
   time from SIGTERM until every client it dropped is back with a current snapshot
   (target <= 30 s), the same from the first SIGTERM for all, reconnect attempts per
   second (the largest share of all clients in one second, target <= 20 %), and the
   final update's receipt.
C. The floor, in the same run: the same nginx config in front of two minimal `websockets`
   broadcast servers (bench/ws_swarm.py's floor) in place of the daphnes, the same swarm
   from the same addresses, M updates of one PUBLISH each (its clock starts at the
   publish). Printed: its connects, losses and latency, and A's p99 over C's (target
   <= 1.5).

Everything runs on loopback and stops by itself; every process and temporary directory is
removed on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, fresh_postgres, nginx_main, pinned, shipped_nginx, wait_http  # noqa: E402
from bench.ws_swarm import (  # noqa: E402
    AREA,
    Swarm,
    bench_incident,
    floor_updates,
    load_average,
    percentile,
    post_marked_update,
    start_floor,
    summarize,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENTS_PER_ADDRESS = 500  # under WEBSOCKETS_PER_ADDRESS (1,000) even with every client on one process
RESTART_TARGET_S = 30
RECONNECT_SHARE_TARGET = 0.20
P99_RATIO_TARGET = 1.5
# The operator's main config (README, "Production"). A websocket is two connections of
# one worker, and a burst of connects lands unevenly (2,936 and 17,088 files in two
# workers): four workers keep each under the file limit (20,000 here).
MAIN_CONFIG = "worker_processes 4;\n"
EVENTS = "worker_connections 19000; accept_mutex on;"


def unit_environment(database_url: str, redis_url: str, site: str) -> dict[str, str]:
    """What the units read from /etc/statuspage/env (deploy/env.example), for loopback;
    of this process's environment only what systemd would give too."""
    shipped = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            shipped[name.strip()] = value.strip()
    shipped.pop("EMAIL_URL", None)  # no mail leaves a benchmark (and none is due: no subscribers)
    shipped.update(
        SECRET_KEY="topology-bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=site,
        SITE_URL=site,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        # Loopback has no TLS (nginx's X-Forwarded-Proto is http): no redirect to https.
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if name in os.environ}
    return {**base, "DJANGO_SETTINGS_MODULE": "statuspage.settings", **shipped}


class Web:
    """One web process as statuspage@PORT.service runs it."""

    def __init__(self, port: int, env: dict[str, str], core: int, logs: Path):
        self.port, self.env, self.core, self.logs = port, env, core, logs
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.logs / f"web-{self.port}.log", "ab") as log:
            self.process = subprocess.Popen(
                [*pinned(self.core), sys.executable, "manage.py", "serve", "--behind-proxy", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> None:
        # docs/scaling.md: until curl -fsS http://127.0.0.1:$port/readyz
        wait_http(f"http://127.0.0.1:{self.port}/readyz", timeout=120)

    def stop(self, timeout: float = 90) -> tuple[float, bool]:
        """SIGTERM, then SIGKILL after `timeout` (systemd's default TimeoutStopSec):
        seconds until it exited, and whether it had to be killed."""
        started = time.monotonic()
        if self.process is None or self.process.poll() is not None:
            return 0.0, False
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            killed = False
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            killed = True
        return time.monotonic() - started, killed

    def established(self) -> int:
        return established(self.port)


def established(port: int) -> int:
    """Connections established on a server's port: nginx's upstream connections to it."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    return len(out.splitlines())


def nginx_workers(master: int) -> list[int]:
    """Open files of each nginx worker (client and upstream connections, mostly)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return sorted(len(os.listdir(f"/proc/{child}/fd")) for child in children)
    except OSError:
        return []


def census_counts() -> list[int]:
    """The app's own census: the bench area's clients per live process (outages/live/census.py)."""
    from django.core.cache import cache

    from outages.live import census, groups

    entries = cache.get_many([census.slot_key(number) for number in range(census.CENSUS_SLOTS)])
    return sorted(
        (entry.get("counts", {}).get(groups.area_group(AREA), 0) for entry in entries.values() if entry), reverse=True
    )


def spread(counts: list[int]) -> float:
    return (max(counts) - min(counts)) / max(counts) if counts and max(counts) else 1.0


def show(title: str, rows: dict) -> None:
    print(f"\n{title}")
    for key, value in rows.items():
        print(f"  {key:34} {value}")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between updates")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds over which the clients start")
    parser.add_argument("--swarm-processes", type=int, default=0, help="default: one per 5,000 clients")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--swarm-core", type=int, default=1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sp_topology_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    args.connect_concurrency = 0  # the storm: no client-side throttling

    def terminated(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, terminated)
    workdir = Path(tempfile.mkdtemp(prefix="topology-"))
    try:
        run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> None:
    import redis

    fresh_postgres(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    listen = free_port()
    site = f"http://127.0.0.1:{listen}"
    env = unit_environment(args.database_url, args.redis_url, site)
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):  # deploy/statuspage-release.service
        subprocess.run([sys.executable, "manage.py", *step, "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings

    incident = bench_incident()
    print(
        f"topology: nginx (deploy/nginx.conf; main config: {MAIN_CONFIG.strip()} events {{ {EVENTS} }}) -> "
        f"2 x manage.py serve --behind-proxy, PostgreSQL, Redis {args.redis_url}; {args.clients} clients started "
        f"within {args.spread} s (no throttling) from {source_addresses(args.clients)} addresses, {args.updates} "
        f"updates; server side on core {args.server_core}, swarm on core {args.swarm_core}; file limit "
        f"{os.sysconf('SC_OPEN_MAX')}; load average {load_average()}"
    )
    os.sched_setaffinity(0, {args.server_core})  # the updates' rendering and publishing: server side

    webs = [Web(free_port(), env, args.server_core, workdir) for _ in range(2)]
    nginx = swarm = None
    try:
        for web in webs:
            web.start()
        for web in webs:
            web.ready()
        http = f"    access_log {workdir}/access.log;\n" + shipped_nginx(
            [web.port for web in webs], f"127.0.0.1:{listen}", workdir / "cache", Path(settings.STATIC_ROOT)
        )
        nginx = start_nginx(args, workdir, http)
        wait_http(f"{site}/readyz")
        swarm, result = measure(args, webs, nginx, site, incident)
    finally:
        stop_front(swarm, nginx, workdir)
        for web in webs:
            web.stop(20)
    result["floor"] = measure_floor(args, workdir / "floor")
    report(args, result)


def start_nginx(args, workdir: Path, http: str) -> subprocess.Popen:
    config = nginx_main(workdir, http, main=MAIN_CONFIG, events=EVENTS)
    return subprocess.Popen(
        [*pinned(args.server_core), NGINX, "-p", str(workdir), "-e", str(workdir / "error.log")]
        + ["-c", str(config), "-g", "daemon off;"]
    )


def stop_front(swarm, nginx: subprocess.Popen | None, workdir: Path) -> None:
    """The swarm, then nginx (the tail of its error log shown), whichever were started."""
    if swarm is not None:
        swarm.stop()
    if nginx is not None:
        stop_nginx(nginx, workdir)


def stop_nginx(nginx: subprocess.Popen, workdir: Path) -> None:
    nginx.terminate()
    nginx.wait(20)
    errors = (workdir / "error.log").read_text().splitlines() if (workdir / "error.log").exists() else []
    if errors:
        print(f"\nnginx error log: {len(errors)} lines, the last: {errors[-3:]}")


def measure_floor(args, workdir: Path) -> dict:
    """C. The floor through the same nginx: two minimal `websockets` broadcast
    servers (bench/ws_swarm.py's) in place of the daphnes, the same swarm from
    the same addresses, each update one PUBLISH (its clock starts there)."""
    workdir.mkdir()
    ports = [free_port() for _ in range(2)]
    channel = f"bench-floor-{ports[0]}"
    listen = free_port()
    site = f"http://127.0.0.1:{listen}"
    servers = [start_floor(port, args.redis_url, channel, args.server_core) for port in ports]
    nginx = swarm = None
    try:
        http = shipped_nginx(ports, f"127.0.0.1:{listen}", workdir / "cache", workdir / "static")
        nginx = start_nginx(args, workdir, http)
        wait_listening(listen)
        swarm = Swarm(
            site.replace("http://", "ws://") + f"/ws/areas/{AREA}/",
            args,
            site,
            extra=("--source-addresses", str(source_addresses(args.clients))),
        )
        time.sleep(5)
        commits = floor_updates(args.redis_url, channel, args.updates, args.interval)
        backends = [established(port) for port in ports]
        return {**swarm.collect(commits, args.clients), "backends": backends}
    finally:
        stop_front(swarm, nginx, workdir)
        for server in servers:
            server.kill()
            server.wait()


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def source_addresses(clients: int) -> int:
    return max(1, min(254, -(-clients // CLIENTS_PER_ADDRESS)))


def measure(args, webs: list[Web], nginx: subprocess.Popen, site: str, incident):
    """Both phases; the swarm and what was measured around it."""
    swarm_args = argparse.Namespace(**{**vars(args), "updates": args.updates + 1})  # phase A's updates + the final
    hold = args.updates * args.interval + 600
    swarm = Swarm(
        site.replace("http://", "ws://") + f"/ws/areas/{AREA}/",
        swarm_args,
        site,
        extra=("--reconnect", "--source-addresses", str(source_addresses(args.clients)), "--hold", str(hold)),
    )
    result: dict = {"load_connected": load_average()}
    try:
        time.sleep(5)  # let the connect burst's buffers settle, as ws_swarm does
        commits: dict[int, float] = {}
        for number in range(args.updates):
            post_marked_update(incident, number, commits)
            time.sleep(args.interval)
        time.sleep(3)
        result["backends_a"] = [web.established() for web in webs]
        result["census_a"] = census_counts()
        result["nginx_workers_a"] = nginx_workers(nginx.pid)
        result["load_a"] = load_average()

        print(f"\nrolling restart (docs/scaling.md), load average {load_average()}")
        stops = []
        for web in webs:
            stops.append(time.time())
            exited, killed = web.stop()
            web.start()
            web.ready()
            print(
                f"  127.0.0.1:{web.port}: exited {exited:.1f} s after SIGTERM{' (SIGKILL)' if killed else ''}, "
                f"started again, /readyz 200 {time.time() - stops[-1]:.1f} s after SIGTERM; "
                f"clients now {[w.established() for w in webs]}",
                flush=True,
            )
            time.sleep(10)  # docs/scaling.md: let its customers come back before the next one leaves
        result["backends_b"] = [web.established() for web in webs]
        result["census_b"] = census_counts()
        post_marked_update(incident, args.updates, commits)
        parts = swarm.finish(120)
        result.update(parts=parts, commits=commits, stops=stops, load_b=load_average())
        return swarm, result
    except BaseException:
        swarm.stop()
        raise


def report(args, result: dict) -> None:
    parts, commits, stops = result["parts"], result["commits"], result["stops"]
    final = args.updates
    phase_b = stops[0]
    # Phase A: only what arrived before the first restart (not from a later snapshot).
    early = [
        {
            **data,
            "received": [{n: at for n, at in r.items() if at < phase_b and int(n) < final} for r in data["received"]],
        }
        for data in parts
    ]
    a = summarize(early, {n: at for n, at in commits.items() if n < final}, args.clients)
    backends = result["backends_a"]
    a_rows = {
        "connected on first attempt": f"{a['connected_first_attempt_pct']}%",
        "connected": f"{a['connected']} of {args.clients} (in {a['connect_seconds']} s)",
        "updates lost (connected clients)": f"{a['lost']} of {a['expected']}",
        "p50 / p99 / max latency": f"{a['p50_ms']} / {a['p99_ms']} / {a['max_ms']} ms",
        "commit to first / last client p50": f"{a['first_client_p50_ms']} / {a['last_client_p50_ms']} ms",
        "clients per daphne (established)": f"{backends} (spread {spread(backends):.1%})",
        "clients per process (app census)": result["census_a"],
        "nginx workers' open files": result["nginx_workers_a"],
        "load average connected / end of A": f"{result['load_connected']} / {result['load_a']}",
    }
    show("A. storm through nginx", a_rows)
    floor = result["floor"]
    show(
        "C. the floor through the same nginx (two `websockets` broadcast servers, same swarm)",
        {
            "connected on first attempt": f"{floor['connected_first_attempt_pct']}%",
            "updates lost (connected clients)": f"{floor['lost']} of {floor['expected']}",
            "p50 / p99 / max latency": f"{floor['p50_ms']} / {floor['p99_ms']} / {floor['max_ms']} ms",
            "publish to first / last client p50": f"{floor['first_client_p50_ms']} / {floor['last_client_p50_ms']} ms",
            "clients per server (established)": floor["backends"],
        },
    )

    records = [record for data in parts for record in data["reconnects"]]
    attempts = sorted(at for data in parts for at in data["attempts_at"])
    windows = [*stops[1:], float("inf")]
    b_rows: dict = {}
    back_ok = True
    for number, (stopped, until) in enumerate(zip(stops, windows, strict=True), start=1):
        dropped = [r for r in records if stopped <= r[1] < until]
        back = [r for r in dropped if r[2]]
        current = [r for r in back if snapshot_current(r, commits)]
        last = max((r[2] for r in current), default=stopped) - stopped
        done = len(current) == len(dropped)
        back_ok &= done and last <= RESTART_TARGET_S
        b_rows[f"restart {number}: clients dropped"] = len(dropped)
        b_rows[f"restart {number}: back / current snapshot"] = f"{len(back)} / {len(current)}"
        b_rows[f"restart {number}: SIGTERM to all back"] = f"{last:.1f} s" + (
            "" if done else f" (NOT all: {len(dropped) - len(current)} missing or stale)"
        )
        if back:
            waits = [r[2] - r[1] for r in back]
            b_rows[f"restart {number}: close to back p50/max"] = (
                f"{percentile(waits, 50):.1f} / {max(waits):.1f} s, failed attempts {sum(r[3] for r in back)}"
            )
    before = [r for r in records if r[1] < phase_b]
    all_back = max((r[2] for r in records if r[2]), default=phase_b) - phase_b
    b_rows["closed before the restarts"] = len(before)
    b_rows["first SIGTERM to all back"] = f"{all_back:.1f} s"
    histogram = per_second(attempts, phase_b)
    opened = per_second(sorted(r[2] for r in records if r[2]), phase_b)
    worst = max(histogram.values(), default=0)
    b_rows["reconnect attempts, most in 1 s"] = f"{worst} = {worst / args.clients:.1%} of all clients"
    b_rows["reconnects opened, most in 1 s"] = f"{max(opened.values(), default=0)}"
    got_final = [r for data in parts for r in data["received"] if str(final) in r]
    connected = a["connected"]
    latencies = [r[str(final)] - commits[final] for r in got_final] if final in commits else []
    b_rows["final update received"] = f"{len(got_final)} of {connected} connected clients"
    if latencies:
        b_rows["final update p50 / p99 / max"] = (
            f"{1000 * percentile(latencies, 50):.1f} / {1000 * percentile(latencies, 99):.1f} / "
            f"{1000 * max(latencies):.1f} ms"
        )
    b_rows["clients per daphne after restarts"] = f"{result['backends_b']} (census {result['census_b']})"
    b_rows["load average at the end"] = result["load_b"]
    show("B. rolling restart under load", b_rows)
    print("\n  reconnect attempts (opened) per second from the first SIGTERM:")
    for second in range(min(histogram, default=0), max(histogram, default=-1) + 1):
        count = histogram.get(second, 0)
        if count or opened.get(second):
            share = count / args.clients
            print(f"    {second:4d} s {count:6d} ({opened.get(second, 0):6d})  {share:6.1%}  {'#' * round(50 * share)}")

    print()
    first_ok = a["connected_first_attempt_pct"] >= 99.5
    print(f"spread over the two daphnes: {spread(backends):.1%} (target <= 10%): {verdict(spread(backends) <= 0.10)}")
    print(f"connected on first attempt: {a['connected_first_attempt_pct']}% (target >= 99.5%): {verdict(first_ok)}")
    print(f"lost updates (connected clients): {a['lost']} (target 0): {verdict(a['lost'] == 0)}")
    ratio = a["p99_ms"] / floor["p99_ms"]
    print(
        f"p99 ours / floor through nginx: {ratio:.2f} (target <= {P99_RATIO_TARGET}): {verdict(ratio <= P99_RATIO_TARGET)}"
    )
    print(f"every client back with a current snapshot within {RESTART_TARGET_S} s of each SIGTERM: {verdict(back_ok)}")
    print(
        f"most reconnect attempts in one second: {worst / args.clients:.1%} of all clients "
        f"(target <= {RECONNECT_SHARE_TARGET:.0%}): {verdict(worst / args.clients <= RECONNECT_SHARE_TARGET)}"
    )
    print(
        f"final update after the restarts: {len(got_final)} of {connected} (target all): "
        f"{verdict(len(got_final) == connected)}"
    )


def snapshot_current(record: list, commits: dict[int, float]) -> bool:
    """The reconnect's snapshot shows the newest update committed (a second) before it opened."""
    due = max((n for n, at in commits.items() if at < record[2] - 1), default=-1)
    return record[4] is not None and record[4] >= due


def per_second(times: list[float], start: float) -> dict[int, int]:
    """How many of `times` fall in each second from `start` (before it: negative seconds)."""
    return dict(Counter(math.floor(at - start) for at in times))


if __name__ == "__main__":
    main()
