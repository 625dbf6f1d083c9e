"""Shared fixtures: real services, started or found, never mocked.

Outside CI a missing service skips the tests that need it; in CI (CI=true)
it fails them, so nothing silently stops being tested.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# axe-core for the accessibility checks (`make test-tools` installs it from npm).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def compile_translations() -> None:
    """The .mo files are built, not committed (make does it; so does a bare
    `pytest`): compile any catalogue newer than its .mo with GNU msgfmt."""
    msgfmt = shutil.which("msgfmt")
    for po in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if msgfmt is None:
            pytest.exit("msgfmt is needed to compile translations (apt-get install gettext)", returncode=1)
        subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)


def pytest_configure(config):
    compile_translations()


def missing(reason: str):
    """Skip locally, fail in CI: a test that needs a real service must run there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up in {timeout}s")
        time.sleep(0.1)


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        missing(f"Redis not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path, monkeypatch):
    """Headless Debian Chromium driven by Playwright, no downloaded browser."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own
    # ORM calls are still synchronous, so Django may allow them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # Connections the test opened while Playwright's loop ran belong to
        # that context; close them so the test database can be dropped.
        from django.db import connections

        connections.close_all()


def database_url_for_subprocess() -> str:
    """The URL of the database the tests are using, for a server subprocess."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Server:
    """A real daphne process serving the app against the test database."""

    def __init__(self, port: int, env: dict, daphne_args=()):
        self.port = port
        self.env = env
        self.daphne_args = list(daphne_args)
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        # The server's log goes to a file: a pipe nobody reads fills up and
        # blocks a server that logs a lot (Redis down, say).
        self.log_file = tempfile.NamedTemporaryFile(prefix=f"daphne-{port}-", suffix=".log", delete=False)

    def log(self) -> str:
        return Path(self.log_file.name).read_text(errors="replace")

    def start(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                *self.daphne_args,
                "statuspage.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_file,
        )
        try:
            wait_for_http(self.url + "/healthz")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        self.stop()
        return self.start()


def server_env(**extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DATABASE_URL": database_url_for_subprocess(),
        "DEBUG": "1",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("REDIS_URL", None)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def served(env: dict) -> tuple[subprocess.Popen, int]:
    """`manage.py serve` as `make run` starts it, on a free port, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    except RuntimeError:
        process.kill()
        raise
    return process, port


def create_server_operator(username="ops", password="pw-for-tests"):
    """A superuser whose password a server process (production hashers) can check."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user = get_user_model().objects.create_superuser(username, f"{username}@example.com")
    user.password = make_password(password, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def make_server(transactional_db):
    """Start daphne processes on the test database; each is stopped after the test."""
    servers = []

    def make(daphne_args=(), **env):
        server = Server(free_port(), server_env(**env), daphne_args).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        server.log_file.close()
        Path(server.log_file.name).unlink(missing_ok=True)


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters, sign-in throttles, cached pages and the live census
    live in the cache (local memory, or Redis): every test starts and ends with it empty."""
    from django.core.cache import cache

    from outages.live import wake

    cache.clear()
    yield
    cache.clear()
    # The census this process wrote beside an SQLite file (outages/live/wake.py) goes too.
    wake.remove_census()


@pytest.fixture(autouse=True)
def page_cache(request, settings):
    """The cache of public responses (outages/live/pagecache.py), off in-process
    unless a test is marked `page_cache`: inside a test's transaction the
    writes' on_commit hooks (which bump the status version) never run, so a
    page cached before a write would hide it. Servers started with
    make_server always run with it, as in production."""
    from django.core.cache import cache

    from outages.live import pagecache

    if request.node.get_closest_marker("page_cache") is None:
        settings.PAGE_CACHE_SECONDS = 0
        yield
        return
    cache.clear()
    pagecache.forget()
    yield
    cache.clear()
    pagecache.forget()


def axe_source() -> str:
    """axe-core's script; missing: a skip locally, a failure in CI."""
    if not AXE.exists():
        missing(f"{AXE} missing: run `make test-tools` (npm ci)")
    return AXE.read_text()
