"""Helpers the benchmarks share: loopback ports, waiting for a server, a fresh
database and the environment a benchmark's server runs with, pinning to a
core, percentiles."""

import os
import shutil
import socket
import time
import urllib.request
from urllib.parse import urlparse


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
