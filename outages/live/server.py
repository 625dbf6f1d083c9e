"""The web process: daphne, with a shutdown that does not start a reconnect storm.

    python -m outages.live.server <daphne's arguments>   (what `manage.py serve` runs)

Plain daphne stops on SIGTERM by closing every socket at once. Its customers all
come back within status.js's first reconnect window (6 s) to the processes left,
which then spend that window in handshakes; and a process holding 10,000
sockets takes over ten seconds of its core to close them, while it still
accepts connects it is about to drop.

This server, on SIGTERM or SIGINT, first stops listening (nginx sends new
connects to the other processes at once; a refused connect costs a browser one
retry), then closes its websockets a share at a time over WEB_DRAIN_SECONDS with
1012 "service restart", then stops as daphne does. A second signal stops at once.
"""

from __future__ import annotations

import gc
import math
import time

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor

# Closes per second that need no spreading: a few open pages close at once.
UNSPREAD_RATE = 200
TICK = 0.1  # seconds between shares
SERVICE_RESTART = 1012  # RFC 6455 §7.4.1 (IANA registry): reconnect, the server restarts
# After the last close frame: time for the clients' replies (autobahn's close
# handshake timeout is 1 s) before the remaining sockets are simply dropped.
CLOSE_GRACE = 2.0


def drain_seconds() -> float:
    # Read when the signal comes: Django's settings are loaded by then (the ASGI app imported them).
    from django.conf import settings

    return float(settings.WEB_DRAIN_SECONDS)


def shares(total: int, seconds: float) -> int:
    """Sockets to close per tick so that `total` take about `seconds`, never
    fewer than UNSPREAD_RATE allows (a handful need no spreading)."""
    if total <= 0:
        return 0
    per_tick = total * TICK / seconds if seconds > 0 else total
    return min(total, max(1, math.ceil(max(per_tick, UNSPREAD_RATE * TICK))))


def freeze_start_up() -> None:
    """What start-up loaded (Django, every view through the URL map, the ASGI
    app) lives as long as the process: out of the collector's sight, a full
    collection walks only what came after it. A wave of connects or closes
    brings full collections on, and each one holds up every client's push."""
    from django.urls import get_resolver

    get_resolver().url_patterns
    gc.collect()
    gc.freeze()


class DrainingServer(Server):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ports = []
        self.draining = False

    def run(self):
        # Twisted binds its SIGTERM/SIGINT handlers when the reactor starts: these take their place.
        reactor.sigTerm = reactor.sigInt = self.signalled
        freeze_start_up()
        super().run()

    def listen_success(self, port):
        self.ports.append(port)
        return super().listen_success(port)

    def signalled(self, number, frame=None):
        reactor.callFromThread(self.stop if self.draining else self.drain)

    def drain(self) -> None:
        self.draining = True
        for port in self.ports:
            port.stopListening()
        sockets = [protocol for protocol in self.connections if isinstance(protocol, WebSocketProtocol)]
        self._close_share(sockets, shares(len(sockets), drain_seconds()))

    def _close_share(self, sockets: list, per_tick: int) -> None:
        share, rest = sockets[:per_tick], sockets[per_tick:]
        for protocol in share:
            if protocol.state == WebSocketProtocol.STATE_OPEN:
                # sendClose() accepts only 1000 and 3000-4999; 1012 is the registered code for this.
                protocol.sendCloseFrame(code=SERVICE_RESTART, isReply=False)
        if rest:
            reactor.callLater(TICK, self._close_share, rest, per_tick)
        else:
            self._stop_when_closed(time.monotonic() + CLOSE_GRACE)

    def _stop_when_closed(self, deadline: float) -> None:
        open_sockets = any(
            isinstance(protocol, WebSocketProtocol) and "disconnected" not in details
            for protocol, details in self.connections.items()
        )
        if open_sockets and time.monotonic() < deadline:
            reactor.callLater(TICK, self._stop_when_closed, deadline)
        else:
            self.stop()


def main() -> None:
    CommandLineInterface.server_class = DrainingServer
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
