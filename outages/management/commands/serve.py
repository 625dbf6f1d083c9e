"""Start the web process the one way everything starts it: `make run`, the
systemd units, the README and every benchmark.

daphne's defaults suit a quiet site, not a storm: Twisted listens with a
backlog of 50 (a burst of connects beyond it is refused or retried seconds
later) and a websocket handshake has 5 seconds. This builds daphne's command
line from settings (WEB_* in .env.example) and replaces itself with it, so
signals reach the server directly. The server is daphne's, run by
outages.live.server, which on SIGTERM drains its websockets instead of
dropping them all at once.
"""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


def daphne_command(*, host: str, port: int, behind_proxy: bool) -> list[str]:
    command = [
        sys.executable,
        "-m",
        # daphne's own command line, with a shutdown that drains (outages/live/server.py).
        "outages.live.server",
        # Twisted endpoint syntax: the only way to set the listen backlog.
        "-e",
        f"tcp:port={port}:interface={host}:backlog={settings.WEB_LISTEN_BACKLOG}",
        "--websocket_connect_timeout",
        str(settings.WEB_WEBSOCKET_CONNECT_TIMEOUT),
        "--ping-interval",
        str(settings.WEB_PING_INTERVAL),
        "--ping-timeout",
        str(settings.WEB_PING_TIMEOUT),
        "--application-close-timeout",
        "10",
    ]
    return [*command, "statuspage.asgi:application"]


def daphne_environment(*, behind_proxy: bool) -> dict[str, str]:
    """Behind the proxy we run (it sets X-Forwarded-For to the address it saw),
    the app counts one trusted proxy (outages/client_address.py). Not daphne's
    --proxy-headers: it takes the leftmost entry, which a client can write."""
    if not behind_proxy:
        return {}
    return {"TRUSTED_PROXIES": str(max(1, settings.TRUSTED_PROXIES))}


class Command(BaseCommand):
    help = "Serve the site with daphne, tuned for a storm of connects (the shipped way to start it)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.PORT, help="port (default: PORT, 8000)")
        parser.add_argument(
            "--behind-proxy",
            action="store_true",
            default=settings.WEB_BEHIND_PROXY,
            help="trust X-Forwarded-For from the reverse proxy (default: WEB_BEHIND_PROXY)",
        )
        parser.add_argument("--print", action="store_true", dest="print_only", help="print the command, do not run it")

    def handle(self, *args, host, port, behind_proxy, print_only, **options):
        command = daphne_command(host=host, port=port, behind_proxy=behind_proxy)
        environment = daphne_environment(behind_proxy=behind_proxy)
        if print_only:
            self.stdout.write(" ".join([*(f"{name}={value}" for name, value in environment.items()), *command]))
            return
        sys.stdout.flush()
        os.environ.update(environment)
        os.execv(command[0], command)
