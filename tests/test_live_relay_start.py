"""Hundreds of clients connecting at once (a server restart) share one Relay:
each Relay holds a database connection, a poll loop and a layer
subscription, so one per client would multiply all three."""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from outages import live
from statuspage.asgi import application

from . import factories

pytestmark = pytest.mark.django_db(transaction=True)


async def test_clients_connecting_at_the_same_moment_start_one_relay():
    await sync_to_async(factories.area)("District 5")
    assert live.Relay.current is None or await live.Relay.current.stop() is None
    started = []
    original = live.Relay.start

    async def counting_start(self, loop):
        started.append(self)
        await original(self, loop)

    live.Relay.start = counting_start
    communicators = [WebsocketCommunicator(application, "/ws/status/", headers=[(b"origin", b"http://testserver")])
                     for _ in range(50)]
    try:
        results = await asyncio.gather(*(c.connect() for c in communicators))
        assert all(connected for connected, _ in results)
        assert len(started) == 1, f"{len(started)} relays started for 50 simultaneous clients"
        assert live.Relay.current.stats()["clients"] == 50
    finally:
        live.Relay.start = original
        await asyncio.gather(*(c.disconnect() for c in communicators))
        if live.Relay.current is not None:
            await live.Relay.current.stop()
