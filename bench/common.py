"""Helpers the benchmarks share: loopback ports, waiting for a server, a fresh
database and the environment a benchmark's server runs with, pinning to a
core, percentiles, the shipped nginx configuration adapted to a run."""

import os
import re
import shutil
import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    """Until the URL answers 200, or RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def fresh_postgres(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit("the PostgreSQL database name must end in _bench (it is dropped)")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def server_environment(tmp_dir: str, **extra: str) -> dict[str, str]:
    """Production settings on loopback for a benchmark's server and the setup in
    this process: a fresh database ($DATABASE_URL, else SQLite in tmp_dir), the
    embedded layer (no Redis), quiet logs; `extra` adds what the benchmark needs."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_dir}/bench.sqlite3"
    if database_url.startswith("postgres"):
        fresh_postgres(database_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("REDIS_URL", None)
    return env


def pinned(core: int | None) -> list[str]:
    """The command prefix that runs a process on one core (nothing without taskset)."""
    return ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []


def other_cores(core: int) -> None:
    """This process and what it starts from now on: every core but `core` (if there is another)."""
    rest = os.sched_getaffinity(0) - {core}
    if rest:
        os.sched_setaffinity(0, rest)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else 0.0


def shipped_nginx(upstream_ports: list[int], listen: str, cache_dir: Path, static_root: Path) -> str:
    """deploy/nginx.conf, the http-level file an operator installs, with this run's
    daphne ports in the upstream, `listen` for `listen 80`, the cache directory and
    STATIC_ROOT; nothing else changed."""
    shipped = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"\n    server 127.0.0.1:{port} max_fails=0;" for port in upstream_ports)
    for pattern, replacement in (
        (r"/var/cache/nginx/statuspage\b", str(cache_dir)),
        (r"/srv/statuspage/staticfiles/", f"{static_root}/"),
        (r"(\s*server 127\.0\.0\.1:\d+ max_fails=0;)+", servers),
        (r"listen 80;", f"listen {listen};"),
    ):
        shipped, found = re.subn(pattern, lambda _match, text=replacement: text, shipped)
        if not found:
            raise RuntimeError(f"deploy/nginx.conf no longer has {pattern!r}: adapt bench/common.shipped_nginx")
    return shipped


def nginx_main(workdir: Path, http: str, *, main: str = "", events: str = "worker_connections 4096;") -> Path:
    """A minimal main nginx.conf around http-level text (`main` and `events` add
    their directives), its pid, error log and temporary files in `workdir`."""
    for sub in ("cache", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = f"""{user}{main}pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ {events} }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
{http}
}}
"""
    path = workdir / "nginx.conf"
    path.write_text(config)
    return path
