"""A change is rendered only for the groups and languages someone has open now
(the shared census), and a client the census has not seen yet still gets the
change: its relay renders it for that client from the database."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.live import census, fragments, wake
from outages.live import relay as live_relay
from outages.live.groups import STATUS_GROUP, area_group, incident_group
from outages.models import IncidentStatus, LiveChange
from tests import factories

EVERY = {"en", "hu", "he"}


@pytest.fixture
def shared_cache(redis_url):
    """The census in Redis, as with REDIS_URL: shared by every process."""
    location = redis_url.rsplit("/", 1)[0] + "/9"
    setting = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    with override_settings(CACHES=setting):
        caches["default"].clear()
        yield
        caches["default"].clear()


@pytest.fixture
def local_cache(tmp_path, monkeypatch):
    """The embedded default: the cache is this process's memory; the census files
    sit beside the SQLite file (here in tmp_path)."""
    monkeypatch.setattr(wake, "directory", lambda: tmp_path / "site.sqlite3.wake")
    setting = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "census"}}
    with override_settings(CACHES=setting):
        yield tmp_path / "site.sqlite3.wake"


def test_without_sqlite_the_census_of_this_process_alone_tells_nothing(local_cache, monkeypatch):
    monkeypatch.setattr(wake, "directory", lambda: None)
    census.Census().write({"area-a": 3}, {"area-a": ["en"]})
    assert census.listening() is None  # a command's process sees no server's memory


def test_on_the_embedded_default_the_census_files_tell_every_process(local_cache):
    server = census.Census()
    server.write({"area-a": 3}, {"area-a": ["en", "he"]})
    assert [path.name for path in local_cache.glob("*.census")] == [f"{os.getpid()}.census"]
    assert census.listening() == {"area-a": {"en", "he"}}
    exits = len(wake._at_exit)
    for _ in range(3):
        server.write({"area-a": 4}, {"area-a": ["en"]})  # rewritten as the clients change
    assert len(wake._at_exit) == exits  # one removal at exit per file, not one per write
    assert census.listening() == {"area-a": {"en"}}
    server.release()
    assert census.listening() is None


def test_no_entry_yet_tells_nothing(shared_cache):
    assert census.listening() is None


def test_languages_read_are_added_up_over_processes(shared_cache):
    census.Census().write({"area-a": 2}, {"area-a": ["en"]})
    census.Census().write({"area-a": 1, STATUS_GROUP: 4}, {"area-a": ["hu"], STATUS_GROUP: ["en"]})
    census.Census().write({"incident-7": 3})  # an older release names no languages: all of them
    assert census.listening() == {"area-a": {"en", "hu"}, STATUS_GROUP: {"en"}, "incident-7": EVERY}


def test_a_link_language_counts_as_its_language():
    members = {("area-a", "hu+link"): {object()}, ("area-a", "he"): {object()}, ("area-b", "en"): set()}
    assert census.languages_of(members) == {"area-a": ["he", "hu"]}


@pytest.mark.django_db
def test_only_what_is_read_is_rendered_and_it_is_what_a_full_render_gives():
    here = factories.area("Here", slug="here")
    with time_machine.travel(timezone.now(), tick=False):
        incident = factories.incident(here, title="Cable cut")
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site")
        full = fragments.render_change(incident.pk, {here.pk})
        some = fragments.render_change(incident.pk, {here.pk}, {area_group("here"): {"hu"}})
    assert set(full[STATUS_GROUP]) == set(full[area_group("here")]) == EVERY
    # Every group the change touches is named, with only the languages read.
    assert some == {
        STATUS_GROUP: {},
        area_group("here"): {"hu": full[area_group("here")]["hu"]},
        incident_group(incident.pk): {},
    }


@pytest.mark.django_db
def test_a_change_nobody_has_open_reads_nothing(django_assert_num_queries):
    incident = factories.incident(factories.area("Here", slug="here"))
    with django_assert_num_queries(0):
        nobody = fragments.render_change(incident.pk, set(), {})
    assert nobody == {STATUS_GROUP: {}, incident_group(incident.pk): {}}


@pytest.mark.django_db
def test_a_publisher_that_renders_nothing_reads_only_the_names_of_the_groups():
    """The operator's one-shot command leaves the render to the servers: it
    names the groups its change touches, and reads no more than their names."""
    here = factories.area("Here", slug="here")
    incident = factories.incident(here)
    with CaptureQueriesContext(connection) as queries:
        named = fragments.render_change(incident.pk, {here.pk}, {})
    assert named == {STATUS_GROUP: {}, area_group("here"): {}, incident_group(incident.pk): {}}
    (read,) = [q["sql"] for q in queries.captured_queries]
    assert read.startswith('SELECT "outages_servicearea"."id", "outages_servicearea"."slug" FROM')
    assert "JOIN" not in read


@pytest.mark.django_db
def test_an_area_change_reads_its_cards_once_however_many_there_are():
    """The area's incidents and planned windows come in one read, each card's
    area links once, and nothing the status card does not show (the page's
    recent history, its local team): what every change costs each server
    that renders it."""
    here = factories.area("Here", slug="here")
    first = factories.incident(here, title="Cable cut")
    listening = {area_group("here"): {"en"}}

    def render():
        with CaptureQueriesContext(connection) as queries:
            html = fragments.render_change(first.pk, {here.pk}, listening)[area_group("here")]["en"]
        read = [q["sql"] for q in queries.captured_queries]
        links = [sql for sql in read if sql.startswith('SELECT "outages_incidentarea"')]
        assert not [sql for sql in read if "outages_team" in sql or 'resolved_at" DESC' in sql]
        return html, len(read), len(links)

    _html, alone, links_alone = render()
    factories.incident(here, title="Pole down")
    soon = timezone.now() + timedelta(days=1)
    for title in ("Network upgrade", "Meter swap"):
        services.schedule_maintenance(
            title=title, areas=[here], scheduled_for=soon, scheduled_until=soon + timedelta(hours=2), message="Planned."
        )
    elsewhere = factories.area("Elsewhere", slug="elsewhere")
    services.schedule_maintenance(
        title="Tower paint", areas=[elsewhere], scheduled_for=soon, scheduled_until=soon + timedelta(hours=1)
    )
    html, many, links_many = render()
    assert all(title in html for title in ("Cable cut", "Pole down", "Network upgrade", "Meter swap"))
    assert "Tower paint" not in html
    assert (many, links_many) == (alone, links_alone) == (8, 1)


class Client:
    def __init__(self):
        self.pushed: list[str] = []

    def push(self, html: str, frame: bytes) -> None:
        self.pushed.append(html)


@pytest.mark.django_db(transaction=True)
async def test_a_client_the_census_missed_gets_the_fresh_state_from_its_relay():
    here = await sync_to_async(factories.area)("Here", slug="here")
    incident = await sync_to_async(factories.incident)(here, title="Cable cut")
    relay = live_relay.Relay()
    relay.loop = asyncio.get_running_loop()
    english, hebrew = Client(), Client()
    relay.join(english, area_group("here"), "en")
    relay.join(hebrew, area_group("here"), "he")
    # One clock for the push, its fill-in and the snapshot it is compared with.
    with time_machine.travel(timezone.now(), tick=False):
        await served_as_rendered(relay, here, incident, english, hebrew)


async def served_as_rendered(relay, here, incident, english, hebrew):
    try:
        await sync_to_async(services.post_update)(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site")
        # Rendered for English only: the census had not seen the Hebrew reader yet.
        change = await sync_to_async(
            lambda: fragments.render_change(incident.pk, {here.pk}, {area_group("here"): {"en"}})
        )()
        relay.deliver(10**6, change)
        assert english.pushed == [fragments.for_client(change[area_group("here")]["en"], "en")]
        for _ in range(100):
            if hebrew.pushed:
                break
            await asyncio.sleep(0.05)
        expected = await sync_to_async(fragments.render_group_snapshot)(area_group("here"), "he")
        assert hebrew.pushed == [expected]
        assert "Crew on site" in hebrew.pushed[0]
        relay.deliver(10**6, change)  # the same change again (the poll): nothing more
        await asyncio.sleep(0.3)
        assert len(english.pushed) == len(hebrew.pushed) == 1
    finally:
        relay.executor.shutdown(wait=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["shared_cache", "local_cache"])
def test_a_published_change_carries_only_what_the_census_reads(where, request):
    request.getfixturevalue(where)
    here = factories.area("Here", slug="here")
    incident = factories.incident(here, title="Cable cut")
    census.Census().write({area_group("here"): 5}, {area_group("here"): ["en"]})
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site")
    stored = LiveChange.objects.order_by("-id").first().fragments
    assert stored[STATUS_GROUP] == {} and stored[incident_group(incident.pk)] == {}
    assert list(stored[area_group("here")]) == ["en"]
    assert "Crew on site" in stored[area_group("here")]["en"]
