"""The client's address comes from the proxies we run, never from the client:
one helper (outages.client_address, TRUSTED_PROXIES) for report sources,
rate limits, the sign-in throttle and the subscribe limit, with IPv6 grouped
by /64 everywhere; and the shipped nginx + daphne, driven with spoofed
X-Forwarded-For headers, give one client one address."""

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from outages import client_address
from outages.models import Problem, ProblemReport, Subscriber
from tests import factories
from tests.conftest import ROOT, free_port, missing, server_env, wait_for_http

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


# The helper -------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_never_read():
    assert client_address.choose("203.0.113.5", "198.51.100.1, 127.0.0.1", 0) == "203.0.113.5"


def test_with_trusted_proxies_the_address_is_the_one_our_outermost_proxy_saw():
    # nginx set the header to the address it saw: one entry.
    assert client_address.choose("127.0.0.1", "203.0.113.5", 1) == "203.0.113.5"
    # A proxy that appends: what the client wrote sits to the left and is ignored.
    assert client_address.choose("127.0.0.1", "198.51.100.9, 203.0.113.5", 1) == "203.0.113.5"
    assert client_address.choose("10.0.0.2", "198.51.100.9, 203.0.113.5, 10.0.0.1", 2) == "203.0.113.5"
    # Garbage in the header: the connection's address.
    assert client_address.choose("127.0.0.1", "not-an-address", 1) == "127.0.0.1"
    assert client_address.choose("", None, 0) == "unknown"


def test_ipv6_addresses_are_grouped_by_64_and_mapped_ipv4_is_ipv4():
    assert client_address.network("2001:db8:1:2:aaaa::1") == client_address.network("2001:db8:1:2:ffff::9")
    assert client_address.network("2001:db8:1:2::1") != client_address.network("2001:db8:1:3::1")
    assert client_address.network("::ffff:192.0.2.1") == "192.0.2.1"


def test_a_websocket_scope_gives_the_same_address():
    scope = {"client": ("127.0.0.1", 5555), "headers": [(b"x-forwarded-for", b"203.0.113.5")]}
    assert client_address.of_scope(scope) == "127.0.0.1"
    from django.test import override_settings

    with override_settings(TRUSTED_PROXIES=1):
        assert client_address.of_scope(scope) == "203.0.113.5"


# Its callers ------------------------------------------------------------------


def _report(client, area, service, forwarded, address="203.0.113.5"):
    return client.post(
        f"/areas/{area.slug}/report/",
        {"service": service.pk, "problem": Problem.NO_SERVICE, "postcode": ""},
        headers={"X-Forwarded-For": forwarded, "User-Agent": f"agent {forwarded}"},
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize("trusted", [0, 1])
def test_rotating_x_forwarded_for_is_one_report_source(settings, trusted):
    settings.TRUSTED_PROXIES = trusted
    area, service = factories.area(), factories.service()
    client = Client()
    # With one trusted proxy the proxy set the last entry: the client "is" 203.0.113.5 there.
    statuses = [_report(client, area, service, f"198.51.100.{n}, 203.0.113.5").status_code for n in range(7)]
    assert statuses[:5] == [302] * 5 and statuses[5:] == [429, 429]
    assert ProblemReport.objects.values("client").distinct().count() == 1


def test_the_subscribe_limit_counts_an_ipv6_64_and_ignores_the_header(settings):
    settings.SUBSCRIBE_LIMIT_PER_IP = 2
    area = factories.area()

    def subscribe(email, address, forwarded="198.51.100.1"):
        data = {"channel": "email", "areas": [area.slug], "language": "en", "email": email}
        return Client().post("/subscribe/", data, headers={"X-Forwarded-For": forwarded}, REMOTE_ADDR=address)

    assert subscribe("a@example.com", "2001:db8:5:6::1").status_code == 200
    assert subscribe("b@example.com", "2001:db8:5:6:ffff::2", forwarded="198.51.100.2").status_code == 200
    assert subscribe("c@example.com", "2001:db8:5:6:1234::3", forwarded="198.51.100.3").status_code == 429
    assert subscribe("c@example.com", "2001:db8:5:7::1").status_code == 200
    assert Subscriber.objects.count() == 3


def _sign_in(username, password, address, forwarded="198.51.100.1"):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded},
        REMOTE_ADDR=address,
    )
    return response


def test_an_attacker_cannot_lock_a_known_user_out(settings, django_user_model):
    """Throttled per username *from one address* and per address: only the attacking
    address is paused; the owner signs in from their own."""
    django_user_model.objects.create_superuser("ops", "ops@example.com", "right-horse-battery")
    for n in range(settings.LOGIN_FAILURES_PER_USERNAME + 3):
        _sign_in("ops", "guess", "203.0.113.66", forwarded=f"198.51.100.{n}")
    paused = _sign_in("ops", "right-horse-battery", "203.0.113.66", forwarded="198.51.100.200")
    assert "Too many failed sign-in attempts" in paused.text
    # The same /64 of IPv6 counts as one address as well.
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        _sign_in("ops", "guess", "2001:db8:9:9::1")
    assert "Too many failed" in _sign_in("ops", "right-horse-battery", "2001:db8:9:9:abcd::2").text
    assert _sign_in("ops", "right-horse-battery", "192.0.2.44").status_code == 302


# Through the shipped nginx -------------------------------------------------------


def _shipped_web_command(port: int) -> list[str]:
    """The deploy unit's ExecStart (manage.py serve ...), from this checkout, on `port`."""
    unit = (ROOT / "deploy" / "statuspage@.service").read_text()
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1))
    assert command[1] == "manage.py", command
    return [sys.executable, *[str(port) if word == "%i" else word for word in command[1:]]]


def _shipped_env() -> dict:
    lines = (ROOT / "deploy" / "env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {"TRUSTED_PROXIES": values.get("TRUSTED_PROXIES", "0")}


def nginx_config(work: Path, port: int, upstream_port: int) -> str:
    """deploy/nginx.conf as shipped, with its paths and ports pointed at this test."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("/var/cache/nginx/statuspage", str(work / "cache"))
    site = site.replace("/srv/statuspage/staticfiles/", str(ROOT / "static") + "/")
    site = re.sub(
        r"(upstream statuspage \{)(.*?)(keepalive)",
        lambda m: f"{m.group(1)}\n    server 127.0.0.1:{upstream_port} max_fails=0;\n    {m.group(3)}",
        site,
        flags=re.S,
    )
    assert "listen 80;" in site and "proxy_set_header X-Forwarded-For" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = "\n".join(
        f"    {name}_temp_path {work / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {work / 'nginx.pid'};\nerror_log {work / 'error.log'} warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temp}\n{site}\n}}\n"
    )


@pytest.fixture
def nginx_in_front(transactional_db, request):
    """The shipped nginx in front of the web process started as the deploy unit starts it
    (indirect parameter: more settings for the web process's environment)."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        missing("nginx is not installed (apt-get install nginx)")
    web_port, port = free_port(), free_port()
    web = subprocess.Popen(
        _shipped_web_command(web_port),
        cwd=ROOT,
        env=server_env(**_shipped_env(), **getattr(request, "param", {})),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    (work / "nginx.conf").write_text(nginx_config(work, port, web_port))
    process = subprocess.Popen(
        [binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"http://127.0.0.1:{web_port}/healthz")
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {process.stderr.read().decode(errors='replace')}")
                time.sleep(0.1)
        yield url
    finally:
        for child in (process, web):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        shutil.rmtree(work, ignore_errors=True)


def _post(url: str, fields: dict, headers: dict) -> int:
    request = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(), headers=headers, method="POST")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_spoofed_x_forwarded_for_through_the_shipped_nginx_is_one_client(nginx_in_front):
    area, service = factories.area(), factories.service()
    fields = {"service": service.pk, "problem": Problem.NO_SERVICE, "postcode": ""}
    statuses = []
    for n in range(7):
        headers = {
            "X-Forwarded-For": f"198.51.100.{n}, 127.0.0.1",
            "User-Agent": f"agent-{n}",
            "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        statuses.append(_post(f"{nginx_in_front}/areas/{area.slug}/report/", fields, headers))
    # Five reports per source, then 429: the seven came from one client, whatever it claimed.
    assert statuses == [302] * 5 + [429, 429]
    assert ProblemReport.objects.values("client").distinct().count() == 1


@pytest.mark.parametrize("nginx_in_front", [{"WEBSOCKETS_PER_ADDRESS": "1"}], indirect=True)
def test_websockets_through_the_shipped_nginx_count_each_customers_address(nginx_in_front):
    # One socket per address: two customers behind the proxy get one each only
    # if the proxy tells the app who they are (its /ws/ location sets its own headers).
    area = factories.area()
    host, port = nginx_in_front.removeprefix("http://").split(":")
    url = f"ws://{host}:{port}/ws/areas/{area.slug}/"

    def from_address(source: str):
        raw = socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))
        return connect(url, sock=raw, origin=nginx_in_front, open_timeout=10)

    with from_address("127.0.0.2") as first, from_address("127.0.0.3") as second:
        with from_address("127.0.0.2") as again:
            assert area.name in first.recv(timeout=10) and area.name in second.recv(timeout=10)
            with pytest.raises(ConnectionClosed) as closed:
                again.recv(timeout=10)
            assert closed.value.rcvd.code == 4008
