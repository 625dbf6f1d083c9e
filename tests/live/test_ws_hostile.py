"""Hostile websocket clients against a real daphne: oversized messages,
floods of junk, malformed frames written on a raw socket, a bad or missing
Origin. The offender is closed, the server stays up, and an honest client on
the same server loses nothing."""

from __future__ import annotations

import base64
import os
import socket
import time

import pytest
from django.db import connections
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from outages import services
from outages.live.consumers import MAX_CLIENT_FRAME, MAX_CLIENT_FRAMES_PER_MINUTE, POLICY_VIOLATION
from outages.models import Incident
from tests import factories
from tests.faults import Swarm

pytestmark = pytest.mark.django_db(transaction=True)


def ws(server, path="/ws/status/"):
    return server.url.replace("http://", "ws://") + path


def closed_code(sock, seconds=10) -> int | None:
    """Read until the server closes; the close code it sent, if any."""
    try:
        while True:
            sock.recv(timeout=seconds)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def raw_handshake(server, path="/ws/status/", origin=True) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        + (f"Origin: {server.url}\r\n" if origin else "")
        + "\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    return sock


def closed_by_server(sock: socket.socket, seconds=10) -> bool:
    """True if the server closes the connection within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_abusive_clients_are_closed_and_an_honest_one_loses_nothing(server):
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district, title="Cable cut")
    swarm = Swarm()
    try:
        [honest] = swarm.add(ws(server, f"/ws/incidents/{incident.pk}/"), server.url, 1)
        swarm.wait_connected()
        outcomes = {}

        # 1. One oversized message.
        with connect(ws(server), origin=server.url, max_size=None) as sock:
            sock.recv(timeout=10)  # the snapshot
            sock.send("x" * (MAX_CLIENT_FRAME + 1))
            outcomes["oversized message"] = closed_code(sock)

        # 2. A flood of junk: thousands of small messages.
        with connect(ws(server), origin=server.url, max_size=None) as sock:
            sock.recv(timeout=10)
            sent = 0
            try:
                for n in range(5000):
                    sock.send(f"junk {n}")
                    sent += 1
            except ConnectionClosed:
                pass
            outcomes["5000 junk messages"] = closed_code(sock)

        # 3. Malformed frames on a raw socket: an unmasked client frame, a
        #    reserved opcode, a length that lies, plain garbage.
        for name, frame in {
            "unmasked frame": b"\x81\x05hello",
            "reserved opcode": b"\x83\x80" + os.urandom(4),
            "length beyond the data": b"\x81\xff" + (2**62).to_bytes(8, "big") + os.urandom(4) + b"abc",
            "garbage": os.urandom(512),
        }.items():
            sock = raw_handshake(server)
            sock.sendall(frame)
            outcomes[name] = "closed" if closed_by_server(sock) else "left open"
            sock.close()

        # 4. A foreign Origin, and none at all: refused at the handshake.
        for name, origin in {"foreign Origin": "https://evil.example", "no Origin": None}.items():
            try:
                with connect(ws(server), origin=origin, additional_headers=None) as sock:
                    sock.recv(timeout=5)
                outcomes[name] = "accepted"
            except InvalidStatus as refused:
                outcomes[name] = refused.response.status_code

        assert server.process.poll() is None, "the server died"
        services.post_update(Incident.objects.get(pk=incident.pk), status="identified", message="After the abuse")
        waited = swarm.wait_until(lambda c: "After the abuse" in c.text(f"incident-{incident.pk}"), timeout=10)
        print(f"\noutcomes: {outcomes}; honest client connects {honest.connects}, update arrived in {waited:.2f} s")
        assert outcomes["oversized message"] == POLICY_VIOLATION
        assert outcomes["5000 junk messages"] == POLICY_VIOLATION
        assert all(
            outcomes[name] == "closed"
            for name in ["unmasked frame", "reserved opcode", "length beyond the data", "garbage"]
        ), outcomes
        assert outcomes["foreign Origin"] == 403 and outcomes["no Origin"] == 403
        assert waited is not None and honest.connects == 1, "the honest client was disturbed"
    finally:
        swarm.close()
        connections.close_all()


def test_the_junk_limit_closes_after_the_allowed_rate(server):
    factories.area("District 5", slug="district-5")
    with connect(ws(server), origin=server.url) as sock:
        sock.recv(timeout=10)
        accepted = 0
        try:
            for n in range(MAX_CLIENT_FRAMES_PER_MINUTE + 5):
                sock.send("ping")
                accepted += 1
                time.sleep(0.01)
        except ConnectionClosed:
            pass
        assert closed_code(sock) == POLICY_VIOLATION
