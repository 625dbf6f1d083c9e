"""The live push: group names, render-once-and-send of HTML fragments.

How a change travels:
1. A service function commits; its on_commit hook calls publish_change().
2. publish_change() renders every changed fragment once (banner, area rows,
   area status cards, incident card and timeline), stores them as one
   LiveChange row (the outbox), and announces the row on the channel layer.
3. In every server process one Relay receives the row, from the channel layer
   at once or from the outbox poll if that message was lost (another process
   on the in-memory layer, Redis down), and hands the ready HTML to the
   consumers of that process. Consumers never touch the database for a push.

So the work per change is one render per language (settings.LANGUAGES) and
one layer message, whatever the number of clients; the per-client cost is one
websocket frame. Each consumer joins its group in its own language, chosen at
connect (?lang= on the socket's URL, else the language cookie or
Accept-Language), and receives that language's fragments.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.template.loader import render_to_string
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from . import live_census, pagecache, queries
from .models import Incident, LiveChange, ServiceArea
from .scheduler import periodic

log = logging.getLogger(__name__)

STATUS_GROUP = "status"
# Snapshot of the status group without the list of every area (it grows with
# the areas): for clients that show only the banner and the incidents (the
# widget). Same group, same pushes; only the (re)connect snapshot is smaller.
STATUS_SUMMARY = "status-summary"
RELAY_GROUP = "live-changes"


def poll_seconds() -> float:
    """How quickly a change made where the layer cannot reach (another process
    on the in-memory layer, Redis down) still arrives: the outbox poll interval."""
    return settings.LIVE_OUTBOX_POLL_SECONDS
# Rows this recent are re-read on each poll: a row that committed after a
# higher id (concurrent writers) is still delivered.
POLL_WINDOW = timedelta(seconds=30)
OUTBOX_KEEP = timedelta(hours=1)


def area_group(slug: str) -> str:
    return f"area-{slug}"


def incident_group(pk: int) -> str:
    return f"incident-{pk}"


# Rendering ---------------------------------------------------------------
#
# Fragments are shared by every visitor of a language: rendered without a
# request (so no CSRF token or nonce can leak in), once per change and per
# language in settings.LANGUAGES, never once per client.

def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def client_language(code: str | None) -> str:
    """A supported language code for what a client asked for; the default otherwise."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def accepted_language(header: str) -> str:
    """The first supported language of an Accept-Language header; the default otherwise."""
    for accepted, _quality in parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def live_url(path: str) -> str:
    """A websocket (and polling) path that carries the page's language: ?lang=hu."""
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}lang={client_language(translation.get_language())}"


def _render(template: str, context: dict) -> str:
    """A fragment in the active language (callers choose it with translation.override)."""
    return render_to_string(template, context).strip()


def _in_every_language(render) -> dict[str, str]:
    """{"en": html, "hu": html, "he": html}: one render per language."""
    rendered = {}
    for code in languages():
        with translation.override(code):
            rendered[code] = render()
    return rendered


def _last_updated() -> str:
    return _render("outages/live.html#last-updated", {"now": timezone.now()})


def _status_html(snapshot: dict, *, summary: bool = False) -> str:
    parts = [
        _render("outages/home.html#banner", snapshot),
        _render("outages/home.html#active-incidents", snapshot),
    ]
    if not summary:
        parts.append(_render("outages/home.html#regions", snapshot))
    return "\n".join([*parts, _last_updated()])


def _area_html(snapshot: dict) -> str:
    return "\n".join([_render("outages/area.html#status-card", snapshot), _last_updated()])


def _incident_html(snapshot: dict) -> str:
    return "\n".join(
        [
            _render("outages/incident.html#card", {**snapshot, "heading": True}),
            _render("outages/incident.html#timeline", snapshot),
            _last_updated(),
        ]
    )


def render_status_snapshot() -> str:
    return _status_html(queries.home_snapshot())


def render_status_summary_snapshot() -> str:
    return _status_html(queries.home_snapshot(), summary=True)


def render_area_snapshot(area: ServiceArea) -> str:
    return _area_html(queries.area_snapshot(area))


def render_incident_snapshot(incident: Incident) -> str:
    return _incident_html(queries.incident_snapshot(incident))


def render_group_snapshot(group: str, language: str | None = None) -> str | None:
    """The fresh state a (re)connecting client of this group needs, in its
    language (default: the site's), or None if the group is unknown."""
    with translation.override(client_language(language)):
        if group == STATUS_GROUP:
            return render_status_snapshot()
        if group == STATUS_SUMMARY:
            return render_status_summary_snapshot()
        if group.startswith("area-"):
            area = ServiceArea.objects.select_related("region").filter(slug=group.removeprefix("area-")).first()
            return render_area_snapshot(area) if area else None
        if group.startswith("incident-"):
            incident = Incident.objects.filter(pk=int(group.removeprefix("incident-"))).first()
            return render_incident_snapshot(incident) if incident else None
    return None


def render_change(incident_id: int, area_ids) -> dict[str, dict[str, str]]:
    """Every fragment a change touches, keyed by the group that shows it and
    then by language: {group: {"en": html, "hu": html, "he": html}}.

    The data is read once; each language is one render of it."""
    fragments: dict[str, dict[str, str]] = {}
    snapshot = queries.home_snapshot()
    rows = {row.area.pk: row for group in snapshot["regions"] for row in group.rows}
    changed_rows = [rows[pk] for pk in sorted(area_ids) if pk in rows]

    def status_html() -> str:
        return "\n".join(
            [
                _render("outages/home.html#banner", snapshot),
                _render("outages/home.html#active-incidents", snapshot),
                *[_render("outages/home.html#area-row", {"row": row}) for row in changed_rows],
                _last_updated(),
            ]
        )

    fragments[STATUS_GROUP] = _in_every_language(status_html)
    for area in ServiceArea.objects.select_related("region").filter(pk__in=list(area_ids)):
        area_data = queries.area_snapshot(area)
        fragments[area_group(area.slug)] = _in_every_language(lambda: _area_html(area_data))
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is not None:
        incident_data = queries.incident_snapshot(incident)
        fragments[incident_group(incident_id)] = _in_every_language(lambda: _incident_html(incident_data))
    return fragments


# Publishing (any process) -------------------------------------------------

def publish_change(*, incident_id: int, area_ids) -> LiveChange:
    """Render once, keep it in the outbox, announce it. Called after commit."""
    change = LiveChange.objects.create(fragments=render_change(incident_id, area_ids))
    # Every cached public response is keyed by the status version: bump it
    # before anyone is told, so a reload after the push renders afresh.
    pagecache.bump(change.pk)
    message = {"type": "live.change", "id": change.pk, "fragments": change.fragments}
    _wake_local_relay(change)
    try:
        LayerSender.send(RELAY_GROUP, message)
    except LayerSender.Unavailable:
        pass  # already logged when it failed; the outbox poll delivers it
    except Exception:
        # Redis may be down: the outbox poll delivers it anyway.
        log.warning("channel layer unavailable; change %s goes by the outbox poll", change.pk, exc_info=True)
    return change


class LayerSender:
    """A long-lived event loop thread for channel-layer sends from sync code.

    async_to_sync would start a loop, and so a Redis connection, for every
    change; this keeps one of each for the life of the process (server,
    worker, scheduler or command alike).

    A send never holds up a save for long: it gives up after TIMEOUT seconds,
    and after a failure the layer is not tried again for BACKOFF seconds (the
    outbox poll delivers meanwhile), so Redis being down costs one save one
    second, not every save."""

    _loop: asyncio.AbstractEventLoop | None = None
    _lock = threading.Lock()
    _skip_until = 0.0
    TIMEOUT = 1.0
    BACKOFF = 5.0

    class Unavailable(Exception):
        pass

    @classmethod
    def send(cls, group: str, message: dict) -> None:
        if time.monotonic() < cls._skip_until:
            raise cls.Unavailable("channel layer failed recently; not tried")
        future = asyncio.run_coroutine_threadsafe(get_channel_layer().group_send(group, message), cls._running_loop())
        try:
            future.result(timeout=cls.TIMEOUT)
        except BaseException:
            future.cancel()
            cls._skip_until = time.monotonic() + cls.BACKOFF
            raise
        cls._skip_until = 0.0

    @classmethod
    def _running_loop(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._loop.is_closed():
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="live-layer-sender", daemon=True).start()
            return cls._loop


def _wake_local_relay(change: LiveChange) -> None:
    relay = Relay.current
    if relay is not None and relay.loop is not None and not relay.loop.is_closed():
        relay.loop.call_soon_threadsafe(relay.deliver, change.pk, change.fragments)


@periodic
def prune_outbox(now) -> int:
    """Outbox rows are only needed for the poll window; keep an hour for diagnosis."""
    deleted, _ = LiveChange.objects.filter(created_at__lt=now - OUTBOX_KEEP).delete()
    return deleted


# Fan-out (server processes) -----------------------------------------------

def text_frame(text: str) -> bytes:
    """One unfragmented websocket text frame (RFC 6455 §5.2).

    Server-to-client frames are not masked, so the same bytes are valid on
    every connection: a change is framed once, not once per client.
    """
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes([0x81, size])
    elif size < 1 << 16:
        header = bytes([0x81, 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 127]) + size.to_bytes(8, "big")
    return header + payload


class Relay:
    """One per server process: receives changes once, fans out to local consumers."""

    current: Relay | None = None

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started: asyncio.Task | None = None
        # Consumers by (group, language): each gets its language's fragments.
        self.members: dict[tuple[str, str], set] = defaultdict(set)
        self.seen: dict[int, float] = {}
        self.snapshots: dict[tuple[str, str], str] = {}
        self.snapshot_locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.tasks: list[asyncio.Task] = []
        self.last_id = 0
        # One thread, one database connection, kept open: the outbox poll runs
        # twice a second and must not pay for a new connection each time.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-relay")

    async def db(self, function, *args):
        """Run a database function on the relay's own thread; drop a broken connection."""

        def run():
            try:
                return function(*args)
            except Exception:
                connections.close_all()
                raise

        return await self.loop.run_in_executor(self.executor, run)


    @classmethod
    async def get(cls) -> Relay:
        """The process's one Relay, started by the first client. Clients that
        connect while it starts (hundreds at once after a restart) wait for
        that same start instead of each starting a Relay of their own."""
        loop = asyncio.get_running_loop()
        relay = cls.current
        if relay is None or relay.loop is not loop or loop.is_closed():
            # Registered before the first await: a storm of connects at start-up
            # shares one relay instead of each starting its own.
            relay = cls.current = cls()
            relay.loop = loop
            relay.started = loop.create_task(relay.start())
        try:
            await asyncio.shield(relay.started)
        except Exception:
            # The database was unreachable at start: the next connect tries again.
            if cls.current is relay:
                cls.current = None
            raise
        return relay

    async def start(self) -> None:
        # What happened before this process listened is in the snapshots.
        self.last_id, already = await self.db(_changes_so_far)
        self.seen = dict.fromkeys(already, self.loop.time())
        self.tasks = [self.loop.create_task(self._listen()), self.loop.create_task(self._poll())]
        if settings.LIVE_STATS_SECONDS > 0:
            self.tasks.append(self.loop.create_task(self._report()))
        # Clients per group, recorded in the shared cache for the console's "open pages".
        self.tasks.append(self.loop.create_task(live_census.keep(self)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.loop.run_in_executor(self.executor, connections.close_all)
        self.executor.shutdown(wait=False)
        if Relay.current is self:
            Relay.current = None

    def join(self, consumer, group: str, language: str = "") -> None:
        self.members[(group, language or settings.LANGUAGE_CODE)].add(consumer)

    def leave(self, consumer, group: str, language: str = "") -> None:
        key = (group, language or settings.LANGUAGE_CODE)
        members = self.members.get(key)
        if members is not None:
            members.discard(consumer)
            if not members:
                del self.members[key]

    async def snapshot(self, group: str, language: str = "") -> str | None:
        """A fresh rendering for a connecting client; rendered once per change
        and language, not per client."""
        key = (group, language or settings.LANGUAGE_CODE)
        if key in self.snapshots:
            return self.snapshots[key]
        async with self.snapshot_locks[key]:
            if key not in self.snapshots:
                html = await self.db(render_group_snapshot, *key)
                if html is None:
                    return None
                self.snapshots[key] = html
            return self.snapshots[key]

    def deliver(self, change_id: int, fragments: dict[str, dict[str, str]]) -> None:
        """Hand a change to every local member of each group it touches, once,
        each in its language: one frame per group and language."""
        if change_id in self.seen:
            return
        self.seen[change_id] = self.loop.time()
        self.last_id = max(self.last_id, change_id)
        # Any change may alter what a snapshot shows (the banner counts areas).
        self.snapshots.clear()
        for group, by_language in fragments.items():
            for language, html in by_language.items():
                members = self.members.get((group, language))
                if not members:
                    continue
                frame = text_frame(html)
                for consumer in list(members):
                    consumer.push(html, frame)

    async def _listen(self) -> None:
        """Changes announced on the channel layer: the fast path."""
        layer = get_channel_layer()
        while True:
            try:
                channel = await layer.new_channel()
                await layer.group_add(RELAY_GROUP, channel)
                while True:
                    message = await layer.receive(channel)
                    if message.get("type") == "live.change":
                        self.deliver(message["id"], message["fragments"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("channel layer receive failed; retrying", exc_info=True)
                await asyncio.sleep(1 + random.random())

    async def _poll(self) -> None:
        """The outbox: the slow path that nothing can lose."""
        while True:
            await asyncio.sleep(poll_seconds())
            try:
                rows = await self.db(_unseen_changes, self.last_id, set(self.seen))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox poll failed; retrying", exc_info=True)
                continue
            for change_id, fragments in rows:
                self.deliver(change_id, fragments)
            self._forget_old()

    def stats(self) -> dict:
        """What this process holds: for the soak benchmark and for diagnosis."""
        return {
            "clients": sum(len(members) for members in self.members.values()),
            "groups": len(self.members),
            "tasks": len(asyncio.all_tasks(self.loop)),
            "seen": len(self.seen),
            "snapshots": len(self.snapshots),
            "last_id": self.last_id,
        }

    async def _report(self) -> None:
        """One log line every LIVE_STATS_SECONDS: flat numbers mean nothing leaks."""
        while True:
            await asyncio.sleep(settings.LIVE_STATS_SECONDS)
            log.info("live relay %s", " ".join(f"{key}={value}" for key, value in self.stats().items()))

    def _forget_old(self) -> None:
        horizon = self.loop.time() - 2 * POLL_WINDOW.total_seconds()
        for change_id in [cid for cid, seen_at in self.seen.items() if seen_at < horizon]:
            del self.seen[change_id]


def _changes_so_far() -> tuple[int, list[int]]:
    recent = list(LiveChange.objects.filter(created_at__gte=timezone.now() - POLL_WINDOW).values_list("id", flat=True))
    latest = LiveChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return latest, recent


def _unseen_changes(last_id: int, seen: set[int]) -> list[tuple[int, dict]]:
    recent = Q(created_at__gte=timezone.now() - POLL_WINDOW) | Q(id__gt=last_id)
    ids = set(LiveChange.objects.filter(recent).values_list("id", flat=True))
    unseen = sorted(ids - seen)
    if not unseen:
        return []
    return list(LiveChange.objects.filter(id__in=unseen).order_by("id").values_list("id", "fragments"))
