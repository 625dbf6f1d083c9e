"""Every public URL: pages for people (views), machine-readable answers (api)
and the polling fallback on the websocket paths (live)."""

from django.urls import path, re_path
from django.views.i18n import set_language

from .api import calendars, chat, feeds, health, ivr
from .api import manage as manage_api
from .api import statuspage as api
from .api import summary as summary_api
from .live import groups
from .live import poll as live
from .views import contact, embed, history, map, public, push, report, subscribe
from .views import summary as summary_views
from .views.origin import same_origin_post

urlpatterns = [
    path("", public.home, name="home"),
    path("areas/<slug:slug>/", public.area_detail, name="area"),
    path("incidents/<int:pk>/", public.incident_detail, name="incident"),
    path("search/", public.search, name="search"),
    path("history/", history.history, name="history"),
    path("summary/", summary_views.summary_page, name="summary"),
    path("api/summary/regions.json", summary_api.regions_json, name="api-summary-regions"),
    path("api/summary/regions.csv", summary_api.regions_csv, name="api-summary-regions-csv"),
    path("map/", map.map_page, name="map"),
    path("map/areas.geojson", map.areas_geojson, name="map-geojson"),
    path("map/locate/", map.locate, name="map-locate"),
    path("areas/<slug:slug>/report/", report.report, name="report"),
    path("areas/<slug:slug>/contact/", contact.contact, name="contact"),
    path("contact/requests/<str:token>/", contact.contact_request, name="contact-request"),
    path("media/team-photos/<str:name>", contact.team_photo, name="team-photo"),
    path("areas/<slug:slug>/report/sent/", report.report_sent, name="report-sent"),
    # Plain GET on the websocket paths: the polling fallback.
    path(groups.STATUS_ROUTE, live.status_snapshot, name="status-snapshot"),
    path(groups.AREA_ROUTE, live.area_snapshot, name="area-snapshot"),
    path(groups.INCIDENT_ROUTE, live.incident_snapshot, name="incident-snapshot"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The widget: the only pages other sites may frame.
    path("embed/", embed.status_widget, name="embed"),
    path("embed/areas/<slug:slug>/", embed.area_widget, name="embed-area"),
    path("embed.js", embed.embed_js, name="embed-js"),
    # Statuspage v2-compatible JSON (areas are components, regions are groups).
    path("api/v2/summary.json", api.v2_summary, name="api-v2-summary"),
    path("api/v2/status.json", api.v2_status, name="api-v2-status"),
    path("api/v2/components.json", api.v2_components, name="api-v2-components"),
    path("api/v2/incidents.json", api.v2_incidents, name="api-v2-incidents"),
    path("api/v2/incidents/unresolved.json", api.v2_incidents_unresolved, name="api-v2-incidents-unresolved"),
    path("api/v2/scheduled-maintenances.json", api.v2_scheduled_maintenances, name="api-v2-maintenances"),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        api.v2_scheduled_maintenances_upcoming,
        name="api-v2-maintenances-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        api.v2_scheduled_maintenances_active,
        name="api-v2-maintenances-active",
    ),
    # Native JSON and its OpenAPI document.
    path("api/areas/", api.areas, name="api-areas"),
    path("api/areas/<slug:slug>/", api.area, name="api-area"),
    path("api/lookup/", api.lookup, name="api-lookup"),
    path("api/openapi.json", api.openapi_document, name="api-openapi"),
    # Management API (token-authenticated) and the Alertmanager receiver.
    path("api/manage/incidents/", manage_api.incidents, name="api-manage-incidents"),
    path("api/manage/incidents/<int:pk>/updates/", manage_api.incident_updates, name="api-manage-updates"),
    # Inbound webhooks of the SMS and chat providers.
    path("webhooks/sms/", chat.sms_webhook, name="chat-sms"),
    path("webhooks/telegram/", chat.telegram_webhook, name="chat-telegram"),
    path("webhooks/whatsapp/", chat.whatsapp_webhook, name="chat-whatsapp"),
    path("webhooks/viber/", chat.viber_webhook, name="chat-viber"),
    path("webhooks/messenger/", chat.messenger_webhook, name="chat-messenger"),
    path("webhooks/sms-gateway/", chat.gateway_webhook, name="chat-sms-gateway"),
    path("api/manage/alertmanager/", manage_api.alertmanager_webhook, name="api-manage-alertmanager"),
    # Any other /api/ path answers a JSON 404.
    re_path(r"^api/(?P<rest>[\s\S]*)\Z", api.not_found),
    # Feeds.
    path("history.atom", feeds.history_atom, name="history-atom"),
    path("history.rss", feeds.history_rss, name="history-rss"),
    path("areas/<slug:slug>/history.atom", feeds.area_history_atom, name="area-history-atom"),
    path("areas/<slug:slug>/history.rss", feeds.area_history_rss, name="area-history-rss"),
    # Planned maintenance as calendars.
    path("maintenance.ics", calendars.maintenance_ics, name="maintenance-ics"),
    path("areas/<slug:slug>/maintenance.ics", calendars.area_maintenance_ics, name="area-maintenance-ics"),
    # Voice line (IVR).
    path("areas/<slug:slug>/announcement.txt", ivr.area_announcement, {"fmt": "txt"}, name="area-announcement-txt"),
    path("areas/<slug:slug>/announcement.ssml", ivr.area_announcement, {"fmt": "ssml"}, name="area-announcement-ssml"),
    path("announcement.txt", ivr.postcode_announcement, {"fmt": "txt"}, name="announcement-txt"),
    path("announcement.ssml", ivr.postcode_announcement, {"fmt": "ssml"}, name="announcement-ssml"),
]


urlpatterns += [
    path("subscribe/", subscribe.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", subscribe.confirm, name="subscribe-confirm"),
    path("subscribe/unsubscribe/<str:token>/", subscribe.unsubscribe, name="subscribe-unsubscribe"),
    path("subscribe/manage/<str:token>/", subscribe.manage, name="subscribe-manage"),
    # Browser notifications: the button's JSON and the service worker (site-wide scope).
    path("push/subscribe/", push.subscribe, name="push-subscribe"),
    path("push/unsubscribe/", push.unsubscribe, name="push-unsubscribe"),
    path("push/state/", push.state, name="push-state"),
    path("sw.js", push.service_worker, name="service-worker"),
    # The language switcher's form: no CSRF token (public pages stay cacheable),
    # the same origin check as the other anonymous public forms instead.
    path("language/", same_origin_post(set_language), name="set-language"),
]
