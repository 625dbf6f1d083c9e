"""HTTP and websocket routing for daphne."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")
django_asgi_app = get_asgi_application()

# Imported after the app registry is ready.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from outages.live.bounded import BoundedApp  # noqa: E402
from outages.live.fastpath import FastPathApp  # noqa: E402
from outages.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # A repeat of a cached public request is answered before Django's
        # handler; the rest take turns, a few at a time.
        "http": FastPathApp(BoundedApp(django_asgi_app, settings.WEB_CONCURRENT_REQUESTS)),
        # Browsers send Origin; a page on another site may not open our socket.
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
