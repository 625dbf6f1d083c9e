"""On the embedded default (SQLite, no channel layer between processes) a change
made in another process than the server (`manage.py incident update`, the
worker, the scheduler) reaches the server's customers at once: the publisher
wakes the server's outbox poll with a datagram, instead of leaving it to the
poll's interval."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from outages.live import wake
from tests.conftest import ROOT, served, server_env


def sqlite_env(tmp_path, **extra) -> dict:
    """A server's environment on its own SQLite file (whatever database the suite runs on)."""
    return server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}", **extra)


def manage(env: dict, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def with_riverside(env: dict) -> None:
    """The server's database migrated, with one area (riverside) in one region."""
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        "from outages.models import Region, ServiceArea; "
        "ServiceArea.objects.create(slug='riverside', name='Riverside', "
        "region=Region.objects.create(slug='north', name='North'))",
    )


def test_a_command_in_another_process_reaches_the_server_at_once(tmp_path):
    # The poll alone would take 30 s: only the wake-up can bring it sooner.
    env = sqlite_env(tmp_path, LIVE_OUTBOX_POLL_SECONDS=30)
    with_riverside(env)
    server, port = served(env)
    try:
        url = f"http://127.0.0.1:{port}"
        with connect(f"ws://127.0.0.1:{port}/ws/areas/riverside/", origin=url, open_timeout=30) as ws:
            assert "Riverside" in ws.recv(timeout=30)  # the snapshot; the relay listens now
            assert list((tmp_path / "site.sqlite3.wake").glob("*.sock")), "the server listens for wake-ups"
            started = time.monotonic()
            manage(env, "incident", "open", "--title", "Substation fault", "--areas", "riverside")
            pushed = ws.recv(timeout=15)
            after_command = time.monotonic() - started
        assert "Substation fault" in pushed
        assert after_command < 15  # the command's own start-up included; the poll would be 30 s
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not list((tmp_path / "site.sqlite3.wake").glob("*.sock")), "a stopped server leaves no socket"


@pytest.fixture
def wake_dir(tmp_path, monkeypatch):
    where = tmp_path / "site.sqlite3.wake"
    monkeypatch.setattr(wake, "directory", lambda: where)
    return where


@pytest.mark.django_db
def test_the_directory_sits_beside_the_sqlite_file_and_only_there():
    from django.db import connection

    if connection.vendor == "sqlite":
        assert wake.directory() == Path(f"{connection.settings_dict['NAME']}.wake")
    else:
        assert wake.directory() is None


def test_everyone_wakes_each_listener_and_removes_a_dead_one(wake_dir):
    listener = wake.listen()
    assert listener is not None
    assert oct(wake_dir.stat().st_mode & 0o777) == "0o700"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(wake_dir / "999999.sock"))
    dead.close()  # its file stays, nobody reads it: a process that died
    try:
        wake.everyone()
        listener.settimeout(5)
        assert listener.recv(16) == b""
        assert not (wake_dir / "999999.sock").exists()
    finally:
        wake.close(listener)
    assert not (wake_dir / f"{os.getpid()}.sock").exists()
    wake.everyone()  # nobody listening: nothing to do, nothing raised


def test_a_path_too_long_for_a_socket_leaves_the_poll_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(wake, "directory", lambda: tmp_path / ("d" * 120))
    assert wake.listen() is None
    wake.everyone()  # no directory: nothing raised
