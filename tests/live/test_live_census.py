"""The live census: each process records its connected clients per group in
the shared cache; the console adds up the groups a change reaches."""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache

from outages.live import census as live_census
from outages.live import groups as live
from outages.live import relay as live_relay
from statuspage.asgi import application
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture(autouse=True)
async def fresh_relay(settings):
    settings.LIVE_CENSUS_SECONDS = 0.1
    cache.clear()
    yield
    if live_relay.Relay.current is not None:
        await live_relay.Relay.current.stop()
    cache.clear()


async def _connect(path):
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.receive_from(timeout=5)
    return communicator


async def _counted(groups, expected, timeout=3.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await sync_to_async(live_census.open_pages)(groups)
        if seen == expected or asyncio.get_running_loop().time() > deadline:
            return seen
        await asyncio.sleep(0.05)


async def test_connected_pages_are_counted_per_group_and_forgotten_when_they_leave():
    district = await sync_to_async(factories.area)("District 5", slug="district-5")
    other = await sync_to_async(factories.area)("District 6", slug="district-6")
    pages = [await _connect("/ws/areas/district-5/") for _ in range(3)]
    home = await _connect("/ws/status/")
    elsewhere = await _connect("/ws/areas/district-6/")
    reached = [live.STATUS_GROUP, live.area_group(district.slug)]
    assert await _counted(reached, 4) == 4
    assert await _counted([live.area_group(other.slug)], 1) == 1
    await pages[0].disconnect()
    assert await _counted(reached, 3) == 3
    for communicator in [*pages[1:], home, elsewhere]:
        await communicator.disconnect()
    assert await _counted(reached, 0) == 0


def test_every_process_has_its_own_slot_and_the_reader_adds_them_up():
    cache.clear()
    first, second = live_census.Census(), live_census.Census()
    first.write({"status": 2, "area-a": 1})
    second.write({"status": 5, "incident-7": 1})
    assert first.slot != second.slot
    assert live_census.open_pages(["status", "area-a", "incident-7"]) == 9
    assert live_census.open_pages(["area-b"]) == 0
    # A process that stops leaves its slot; the other's clients still count.
    first.release()
    assert live_census.open_pages(["status", "area-a", "incident-7"]) == 6
    second.write({"status": 1})  # refreshed in place, not a second slot
    assert live_census.open_pages(["status"]) == 1
