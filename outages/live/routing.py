"""Websocket routes: the same paths as the polling fallback (outages.live.groups)."""

from django.urls import path

from .consumers import LiveConsumer
from .groups import AREA_ROUTE, INCIDENT_ROUTE, STATUS_ROUTE

websocket_urlpatterns = [
    path(STATUS_ROUTE, LiveConsumer.as_asgi()),
    path(AREA_ROUTE, LiveConsumer.as_asgi()),
    path(INCIDENT_ROUTE, LiveConsumer.as_asgi()),
]
