"""The live push, publishing side: render once, keep in the outbox, announce.

How a change travels:
1. A service function commits; its on_commit hook calls publish_change().
2. publish_change() renders every changed fragment once (banner, area rows,
   area status cards, incident card and timeline), stores them as one
   LiveChange row (the outbox), and announces the row on the channel layer.
3. In every server process one Relay receives the row, from the channel layer
   at once or from the outbox poll if that message was lost (another process
   on the in-memory layer, Redis down; on SQLite the publisher wakes that poll
   at once, outages.live.wake), and hands the ready HTML to the
   consumers of that process. Consumers never touch the database for a push.

So the work per change is at most one render per language (settings.LANGUAGES;
only the groups and languages someone has open, census.listening) and one
layer message, whatever the number of clients; the per-client cost is one
websocket frame. A one-shot process (the `incident` command) renders nothing:
it names the groups the change touches (rendered_by_servers), and each server
renders them for its own clients, with its templates already compiled.

Each consumer joins its group in its own language, chosen at connect (?lang=
on the socket's URL, else the language cookie or Accept-Language), and
receives that language's fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer

from ..models import LiveChange
from . import census, pagecache, wake
from .fragments import render_change
from .groups import OUTBOX_KEEP, RELAY_GROUP
from .relay import Relay

log = logging.getLogger(__name__)


_servers_render = contextvars.ContextVar("servers_render", default=False)


@contextlib.contextmanager
def rendered_by_servers():
    """Within it, a change is announced unrendered, by the groups it touches,
    and each server renders those for its own clients (Relay.deliver). For a
    one-shot process (the operator's `incident` command): it would load the
    URL map and compile the templates for one render, while the servers have
    them ready."""
    token = _servers_render.set(True)
    try:
        yield
    finally:
        _servers_render.reset(token)


def publish_change(*, incident_id: int, area_ids) -> LiveChange:
    """Render once, keep it in the outbox, announce it. Called after commit."""
    # Only the groups and languages someone has open are rendered (census.listening).
    listening = {} if _servers_render.get() else census.listening()
    change = LiveChange.objects.create(fragments=render_change(incident_id, area_ids, listening))
    # Every cached public response is keyed by the status version: bump it
    # before anyone is told, so a reload after the push renders afresh.
    pagecache.bump(change.pk)
    message = {"type": "live.change", "id": change.pk, "fragments": change.fragments}
    _wake_local_relay(change)
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        # No layer reaches the other processes: bring their outbox polls forward.
        wake.everyone()
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


def prune_outbox(now) -> int:
    """Outbox rows are only needed for the poll window; keep an hour for diagnosis."""
    deleted, _ = LiveChange.objects.filter(created_at__lt=now - OUTBOX_KEEP).delete()
    return deleted
