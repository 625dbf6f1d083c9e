"""A web process leaving (SIGTERM, a rolling restart) stops listening at once,
then closes its websockets a share at a time with 1012 "service restart", so
its customers come back to the other processes spread out, not all in one
moment; then it exits. A second signal stops it at once."""

from __future__ import annotations

import asyncio
import gc
import signal
import socket
import subprocess
import time

import pytest
import websockets

from outages.live.server import TICK, UNSPREAD_RATE, freeze_start_up, shares
from tests.conftest import served, server_env

SERVICE_RESTART = 1012


def test_shares_spread_a_crowd_and_close_a_handful_at_once():
    assert shares(10_000, 10) == 100  # 1,000 a second for 10 s
    assert shares(5_000, 10) == 50
    assert shares(10, 10) == 10  # fewer than a tick's floor: all in the first tick
    assert shares(300, 0) == 300
    assert shares(0, 10) == 0
    assert shares(1_000, 10) == UNSPREAD_RATE * TICK  # never slower than the floor rate


def test_what_start_up_loaded_is_left_out_of_every_full_collection():
    """The server freezes it before it listens: a full collection under
    thousands of sockets then walks only what came after start-up."""
    try:
        freeze_start_up()
        from outages.views import public

        assert gc.get_freeze_count() > 10_000
        tracked = {id(obj) for obj in gc.get_objects()}
        # Loaded through the URL map before the freeze, so frozen with it.
        assert id(public.home) not in tracked and id(public.__dict__) not in tracked
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def serve(**env) -> tuple[subprocess.Popen, int]:
    return served(server_env(WEBSOCKETS_PER_ADDRESS=0, **env))


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


async def open_sockets(port: int, count: int) -> list:
    url = f"ws://127.0.0.1:{port}/ws/status/"
    sockets = []
    for _ in range(count):
        ws = await websockets.connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=30)
        await ws.recv()  # the snapshot: the consumer is in its group
        sockets.append(ws)
    return sockets


async def closes(sockets: list) -> list[tuple[float, int | None]]:
    """When each socket closed and with which code the server sent."""

    async def one(ws):
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        return time.monotonic(), ws.close_code

    return await asyncio.gather(*(one(ws) for ws in sockets))


def stop_under_sockets(count: int, drain_seconds: int, second_signal: bool = False):
    """A served process holding `count` sockets gets SIGTERM (and a second one
    0.3 s later if asked): whether it refused connects 0.3 s after the first,
    each socket's close (seconds after the signal, code), its exit code and
    seconds to exit."""
    process, port = serve(WEB_DRAIN_SECONDS=drain_seconds)

    async def scenario():
        sockets = await open_sockets(port, count)
        watching = asyncio.ensure_future(closes(sockets))
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        if second_signal:
            process.send_signal(signal.SIGTERM)
        stopped_listening = await asyncio.to_thread(refused, port)
        closed = await asyncio.wait_for(watching, 30)
        return signalled, stopped_listening, closed

    try:
        signalled, stopped_listening, closed = asyncio.run(scenario())
        exit_code = process.wait(timeout=30)
        exited = time.monotonic() - signalled
    finally:
        process.kill()
    return stopped_listening, sorted((at - signalled, code) for at, code in closed), exit_code, exited


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_listening_then_closes_sockets_spread_then_exits():
    count = 400  # 20 a tick at the floor rate, over 2 s: 20 ticks
    stopped_listening, closed, exit_code, exited = stop_under_sockets(count, drain_seconds=2)
    assert stopped_listening, "a leaving process must refuse new connects at once"
    assert [code for _, code in closed] == [SERVICE_RESTART] * count
    moments = [at for at, _ in closed]
    assert moments[0] < 1
    # Spread over the drain, not all at once: nominally a quarter in the first half second.
    assert 1.2 < moments[-1] < 10, moments[-1]
    assert sum(1 for at in moments if at < 0.5) < count / 2
    assert exit_code == 0
    assert exited < moments[-1] + 5


@pytest.mark.django_db(transaction=True)
def test_a_second_signal_stops_at_once():
    count = 800  # at the floor rate of 200 a second: 4 s to drain
    _, closed, _, exited = stop_under_sockets(count, drain_seconds=60, second_signal=True)
    restarted = [code for _, code in closed if code == SERVICE_RESTART]
    assert 0 < len(restarted) < count / 2, len(restarted)
    assert exited < 3, exited
