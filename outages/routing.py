from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/status/", LiveConsumer.as_asgi()),
    path("ws/areas/<slug:slug>/", LiveConsumer.as_asgi()),
    path("ws/incidents/<int:pk>/", LiveConsumer.as_asgi()),
]
