"""The small holes, each closed: non-ASCII digits are a 400 not a 500; both
NAT64 prefixes are unwrapped by the webhook guard; feeds escape operator text
once; one address cannot hold unlimited websockets; the production units
collect the static files a DEBUG=0 server needs."""

import ipaddress
import re
import shlex
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from outages import ssrf
from outages.live import relay as live_relay
from statuspage.asgi import application
from tests import factories
from tests.conftest import ROOT, server_env

# Non-ASCII digits -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A1", "%EF%BC%91"])  # ², Arabic-Indic 1, fullwidth 1
def test_a_history_page_number_in_other_digits_is_a_400(client, page):
    response = client.get(f"/history/?page={page}")
    assert response.status_code == 400 and "whole number" in response.text


@pytest.mark.django_db
def test_a_template_id_in_other_digits_is_ignored_not_a_500(admin_client):
    assert admin_client.get("/admin/outages/incident/add/?template=%C2%B2").status_code == 200


# NAT64 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # RFC 6052 well-known prefix: 169.254.169.254
        "64:ff9b::a00:1",  # 10.0.0.1
        "64:ff9b:1::a9fe:a9fe",  # RFC 8215 local-use prefix, /96 layout
        "64:ff9b:1:a9fe:a9:fe00::",  # the same, /48 layout (the u octet skipped)
        "64:ff9b:1:a:0:100::",  # 10.0.0.1, /56 layout
        "64:ff9b:1::7f:0:1:0",  # 127.0.0.1, /64 layout
    ],
)
def test_addresses_behind_both_nat64_prefixes_are_refused(address, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    assert ssrf.forbidden(ipaddress.ip_address(address))
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check(f"http://[{address}]/hook")


def test_a_public_address_behind_the_well_known_nat64_prefix_is_allowed():
    assert not ssrf.forbidden(ipaddress.ip_address("64:ff9b::808:808"))


# Feeds --------------------------------------------------------------------------


ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, tag", [("/history.rss", "./channel/item/description"), ("/history.atom", f"./{ATOM}entry/{ATOM}summary")]
)
def test_feeds_escape_operator_text_once_and_keep_their_own_markup(client, path, tag):
    area = factories.area("Town & Co")
    factories.incident(area, title="Cut", message="Crew <b>on</b> site")
    root = ET.fromstring(client.get(path).content)
    html = root.find(tag).text  # what a reader renders as HTML
    assert "&lt;br&gt;" not in html and "Status: Investigating<br>Impact:" in html
    assert "Town &amp; Co" in html and "Crew &lt;b&gt;on&lt;/b&gt; site" in html


# Websockets per address -----------------------------------------------------------


ORIGIN = [(b"origin", b"http://testserver")]


async def _socket(address: str) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=ORIGIN)
    communicator.scope["client"] = (address, 40000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_output(timeout=5)


@pytest.mark.django_db(transaction=True)
async def test_one_address_past_the_websocket_cap_is_closed_with_4008(settings):
    settings.WEBSOCKETS_PER_ADDRESS = 2
    try:
        first, a = await _socket("203.0.113.5")
        second, b = await _socket("203.0.113.5")
        assert a["type"] == b["type"] == "websocket.send"
        third, refused = await _socket("203.0.113.5")
        assert refused == {"type": "websocket.close", "code": 4008}
        # The same IPv6 /64 counts as one address; another address is not affected.
        other, ok = await _socket("198.51.100.9")
        assert ok["type"] == "websocket.send"
        # A socket that closes frees its place.
        await first.disconnect()
        again, ok = await _socket("203.0.113.5")
        assert ok["type"] == "websocket.send"
        for communicator in (second, other, again):
            await communicator.disconnect()
        v6 = [await _socket(f"2001:db8:1:2::{n}") for n in range(3)]
        assert [output["type"] for _c, output in v6] == ["websocket.send", "websocket.send", "websocket.close"]
        for communicator, _output in v6[:2]:
            await communicator.disconnect()
    finally:
        if live_relay.Relay.current is not None:
            await live_relay.Relay.current.stop()


def test_the_websocket_cap_is_generous_by_default_and_listed():
    assert django_settings.WEBSOCKETS_PER_ADDRESS >= 500
    assert "WEBSOCKETS_PER_ADDRESS=" in (ROOT / ".env.example").read_text()
    assert "WEBSOCKETS_PER_ADDRESS" in (ROOT / "README.md").read_text()


# Production: collectstatic ----------------------------------------------------------


def _exec_lines(unit: str) -> list[list[str]]:
    text = (ROOT / "deploy" / unit).read_text()
    return [shlex.split(line) for line in re.findall(r"^ExecStart=(.+)$", text, re.M)]


@pytest.mark.django_db(transaction=True)
def test_the_release_unit_collects_static_files_so_a_debug_off_server_serves_pages(make_server):
    commands = _exec_lines("statuspage-release.service")
    assert any("collectstatic" in command for command in commands)
    assert any("migrate" in command for command in commands)
    web = (ROOT / "deploy" / "statuspage@.service").read_text()
    assert "Requires=statuspage-release.service" in web and "After=" in web
    production = server_env(DEBUG="0", SECRET_KEY="release-test-secret-key-0123456789-abcdefghijklmnop")
    for command in commands:
        if "collectstatic" in command:
            # The unit's command, from this checkout instead of /srv/statuspage.
            args = [sys.executable, *command[1:], "-v0"]
            subprocess.run(args, cwd=ROOT, env=production, check=True, timeout=120)
    server = make_server(DEBUG="0", SECRET_KEY="release-test-secret-key-0123456789-abcdefghijklmnop")
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet)  # the manifest's hashed name
    with urllib.request.urlopen(server.url + stylesheet, timeout=10) as response:
        assert response.status == 200
