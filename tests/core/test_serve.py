"""The web process starts one way: `manage.py serve`, with a storm's settings."""

import re
import subprocess
import sys

from websockets.sync.client import connect

from tests.conftest import ROOT, free_port, server_env, wait_for_http


def printed_command(**env) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", "serve", "--port", "8123", "--print"],
        cwd=ROOT,
        env=server_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_serve_listens_with_a_deep_backlog_and_storm_timeouts():
    command = printed_command()
    assert "-m outages.live.server -e tcp:port=8123:interface=127.0.0.1:backlog=4096" in command
    assert "--websocket_connect_timeout 30" in command
    assert "--ping-interval 60" in command
    assert "--proxy-headers" not in command
    assert command.endswith("statuspage.asgi:application")


def test_serve_settings_come_from_the_environment():
    command = printed_command(WEB_LISTEN_BACKLOG="1024", WEB_PING_INTERVAL="45", WEB_BEHIND_PROXY="1")
    assert "backlog=1024" in command
    assert "--ping-interval 45" in command
    # Behind the proxy: the app counts one trusted proxy; daphne's --proxy-headers
    # (the leftmost, client-written entry) is never used (tests/core/test_client_address.py).
    assert command.startswith("TRUSTED_PROXIES=1 ") and "--proxy-headers" not in command


def test_make_run_the_deploy_unit_and_the_benchmarks_start_the_same_command():
    assert "manage.py serve --port $(PORT)" in (ROOT / "Makefile").read_text()
    unit = (ROOT / "deploy" / "statuspage@.service").read_text()
    assert re.search(r"^ExecStart=\S+python manage.py serve --behind-proxy --port %i$", unit, re.M)
    for bench in (ROOT / "bench").glob("*.py"):
        source = bench.read_text()
        assert '"-m", "daphne"' not in source, f"{bench.name} starts daphne another way"


def test_served_process_answers_pages_and_websockets(db):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/healthz")
        with connect(f"ws://127.0.0.1:{port}/ws/status/", origin=url, open_timeout=20) as socket:
            assert 'id="banner"' in socket.recv(timeout=20)
    finally:
        process.terminate()
        process.wait(timeout=20)
