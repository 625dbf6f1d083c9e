"""The relay: one per server process, it receives each change once (from the
channel layer, or from the outbox poll if that message was lost) and hands
the ready frames to the consumers of that process, without touching the
database. See outages.live.publish for the publishing side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from .. import i18n
from ..models import LiveChange
from . import census, wake
from .fragments import LINKED, for_client, render_group_snapshot, render_named_change, variant
from .groups import POLL_WINDOW, RELAY_GROUP, poll_seconds

log = logging.getLogger(__name__)


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


class Snapshot(NamedTuple):
    """A group's fresh state in one language, framed once for every client."""

    html: str
    frame: bytes


class Relay:
    """One per server process: receives changes once, fans out to local consumers."""

    current: Relay | None = None

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started: asyncio.Task | None = None
        # Consumers by (group, language variant): each gets its language's fragments,
        # with ?lang= in their links when its page had it (fragments.variant).
        self.members: dict[tuple[str, str], set] = defaultdict(set)
        self.seen: dict[int, float] = {}
        self.snapshots: dict[tuple[str, str], Snapshot] = {}
        self.snapshot_locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        # Counts the changes delivered: a snapshot is shared only while it is unchanged.
        self.generation = 0
        # Groups that rendered here: their connects are accepted before the snapshot.
        self.known: set[str] = set()
        self.tasks: list[asyncio.Task] = []
        # A change some of whose groups render here (render_here), and the changes
        # that came after it, handed out in order once it is done.
        self.rendering: asyncio.Task | None = None
        self.waiting: deque[dict] = deque()
        self.last_id = 0
        self.woken = asyncio.Event()
        self.wake_socket = None
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
        self.wake_socket = await self.db(wake.listen)
        if self.wake_socket is not None:
            self.loop.add_reader(self.wake_socket.fileno(), self._woken)
        self.tasks = [self.loop.create_task(self._listen()), self.loop.create_task(self._poll())]
        if settings.LIVE_STATS_SECONDS > 0:
            self.tasks.append(self.loop.create_task(self._report()))
        # Clients per group, recorded in the shared cache for the console's "open pages".
        self.tasks.append(self.loop.create_task(census.keep(self)))

    async def stop(self) -> None:
        tasks = [*self.tasks, *([self.rendering] if self.rendering is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.wake_socket is not None:
            self.loop.remove_reader(self.wake_socket.fileno())
            wake.close(self.wake_socket)
            self.wake_socket = None
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
        held = await self.fresh_snapshot(group, language)
        return held.html if held is not None else None

    def knows(self, group: str) -> bool:
        return group in self.known

    async def fresh_snapshot(self, group: str, language: str = "") -> Snapshot | None:
        """The group's state for a connecting client, rendered once per change
        and language and shared by every connect meanwhile. What it returns was
        rendered after the last change this relay delivered (a rendering that a
        change overtook is thrown away and done again), so a client that joined
        before asking misses nothing by dropping the pushes it got meanwhile."""
        key = (group, language or settings.LANGUAGE_CODE)
        while True:
            generation = self.generation
            held = self.snapshots.get(key)
            if held is not None:
                return held
            async with self.snapshot_locks[key]:
                if generation != self.generation or key in self.snapshots:
                    continue
                html = await self.db(render_group_snapshot, *key)
                if html is None:
                    return None
                self.known.add(group)
                if generation != self.generation:
                    continue
                held = self.snapshots[key] = Snapshot(html, text_frame(html))
                return held

    def deliver(self, change_id: int, fragments: dict[str, dict[str, str]]) -> None:
        """Hand a change to every local member of each group it touches, once,
        each in its language: one frame per group and language."""
        if change_id in self.seen:
            return
        self.seen[change_id] = self.loop.time()
        self.last_id = max(self.last_id, change_id)
        # Any change may alter what a snapshot shows (the banner counts areas).
        self.snapshots.clear()
        self.generation += 1
        if self.rendering is not None:
            # An earlier change is still rendering here: this one follows it.
            self.waiting.append(fragments)
            return
        self._hand_out(fragments)

    def _hand_out(self, fragments: dict[str, dict[str, str]]) -> None:
        unrendered = []
        for group, by_language in fragments.items():
            for language in i18n.languages():
                marked = by_language.get(language)
                # Pages opened by a ?lang= link keep it in the fragment's links; others do not.
                for client_variant in (variant(language, False), variant(language, True)):
                    members = self.members.get((group, client_variant))
                    if not members:
                        continue
                    if marked is None:
                        unrendered.append((group, client_variant))
                        continue
                    html = for_client(marked, client_variant)
                    _push_all(members, html, text_frame(html))
        if unrendered:
            # Left to this server: by a publisher that renders nothing itself (a
            # one-shot command), or for clients its census had not seen yet
            # (they joined within its last second).
            self.rendering = self.loop.create_task(self._render_here(list(fragments), unrendered))

    async def _render_here(self, groups: list[str], keys: list[tuple[str, str]]) -> None:
        listening: dict[str, set[str]] = defaultdict(set)
        for group, client_variant in keys:
            listening[group].add(client_variant.removesuffix(LINKED))
        try:
            rendered = await self.db(render_named_change, groups, dict(listening))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("live: could not render %s here for its clients", sorted(listening), exc_info=True)
            rendered = {}
        for group, client_variant in keys:
            marked = rendered.get(group, {}).get(client_variant.removesuffix(LINKED))
            if marked is not None:
                html = for_client(marked, client_variant)
                _push_all(self.members.get((group, client_variant), ()), html, text_frame(html))
        self.rendering = None
        while self.waiting and self.rendering is None:
            self._hand_out(self.waiting.popleft())

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

    def _woken(self) -> None:
        """A publisher in another process committed a change (outages.live.wake)."""
        try:
            while True:
                self.wake_socket.recv(16)
        except OSError:
            pass  # drained (BlockingIOError), or the socket is going away
        self.woken.set()

    async def _poll(self) -> None:
        """The outbox: the slow path that nothing can lose; at once when woken."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), poll_seconds())
            self.woken.clear()
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


def _push_all(members, html: str, frame: bytes) -> None:
    """The frame to every member; one that fails (its connection gone under it)
    keeps it from none of the others, nor from the changes after it."""
    for consumer in list(members):
        try:
            consumer.push(html, frame)
        except Exception:
            log.warning("live: a push failed", exc_info=True)


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
