"""The live push: committed changes reach connected pages once, rolled-back
ones never, across processes, and nothing a client sends changes anything."""

import asyncio
import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import timezone

from outages import services
from outages.live import groups
from outages.live import relay as live_relay
from outages.models import IncidentStatus, LiveChange
from statuspage.asgi import application
from tests import factories
from tests.conftest import ROOT, create_server_operator, database_url_for_subprocess

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture(autouse=True)
async def fresh_relay():
    yield
    if live_relay.Relay.current is not None:
        await live_relay.Relay.current.stop()


async def connect(path: str) -> tuple[WebsocketCommunicator, str]:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_from(timeout=5)
    return communicator, snapshot


async def nothing_more(communicator: WebsocketCommunicator, wait: float = 1.5) -> bool:
    return await communicator.receive_nothing(timeout=wait)


async def test_area_socket_sends_a_snapshot_on_connect():
    district = await sync_to_async(factories.area)("District 5")
    await sync_to_async(factories.incident)(district, title="Cable cut")
    communicator, snapshot = await connect(f"/ws/areas/{district.slug}/")
    assert f'id="area-status-{district.slug}"' in snapshot
    assert "Cable cut" in snapshot and 'id="last-updated"' in snapshot
    await communicator.disconnect()


async def test_committed_update_is_pushed_exactly_once_with_the_new_eta():
    district = await sync_to_async(factories.area)("District 5", time_zone="Europe/Budapest")
    incident = await sync_to_async(factories.incident)(district)
    communicator, _ = await connect(f"/ws/areas/{district.slug}/")
    status_socket, _ = await connect("/ws/status/")
    new_eta = timezone.now() + timedelta(hours=7)
    await sync_to_async(services.post_update)(
        incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", eta=new_eta
    )
    pushed = await communicator.receive_from(timeout=3)
    assert "Crew on site" in pushed
    assert timezone.localtime(new_eta, district.tzinfo).strftime("%H:%M") in pushed
    home = await status_socket.receive_from(timeout=3)
    assert 'id="banner"' in home and f'id="area-row-{district.slug}"' in home
    # Through the local wake-up, the channel layer and the outbox poll: still once.
    assert await nothing_more(communicator, wait=2 * groups.poll_seconds() + 0.5)
    assert await nothing_more(status_socket, wait=0.2)
    await communicator.disconnect()
    await status_socket.disconnect()


async def test_rolled_back_write_pushes_nothing():
    district = await sync_to_async(factories.area)()
    incident = await sync_to_async(factories.incident)(district)
    communicator, _ = await connect(f"/ws/areas/{district.slug}/")
    changes_before = await sync_to_async(LiveChange.objects.count)()

    def failing_write():
        with transaction.atomic():
            services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Never seen")
            raise RuntimeError("operator's save failed half way")

    with pytest.raises(RuntimeError):
        await sync_to_async(failing_write)()
    assert await nothing_more(communicator, wait=2 * groups.poll_seconds() + 0.5)
    assert await sync_to_async(LiveChange.objects.count)() == changes_before
    await communicator.disconnect()


async def test_push_goes_only_to_the_groups_that_show_the_change():
    affected, other = await sync_to_async(factories.area)(), await sync_to_async(factories.area)()
    incident = await sync_to_async(factories.incident)(affected)
    other_socket, _ = await connect(f"/ws/areas/{other.slug}/")
    incident_socket, _ = await connect(f"/ws/incidents/{incident.pk}/")
    await sync_to_async(services.resolve)(incident, message="Fixed")
    timeline = await incident_socket.receive_from(timeout=3)
    assert f'id="timeline-{incident.pk}"' in timeline and "Fixed" in timeline
    assert await nothing_more(other_socket, wait=1)
    await other_socket.disconnect()
    await incident_socket.disconnect()


async def test_consumer_does_not_query_the_database_when_a_push_arrives(django_db_blocker):
    district = await sync_to_async(factories.area)()
    communicator, _ = await connect(f"/ws/areas/{district.slug}/")
    relay = live_relay.Relay.current
    # Any database access, in any thread, raises while blocked.
    with django_db_blocker.block():
        relay.deliver(10**9, {groups.area_group(district.slug): {"en": '<p id="x">pushed</p>'}})
        assert await communicator.receive_from(timeout=2) == '<p id="x">pushed</p>'
    await communicator.disconnect()


async def test_unknown_area_socket_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/areas/atlantis/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert not connected


async def test_socket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


async def test_oversized_or_flooding_client_is_closed_and_nothing_changes():
    district = await sync_to_async(factories.area)()
    communicator, _ = await connect(f"/ws/areas/{district.slug}/")
    await communicator.send_to(text_data=json.dumps({"status": "resolved", "pad": "x" * 5000}))
    output = await communicator.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4008}
    flooder, _ = await connect(f"/ws/areas/{district.slug}/")
    for _ in range(40):
        await flooder.send_to(text_data="hi")
    assert (await flooder.receive_output(timeout=2))["type"] == "websocket.close"
    assert await sync_to_async(LiveChange.objects.count)() == 0


async def test_polling_fallback_returns_the_same_snapshot(async_client):
    district = await sync_to_async(factories.area)()
    await sync_to_async(factories.incident)(district, title="Storm")
    response = await async_client.get(f"/ws/areas/{district.slug}/")
    assert response.status_code == 200
    assert f'id="area-status-{district.slug}"' in response.text and "Storm" in response.text
    assert (await async_client.get("/ws/areas/atlantis/")).status_code == 404


# Across processes: real daphne servers ------------------------------------------


def _ws_url(server, path):
    return server.url.replace("http://", "ws://") + path


async def _receive_containing(ws, text: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{text!r} not received within {timeout}s")
        message = await asyncio.wait_for(ws.recv(), remaining)
        if text in message:
            return time.monotonic()


async def test_change_from_the_command_line_reaches_a_page_on_the_embedded_default(make_server):
    import websockets

    server = await sync_to_async(make_server)()
    district = await sync_to_async(factories.area)(slug="district-5")
    incident = await sync_to_async(factories.incident)(district)
    async with websockets.connect(_ws_url(server, "/ws/areas/district-5/"), origin=server.url) as ws:
        await ws.recv()  # snapshot
        started = time.monotonic()
        result = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "manage.py",
                "incident",
                "update",
                str(incident.pk),
                "--status",
                "identified",
                "--message",
                "Sent from a script",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**server.env, "DATABASE_URL": database_url_for_subprocess()},
        )
        assert result.returncode == 0, result.stderr
        await _receive_containing(ws, "Sent from a script", timeout=5)
        # The command's process start-up (a few seconds on a loaded machine)
        # dominates; the push itself is sub-second.
        assert time.monotonic() - started < 10


@pytest.mark.redis
async def test_two_daphne_processes_with_redis_a_client_on_b_gets_a_change_saved_through_a(make_server, redis_url):
    import websockets

    # A slow outbox poll proves the change travelled through Redis.
    env = {"REDIS_URL": redis_url, "LIVE_OUTBOX_POLL_SECONDS": 30}
    server_a = await sync_to_async(make_server)(**env)
    server_b = await sync_to_async(make_server)(**env)
    district = await sync_to_async(factories.area)(slug="district-7")
    incident = await sync_to_async(factories.incident)(district)
    await sync_to_async(create_server_operator)()
    async with websockets.connect(_ws_url(server_b, "/ws/areas/district-7/"), origin=server_b.url) as ws:
        await ws.recv()
        await asyncio.sleep(0.5)  # B's relay has subscribed by now
        await asyncio.to_thread(_post_update_through_admin, server_a, incident.pk, district.pk, "Saved on A")
        started = time.monotonic()
        received = await _receive_containing(ws, "Saved on A", timeout=3)
        # Well inside the 30 s outbox poll: it came through Redis (loose bound: a busy CI machine).
        assert received - started < 3


def _post_update_through_admin(server, incident_pk, area_pk, message):
    """Log in to the admin of one server and post an update, as an operator would."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf(url):
        page = opener.open(url).read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1), page

    token, _ = csrf(server.url + "/admin/login/")
    opener.open(
        urllib.request.Request(
            server.url + "/admin/login/?next=/admin/",
            data=urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "username": "ops", "password": "pw-for-tests", "next": "/admin/"}
            ).encode(),
            headers={"Referer": server.url + "/admin/login/"},
        )
    )
    change_url = f"{server.url}/admin/outages/incident/{incident_pk}/change/"
    token, page = csrf(change_url)
    found = re.search(r'name="title"[^>]*value="([^"]*)"', page)
    assert found, page[:3000]
    title = found.group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "seen_version": re.search(r'name="seen_version"[^>]*value="([^"]*)"', page).group(1),
        "title": title,
        "impact": "major",
        "cause": "",
        "cause_detail": "",
        "areas": str(area_pk),
        "update_status": "identified",
        "update_message": message,
        "update_eta": "",
    }
    response = opener.open(
        urllib.request.Request(change_url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": change_url})
    )
    assert response.status == 200 and "/change/" not in response.url, response.url


async def test_a_storm_of_first_connects_shares_one_relay():
    district = await sync_to_async(factories.area)()
    started = []
    original = live_relay.Relay.start

    async def counting_start(self):
        started.append(self)
        await original(self)

    live_relay.Relay.start = counting_start
    try:
        results = await asyncio.gather(*[connect(f"/ws/areas/{district.slug}/") for _ in range(25)])
    finally:
        live_relay.Relay.start = original
    assert len(started) == 1
    assert len(live_relay.Relay.current.members[(groups.area_group(district.slug), "en")]) == 25
    assert live_relay.Relay.current.stats()["clients"] == 25
    for communicator, _ in results:
        await communicator.disconnect()
