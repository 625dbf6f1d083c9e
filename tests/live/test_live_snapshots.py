"""Connect storms: a known group's socket is accepted before its snapshot is
ready, one rendering is shared per group and language while nothing changes,
and no client ever gets a snapshot older than the last change delivered."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from outages.live import census as live_census
from outages.live import groups
from outages.live import relay as live_relay
from statuspage.asgi import application
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture(autouse=True)
async def fresh_relay():
    yield
    if live_relay.Relay.current is not None:
        await live_relay.Relay.current.stop()


@pytest.fixture
def renders(monkeypatch):
    """Every snapshot rendering, in order: (group, language); the real renderer runs."""
    seen = []
    real = live_relay.render_group_snapshot

    def counted(group, language):
        seen.append((group, language))
        return real(group, language)

    monkeypatch.setattr(live_relay, "render_group_snapshot", counted)
    return seen


def socket(path: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=ORIGIN)


async def open_all(communicators):
    results = await asyncio.gather(*(c.connect(timeout=10) for c in communicators))
    assert all(connected for connected, _ in results)
    return await asyncio.gather(*(c.receive_from(timeout=10) for c in communicators))


async def close_all(communicators):
    await asyncio.gather(*(c.disconnect() for c in communicators))


async def test_a_storm_of_connects_shares_one_rendering_per_language(renders):
    district = await sync_to_async(factories.area)("District 5")
    path = groups.area_path(district.slug)
    english = [socket(path + "?lang=en") for _ in range(30)]
    hungarian = [socket(path + "?lang=hu") for _ in range(10)]
    snapshots = await open_all(english + hungarian)
    assert len(set(snapshots[:30])) == 1 and len(set(snapshots[30:])) == 1
    assert snapshots[0] != snapshots[30]
    assert sorted(renders) == [(f"area-{district.slug}", "en"), (f"area-{district.slug}", "hu")]
    await close_all(english + hungarian)


async def test_a_change_invalidates_the_shared_snapshot(renders, monkeypatch):
    # Every language rendered at the publisher (no census yet), so that the
    # only snapshot renders counted are the connects'.
    monkeypatch.setattr(live_census, "listening", lambda: None)
    district = await sync_to_async(factories.area)("District 5")
    path = groups.area_path(district.slug)
    first = [socket(path) for _ in range(5)]
    await open_all(first)
    await sync_to_async(factories.incident)(district, title="Cable cut on Main Street")
    relay = live_relay.Relay.current
    relay.deliver(10**9, {})
    later = [socket(path) for _ in range(5)]
    snapshots = await open_all(later)
    assert all("Cable cut on Main Street" in snapshot for snapshot in snapshots)
    assert len(renders) == 2
    await close_all(first + later)


async def test_a_rendering_overtaken_by_a_change_is_never_served(monkeypatch):
    district = await sync_to_async(factories.area)("District 5")
    path = groups.area_path(district.slug)
    warm = socket(path)
    await open_all([warm])
    relay = live_relay.Relay.current
    loop = asyncio.get_running_loop()
    real = live_relay.render_group_snapshot
    calls = []

    def overtaken(group, language):
        calls.append(group)
        html = real(group, language)
        if len(calls) == 1:
            # The change commits and is delivered after this rendering read the data.
            factories.incident(district, title="Cable cut on Main Street")
            delivered = threading.Event()
            loop.call_soon_threadsafe(lambda: (relay.deliver(10**9 + 1, {}), delivered.set()))
            delivered.wait(5)
        return html

    monkeypatch.setattr(live_relay, "render_group_snapshot", overtaken)
    relay.deliver(10**9, {})  # the snapshot cached by the warm-up is gone
    client = socket(path)
    (snapshot,) = await open_all([client])
    assert len(calls) == 2
    assert "Cable cut on Main Street" in snapshot
    assert "Cable cut on Main Street" in relay.snapshots[(f"area-{district.slug}", "en")].html
    await close_all([warm, client])


async def test_a_known_group_is_accepted_before_its_snapshot_is_ready(monkeypatch):
    district = await sync_to_async(factories.area)("District 5")
    path = groups.area_path(district.slug)
    warm = socket(path)
    await open_all([warm])
    relay = live_relay.Relay.current
    release = threading.Event()
    real = live_relay.render_group_snapshot

    def slow(group, language):
        release.wait(10)
        return real(group, language)

    monkeypatch.setattr(live_relay, "render_group_snapshot", slow)
    relay.deliver(10**9, {})
    client = socket(path)
    connected, _ = await client.connect(timeout=5)
    assert connected
    assert await client.receive_nothing(timeout=0.3)
    # A push while it waits is older than the snapshot it will get: not sent.
    relay.deliver(10**9 + 1, {groups.area_group(district.slug): {"en": '<p id="x">pushed</p>'}})
    release.set()
    snapshot = await client.receive_from(timeout=10)
    assert f'id="area-status-{district.slug}"' in snapshot
    assert await client.receive_nothing(timeout=0.5)
    # Pushes after the snapshot arrive as before.
    relay.deliver(10**9 + 2, {groups.area_group(district.slug): {"en": '<p id="x">later</p>'}})
    assert await client.receive_from(timeout=5) == '<p id="x">later</p>'
    await close_all([warm, client])


async def test_an_unknown_area_is_still_refused():
    client = socket("/ws/areas/atlantis/")
    connected, _ = await client.connect()
    assert not connected
