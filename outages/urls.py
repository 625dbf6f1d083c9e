from django.urls import path

from .views import embed, health, history, live, map, public, report

urlpatterns = [
    path("", public.home, name="home"),
    path("areas/<slug:slug>/", public.area_detail, name="area"),
    path("incidents/<int:pk>/", public.incident_detail, name="incident"),
    path("search/", public.search, name="search"),
    path("history/", history.history, name="history"),
    path("map/", map.map_page, name="map"),
    path("map/areas.geojson", map.areas_geojson, name="map-geojson"),
    path("map/locate/", map.locate, name="map-locate"),
    path("areas/<slug:slug>/report/", report.report, name="report"),
    path("areas/<slug:slug>/report/sent/", report.report_sent, name="report-sent"),
    # Plain GET on the websocket paths: the polling fallback.
    path("ws/status/", live.status_snapshot, name="status-snapshot"),
    path("ws/areas/<slug:slug>/", live.area_snapshot, name="area-snapshot"),
    path("ws/incidents/<int:pk>/", live.incident_snapshot, name="incident-snapshot"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The widget: the only pages other sites may frame.
    path("embed/", embed.status_widget, name="embed"),
    path("embed/areas/<slug:slug>/", embed.area_widget, name="embed-area"),
    path("embed.js", embed.embed_js, name="embed-js"),
]
