from django.urls import path

from .views import health, live, public

urlpatterns = [
    path("", public.home, name="home"),
    path("areas/<slug:slug>/", public.area_detail, name="area"),
    path("incidents/<int:pk>/", public.incident_detail, name="incident"),
    path("search/", public.search, name="search"),
    # Plain GET on the websocket paths: the polling fallback.
    path("ws/status/", live.status_snapshot, name="status-snapshot"),
    path("ws/areas/<slug:slug>/", live.area_snapshot, name="area-snapshot"),
    path("ws/incidents/<int:pk>/", live.incident_snapshot, name="incident-snapshot"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

from .views import subscribe  # noqa: E402

urlpatterns += [
    path("subscribe/", subscribe.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", subscribe.confirm, name="subscribe-confirm"),
    path("subscribe/unsubscribe/<str:token>/", subscribe.unsubscribe, name="subscribe-unsubscribe"),
    path("subscribe/manage/<str:token>/", subscribe.manage, name="subscribe-manage"),
]
