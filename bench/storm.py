"""Storm: the page stays fast when everyone opens it at once.

One run, loopback only, about two minutes. The server (daphne, and nginx
when it is in front) is pinned to core 0, the load generator (wrk) to core 1:

1. origin (one daphne): a bare Django view with no middleware (the
   framework's ceiling: bench/bare_settings.py, started by the same
   `manage.py serve`), `/healthz` through the whole middleware, then `/`, an
   area page and `/api/v2/summary.json`, cached and uncached (a second daphne
   with PAGE_CACHE_SECONDS=0): requests/s, p50, p99, errors, load average;
2. the same pages through the shipped nginx configuration (deploy/nginx.conf,
   paths and ports adapted) against nginx serving a static file of the same
   size; how often the origin was asked for each URL; a change made with
   `manage.py incident open` showing on reload through nginx;
3. the large-data figures (bench/bigdata.py: queries and ms per uncached render).

Needs: Debian `nginx` and `wrk` (apt-get install -y nginx wrk), `taskset`.
PostgreSQL and Redis (the production shape) unless --embedded:

    .venv/bin/python bench/storm.py [--seconds 5] [--connections 32] [--embedded] [--skip-bigdata] [--origin-only]

Databases (recreated for the page runs, reused for the large data):
STORM_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/sp_cache_storm),
BIGDATA_DATABASE_URL (default .../sp_cache_bench), STORM_REDIS_URL
(default redis://127.0.0.1:6379/10).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import free_port, nginx_main, shipped_nginx, wait_http  # noqa: E402

PY = sys.executable
SERVER_CORE, LOAD_CORE = "0", "1"


def log(text: str) -> None:
    print(text, flush=True)


def fetch(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Daphne:
    def __init__(self, env: dict, health: str = "/healthz", **extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, PY, "manage.py", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env={**env, **{k: str(v) for k, v in extra.items()}},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(self.url + health)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            LOAD_CORE,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "5s",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    if "Requests/sec" not in out:
        raise RuntimeError(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match[1])
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(n) for n in match.groups())
    requests = int(re.search(r"(\d+) requests in", out)[1])
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": errors, "requests": requests}


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def row(label: str, result: dict, extra: str = "") -> None:
    log(
        f"  {label:<44} {result['rps']:>9,.0f} req/s  p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms  "
        f"errors {result['errors']}{extra}"
    )


def recreate_postgres(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def nginx_config(workdir: Path, origin_port: int, listen: int, static_listen: int, static_dir: Path) -> Path:
    """The shipped deploy/nginx.conf with this run's paths and ports, inside a minimal main config."""
    shipped = shipped_nginx(
        [origin_port], f"127.0.0.1:{listen} reuseport backlog=4096", workdir / "cache", ROOT / "staticfiles"
    )
    http = f"""    # Origin requests only (a cache hit has no upstream): counted per URL.
    log_format origin "$request_uri";
    map $upstream_addr $went_to_origin {{ "" 0; default 1; }}
    access_log {workdir}/origin.log origin if=$went_to_origin;
    keepalive_requests 100000;
    log_subrequest on;  # background cache updates count as origin requests too
{shipped}
    server {{
        listen 127.0.0.1:{static_listen} reuseport backlog=4096;
        location / {{ root {static_dir}; default_type text/html; }}
    }}"""
    return nginx_main(workdir, http, main="worker_processes 1;\nworker_cpu_affinity 1;\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="Storm benchmark (see the module docstring).")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--embedded", action="store_true", help="SQLite and local-memory cache instead of PostgreSQL and Redis"
    )
    parser.add_argument("--skip-bigdata", action="store_true")
    parser.add_argument("--origin-only", action="store_true", help="part 1 only (origin, cached and uncached)")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is missing: apt-get install -y nginx wrk")
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    workdir = Path(tempfile.mkdtemp(prefix="storm-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "0",
        "SECRET_KEY": "storm-benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    if args.embedded:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'storm.sqlite3'}"
        env.pop("REDIS_URL", None)
    else:
        env["DATABASE_URL"] = os.environ.get("STORM_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sp_cache_storm")
        env["REDIS_URL"] = os.environ.get("STORM_REDIS_URL", "redis://127.0.0.1:6379/10")
        recreate_postgres(env["DATABASE_URL"])
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    log(
        f"setup: {'SQLite + local memory' if args.embedded else 'PostgreSQL + Redis'}; server on core {SERVER_CORE}, "
        f"wrk on core {LOAD_CORE}; {args.connections} connections, {args.seconds} s per run"
    )
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)

    origin = Daphne(env)
    nginx = None
    try:
        area = json.loads(fetch(origin.url + "/api/areas/")[1])["areas"][0]["slug"]
        pages = ["/", f"/areas/{area}/", "/api/v2/summary.json"]
        sizes = {page: len(fetch(origin.url + page)[1]) for page in pages}
        seconds, conns = args.seconds, args.connections

        log(f"\n1. origin: one daphne process (core 0); load average {load_average()}")
        bare = Daphne({**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"}, health="/bare")
        ceiling = wrk(bare.url + "/bare", seconds, conns)
        bare.stop()
        row("bare view, no middleware (ceiling)", ceiling)
        healthz = wrk(origin.url + "/healthz", seconds, conns)
        row("/healthz, full middleware", healthz, f"  ({healthz['rps'] / ceiling['rps']:.0%} of ceiling)")
        cached = {}
        for page in pages:
            fetch(origin.url + page)
            cached[page] = wrk(origin.url + page, seconds, conns)
            row(
                f"cached   {page}",
                cached[page],
                f"  ({cached[page]['rps'] / ceiling['rps']:.0%} of ceiling, {sizes[page]:,} B, load {load_average()})",
            )
        origin.stop()
        uncached_origin = Daphne(env, PAGE_CACHE_SECONDS=0)
        for page in pages:
            result = wrk(uncached_origin.url + page, seconds, conns)
            row(f"uncached {page}", result)
        uncached_origin.stop()
        if args.origin_only:
            return

        log("\n2. through the shipped nginx configuration (nginx and daphne on core 0)")
        origin = Daphne(env)
        static_dir = workdir / "static"
        static_dir.mkdir()
        for n, page in enumerate(pages):
            (static_dir / f"page{n}.html").write_bytes(b"x" * sizes[page])
        listen, static_listen = free_port(), free_port()
        config = nginx_config(workdir, origin.port, listen, static_listen, static_dir)
        nginx = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, nginx_bin, "-p", str(workdir), "-c", str(config), "-g", "daemon off;"]
        )
        proxy = f"http://127.0.0.1:{listen}"
        wait_http(proxy + "/healthz")
        for n, page in enumerate(pages):
            static = wrk(f"http://127.0.0.1:{static_listen}/page{n}.html", seconds, conns)
            row(f"static file, {sizes[page]:,} B", static)
            origin_log = workdir / "origin.log"
            before = origin_log.read_text().count(page + "\n") if origin_log.exists() else 0
            through = wrk(proxy + page, seconds, conns)
            time.sleep(0.2)
            asked = origin_log.read_text().count(page + "\n") - before
            row(
                f"nginx    {page}",
                through,
                f"  ({through['rps'] / static['rps']:.0%} of static; origin asked {asked}x in {seconds} s "
                f"= {asked / seconds:.1f}/s)",
            )

        log("\n3. a change through nginx")
        title = f"Storm check {int(time.time())}"
        started = time.monotonic()
        subprocess.run(
            [PY, "manage.py", "incident", "open", "--title", title, "--areas", area, "--impact", "major"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        committed = time.monotonic()
        while title.encode() not in fetch(proxy + f"/areas/{area}/")[1]:
            if time.monotonic() - committed > 10:
                log("  the change did NOT show within 10 s")
                break
            time.sleep(0.05)
        else:
            log(
                f"  shown on reload through nginx {time.monotonic() - committed:.2f} s after the command returned "
                f"(command took {committed - started:.1f} s)"
            )
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        origin.stop()

    if not args.skip_bigdata:
        log("\n4. large data (bench/bigdata.py)")
        big_env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("BIGDATA_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sp_cache_bench"),
        }
        big_env.pop("REDIS_URL", None)
        out = subprocess.run(
            ["taskset", "-c", SERVER_CORE, PY, "bench/bigdata.py"],
            cwd=ROOT,
            env=big_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            if line.startswith(("data:", "uncached")):
                log("  " + line)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
