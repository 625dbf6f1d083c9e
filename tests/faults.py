"""Helpers for fault tests: a private Redis to kill, a swarm of live clients
run on an event loop in a background thread (so the test body stays
synchronous and can call the services and the ORM directly)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time

from .conftest import free_port, missing
from .livecheck import LiveClient


class PrivateRedis:
    """A redis-server of our own on a free port: killed and restarted by the
    test, never the machine's Redis."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Swarm:
    """Live clients on their own event loop thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients: list[LiveClient] = []

    def call(self, function, timeout: float = 60):
        """Run function() on the swarm's loop (so it sees a consistent state) and return its result."""

        async def run():
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def add(self, url: str, origin: str, count: int, **kwargs) -> list[LiveClient]:
        async def start():
            return [LiveClient(url, origin, **kwargs).start() for _ in range(count)]

        clients = asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)
        self.clients.extend(clients)
        return clients

    def wait_connected(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.call(lambda: all(c.connected.is_set() for c in self.clients)):
            if time.monotonic() > deadline:
                down = self.call(lambda: sum(not c.connected.is_set() for c in self.clients))
                raise AssertionError(f"{down} of {len(self.clients)} clients never connected")
            time.sleep(0.1)

    def wait_until(self, predicate, timeout: float, step: float = 0.1) -> float | None:
        """Seconds until predicate(client) holds for every client (checked on the loop), or None."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.call(lambda: all(predicate(c) for c in self.clients)):
                return time.monotonic() - start
            time.sleep(step)
        return None

    def count(self, predicate) -> int:
        return self.call(lambda: sum(1 for c in self.clients if predicate(c)))

    def close(self) -> None:
        async def stop():
            await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
