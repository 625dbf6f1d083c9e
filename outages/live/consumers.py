"""Websocket consumers: join a group, send a snapshot on connect, forward pushes.

Nothing a client sends can change state: incoming frames are only counted
and size-checked, and an abusive client is closed.
"""

import asyncio
from collections import Counter
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings

from .. import client_address, i18n
from . import fragments, groups, wire
from .relay import Relay

wire.quiet()

MAX_CLIENT_FRAME = 1024
MAX_CLIENT_FRAMES_PER_MINUTE = 30
# Close code 4008 = policy violation (application range, so htmx does not
# hammer the server with instant reconnects).
POLICY_VIOLATION = 4008
# Past WEBSOCKETS_PER_ADDRESS open sockets from one address (per process):
# accepted, then closed with the same application-range policy code (daphne
# refuses to send 1008 itself: a server may send only 1000 or 3000-4999).
TOO_MANY_FROM_ADDRESS = POLICY_VIOLATION
_open_by_address: Counter = Counter()


class LiveConsumer(AsyncWebsocketConsumer):
    # Consumers do not talk to the channel layer: the process's Relay does,
    # once for all of them, so Redis work does not grow with the clients.
    channel_layer_alias = "__none__"

    group: str
    # Joined, waiting for its snapshot: pushes meanwhile are older than it.
    pending = False
    accepted = False
    wire = None

    def group_name(self) -> str:
        kwargs = self.scope["url_route"]["kwargs"]
        if "slug" in kwargs:
            return groups.area_group(kwargs["slug"])
        if "pk" in kwargs:
            return groups.incident_group(kwargs["pk"])
        return groups.STATUS_GROUP

    def language(self) -> str:
        """The client's language variant: ?lang= on the socket's URL (the page puts its
        own there), else the switcher's cookie, else Accept-Language."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if query.get("lang"):
            # link=1: the page came by a ?lang= link and keeps it in its links.
            return fragments.variant(i18n.client_language(query["lang"][0]), query.get("link") == ["1"])
        headers = dict(self.scope.get("headers") or [])
        cookies = headers.get(b"cookie", b"").decode("latin-1")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == settings.LANGUAGE_COOKIE_NAME and value:
                return i18n.client_language(value)
        return i18n.accepted_language(headers.get(b"accept-language", b"").decode("latin-1"))

    def snapshot_name(self) -> str:
        """/ws/status/?summary=1: the snapshot without the list of every area (the widget)."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if self.group == groups.STATUS_GROUP and query.get("summary") == ["1"]:
            return groups.STATUS_SUMMARY
        return self.group

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, in
        # a thread hop per message. These handlers never touch the database
        # (the Relay does, on its own thread), so 10,000 connects need no hops.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.address = client_address.network_of_scope(self.scope)
        cap = settings.WEBSOCKETS_PER_ADDRESS
        if cap and _open_by_address[self.address] >= cap:
            await self.accept()
            await self.close(code=TOO_MANY_FROM_ADDRESS)
            return
        _open_by_address[self.address] += 1
        self.counted = True
        self.group = self.group_name()
        self.lang = self.language()
        self.frames = 0
        self.window_start = asyncio.get_running_loop().time()
        self.relay = await Relay.get()
        name = self.snapshot_name()
        self.pending = True
        self.relay.join(self, self.group, self.lang)
        try:
            # A group this process has rendered is accepted at once: a storm of
            # connects completes its handshakes without waiting for a render.
            if self.relay.knows(name):
                await self._accept()
            snapshot = await self.relay.fresh_snapshot(name, self.lang)
            if snapshot is None:
                self.relay.leave(self, self.group, self.lang)
                await self.close(code=4004)
                return
            if not self.accepted:
                await self._accept()
                # Accepting yielded: a change may have landed meanwhile.
                snapshot = await self.relay.fresh_snapshot(name, self.lang)
                if snapshot is None:
                    self.relay.leave(self, self.group, self.lang)
                    await self.close(code=4004)
                    return
            # No await from the snapshot's freshness check to here: every later
            # change is pushed after it, none before.
            self.pending = False
            await self._send_snapshot(snapshot)
        except BaseException:
            # The connection failed under us (gone, or the server refused the
            # frame): it must not stay a member of the relay for ever.
            self.relay.leave(self, self.group, self.lang)
            raise

    async def _accept(self):
        await self.accept()
        self.accepted = True
        self.wire = _daphne_protocol(self.base_send)

    async def _send_snapshot(self, snapshot) -> None:
        wire = self.wire
        if wire is not None:
            if wire.state == WebSocketProtocol.STATE_OPEN and wire.transport is not None:
                _write_now(wire.transport, snapshot.frame)
            return
        await self.send(text_data=snapshot.html)

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            self.counted = False
            _open_by_address[self.address] -= 1
            if _open_by_address[self.address] <= 0:
                del _open_by_address[self.address]
        relay = getattr(self, "relay", None)
        if relay is not None:
            relay.leave(self, self.group, self.lang)

    def push(self, html: str, frame: bytes) -> None:
        """Called by the Relay with the change's HTML and its ready-made frame.

        Under daphne the frame goes straight onto the connection's transport:
        no task, no per-client encoding or framing, which is what lets one
        process keep up with thousands of clients. Elsewhere (tests with
        Channels' communicator, another server) the ASGI send is used.
        """
        if self.pending:
            return
        wire = self.wire
        if wire is not None:
            if wire.state == WebSocketProtocol.STATE_OPEN and wire.transport is not None:
                _write_now(wire.transport, frame)
            return
        asyncio.ensure_future(self.send(text_data=html))

    async def receive(self, text_data=None, bytes_data=None):
        now = asyncio.get_running_loop().time()
        if now - self.window_start > 60:
            self.window_start, self.frames = now, 0
        self.frames += 1
        size = len(text_data or "") + len(bytes_data or b"")
        if size > MAX_CLIENT_FRAME or self.frames > MAX_CLIENT_FRAMES_PER_MINUTE:
            await self.close(code=POLICY_VIOLATION)


def _daphne_protocol(send) -> WebSocketProtocol | None:
    """The autobahn protocol behind daphne's ASGI send callable, if that is what serves us.

    daphne passes send as partial(server.handle_reply, protocol)."""
    protocol = next(iter(getattr(send, "args", ())), None)
    return protocol if isinstance(protocol, WebSocketProtocol) else None


def _write_now(transport, frame: bytes) -> None:
    """Send at once when nothing is queued, as asyncio's transports do.

    Twisted's write() always buffers and registers the socket for a
    writable event first; over thousands of connections per change that
    bookkeeping, not the sending, is the cost. A partial send or a busy
    connection falls back to write(), which keeps the order."""
    send_now = getattr(transport, "writeSomeData", None)
    if send_now is None or transport.dataBuffer or transport._tempDataBuffer or transport.disconnecting:
        transport.write(frame)
        return
    sent = send_now(frame)
    if isinstance(sent, int) and sent < len(frame):
        transport.write(frame[sent:])
    # Otherwise sent is an error: the connection is closing and Twisted's
    # reader will see it; there is nothing to deliver to.
