"""A change from a one-shot process (the operator's `incident` command) is
announced unrendered, by the groups it touches; each server renders those for
its own clients, in their languages, and hands its changes out in order."""

from __future__ import annotations

import asyncio
import io

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.core.management import call_command
from django.utils import timezone
from websockets.sync.client import connect

from outages import services
from outages.live import fragments, publish
from outages.live import relay as live_relay
from outages.live.groups import STATUS_GROUP, area_group, incident_group
from outages.models import IncidentStatus, LiveChange
from tests import factories
from tests.conftest import served
from tests.faults import PrivateRedis
from tests.live.test_wake import manage, sqlite_env, with_riverside

pytestmark = pytest.mark.django_db(transaction=True)


class Client:
    def __init__(self):
        self.pushed: list[str] = []

    def push(self, html: str, frame: bytes) -> None:
        self.pushed.append(html)


async def pushed_to(*clients: Client, count: int = 1) -> None:
    for _ in range(200):
        if all(len(client.pushed) >= count for client in clients):
            return
        await asyncio.sleep(0.025)


def test_the_operator_command_announces_the_change_unrendered():
    here = factories.area("Here", slug="here")
    incident = factories.incident(here, title="Cable cut")
    call_command(
        "incident", "update", str(incident.pk), "--status", "identified", "--message", "Crew", stdout=io.StringIO()
    )
    stored = LiveChange.objects.order_by("-id").first().fragments
    assert stored == {STATUS_GROUP: {}, area_group("here"): {}, incident_group(incident.pk): {}}
    # Outside the command, a change is rendered where it is made, as before.
    services.post_update(incident, status=IncidentStatus.MONITORING, message="Power back")
    assert set(LiveChange.objects.order_by("-id").first().fragments[area_group("here")]) == {"en", "hu", "he"}


async def test_each_server_renders_an_unrendered_change_for_its_own_clients_as_the_publisher_would():
    here = await sync_to_async(factories.area)("Here", slug="here")
    incident = await sync_to_async(factories.incident)(here, title="Cable cut")
    relay = live_relay.Relay()
    relay.loop = asyncio.get_running_loop()
    home, area_linked, timeline = Client(), Client(), Client()
    relay.join(home, STATUS_GROUP, "en")
    relay.join(area_linked, area_group("here"), fragments.variant("he", True))
    relay.join(timeline, incident_group(incident.pk), "hu")
    try:
        # One clock for the push and the full render it is compared with.
        with time_machine.travel(timezone.now(), tick=False):

            def post():
                with publish.rendered_by_servers():
                    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site")
                change = LiveChange.objects.order_by("-id").first()
                return change, fragments.render_change(incident.pk, {here.pk})

            change, full = await sync_to_async(post)()
            assert all(by_language == {} for by_language in change.fragments.values())
            relay.deliver(change.pk, change.fragments)
            await pushed_to(home, area_linked, timeline)
        # The home page gets the change's fragments (banner, incidents, its row), not its whole snapshot.
        assert home.pushed == [fragments.for_client(full[STATUS_GROUP]["en"], "en")]
        assert area_linked.pushed == [fragments.for_client(full[area_group("here")]["he"], "he+link")]
        assert "?lang=he" in area_linked.pushed[0]
        assert timeline.pushed == [fragments.for_client(full[incident_group(incident.pk)]["hu"], "hu")]
        assert "Crew on site" in timeline.pushed[0]
    finally:
        relay.executor.shutdown(wait=True)


async def test_a_change_that_comes_while_an_earlier_one_renders_here_follows_it():
    here = await sync_to_async(factories.area)("Here", slug="here")
    incident = await sync_to_async(factories.incident)(here, title="Cable cut")
    relay = live_relay.Relay()
    relay.loop = asyncio.get_running_loop()
    reader = Client()
    relay.join(reader, area_group("here"), "en")
    try:
        relay.deliver(1, {STATUS_GROUP: {}, area_group("here"): {}, incident_group(incident.pk): {}})
        relay.deliver(2, {area_group("here"): {"en": "<p>the later change</p>"}})
        assert reader.pushed == []  # the later one waits for the earlier one's render
        await pushed_to(reader, count=2)
        assert len(reader.pushed) == 2
        assert "Cable cut" in reader.pushed[0]
        assert reader.pushed[1] == "<p>the later change</p>"
        assert relay.rendering is None and not relay.waiting
        relay.deliver(3, {area_group("here"): {"en": "<p>a third</p>"}})
        assert reader.pushed[-1] == "<p>a third</p>"  # nothing rendering: handed out at once
    finally:
        relay.executor.shutdown(wait=True)


class Broken(Client):
    def push(self, html: str, frame: bytes) -> None:
        raise ConnectionResetError("gone")


async def test_a_failed_push_holds_back_no_other_client_nor_a_later_change():
    here = await sync_to_async(factories.area)("Here", slug="here")
    await sync_to_async(factories.incident)(here, title="Cable cut")
    relay = live_relay.Relay()
    relay.loop = asyncio.get_running_loop()
    broken, reader = Broken(), Client()
    relay.join(broken, area_group("here"), "en")
    relay.join(reader, area_group("here"), "he")
    try:
        relay.deliver(1, {STATUS_GROUP: {}, area_group("here"): {}})
        relay.deliver(2, {area_group("here"): {"en": "<p>later</p>", "he": "<p>later</p>"}})
        await pushed_to(reader, count=2)
        assert reader.pushed[1] == "<p>later</p>" and relay.rendering is None
    finally:
        relay.executor.shutdown(wait=True)


@pytest.mark.redis
def test_with_redis_the_server_renders_a_command_change_for_its_pages(tmp_path):
    """The command and the server in processes of their own, as an operator runs them,
    on a Redis of their own (the suite's other pass shares the machine's)."""
    redis = PrivateRedis().start()
    try:
        env = sqlite_env(tmp_path, REDIS_URL=redis.url)
        with_riverside(env)
        server, port = served(env)
        try:
            url = f"http://127.0.0.1:{port}"
            with (
                connect(f"ws://127.0.0.1:{port}/ws/areas/riverside/", origin=url, open_timeout=30) as area,
                connect(f"ws://127.0.0.1:{port}/ws/status/", origin=url, open_timeout=30) as home,
            ):
                assert "Riverside" in area.recv(timeout=30)
                home.recv(timeout=30)
                manage(env, "incident", "open", "--title", "Substation fault", "--areas", "riverside")
                on_area, on_home = area.recv(timeout=15), home.recv(timeout=15)
            assert "Substation fault" in on_area and 'id="area-status-riverside"' in on_area
            # The home page gets the change (banner, incidents, the area's row), not its whole snapshot.
            assert "Substation fault" in on_home and "Outage in 1 area" in on_home
            assert 'id="regions"' not in on_home
            stored = manage(
                env,
                "shell",
                "-c",
                "from outages.models import LiveChange; print(LiveChange.objects.latest('id').fragments)",
            )
            # The shell's own first lines may say what it imported; the dict is the last.
            assert stored.splitlines()[-1] == str(
                {STATUS_GROUP: {}, area_group("riverside"): {}, incident_group(1): {}}
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        redis.kill()
