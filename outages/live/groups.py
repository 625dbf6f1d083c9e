"""Live groups and their paths: one name per thing a page follows.

A page follows one group: the whole service (status), an area or an
incident. Its websocket and its polling fallback share one path, built
here and nowhere else (routing, pages and the map read it from here).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import translation

from .. import i18n

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


def area_slug(group: str) -> str | None:
    """The area an area group follows ("area-<slug>"), else None."""
    return group.removeprefix("area-") if group.startswith("area-") else None


def incident_pk(group: str) -> int | None:
    """The incident an incident group follows ("incident-<pk>"), else None."""
    return int(group.removeprefix("incident-")) if group.startswith("incident-") else None


def status_path(*, summary: bool = False) -> str:
    return "/ws/status/?summary=1" if summary else "/ws/status/"


def area_path(slug: str) -> str:
    return f"/ws/areas/{slug}/"


def incident_path(pk: int) -> str:
    return f"/ws/incidents/{pk}/"


# Routes (Django path syntax) for the websockets and the polling fallback.
STATUS_ROUTE = "ws/status/"
AREA_ROUTE = "ws/areas/<slug:slug>/"
INCIDENT_ROUTE = "ws/incidents/<int:pk>/"
# The map asks for any area's snapshot under this prefix.
AREA_PREFIX = "/ws/areas/"


def live_url(path: str) -> str:
    """A websocket (and polling) path that carries the page's language: ?lang=hu."""
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}lang={i18n.client_language(translation.get_language())}"
