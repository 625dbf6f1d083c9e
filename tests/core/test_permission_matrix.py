"""The permission matrix: every URL pattern of the URLconf, every admin action
and every API route, tried by a superuser, an operator of the North team, an
operator of the South team and an anonymous client, against the objects of
each team. A route or action that the matrix does not list fails the test,
so a new path cannot arrive without its row.

Rules (checked against Django's own permissions and the team regions, not
against the code under test): anonymous gets the login page (or 401 on the
token API); an operator gets 403 where their user lacks the model's
permission, and never sees or changes another team's incident, maintenance
window, audit entry, report or token; public pages answer everyone alike;
nothing answers 500."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from outages import permissions, services
from outages.models import (
    AlertmanagerAlert,
    AuditEntry,
    ContactRequest,
    Incident,
    ProblemReport,
    ReportSettings,
    Team,
    TeamContact,
    TeamRegion,
    UpdateTemplate,
)
from outages.services import api_tokens, contact_requests
from outages.services import problem_reports as reports
from tests import factories

pytestmark = pytest.mark.django_db

ACTORS = ("superuser", "north", "south", "anonymous")
TEAMS = ("north", "south")


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def all_routes() -> list[str]:
    return list(dict.fromkeys(walk(get_resolver().url_patterns)))


# The world -----------------------------------------------------------------------


@pytest.fixture
def world(django_user_model):
    group = permissions.operator_group()
    data = {"superuser": django_user_model.objects.create_superuser("root", "root@example.com", "pw")}
    service = factories.service("Fiber", slug="fiber")
    data["template"] = UpdateTemplate.objects.create(name="Crew on site", message="Crew on site.", status="identified")
    for team_name in TEAMS:
        region = factories.region(team_name.title(), slug=team_name)
        area = factories.area(f"{team_name.title()}town", region_obj=region, slug=f"{team_name}town")
        quiet = factories.area(f"{team_name.title()}vale", region_obj=region, slug=f"{team_name}vale")
        team = Team.objects.create(name=f"{team_name} ops")
        TeamRegion.objects.create(team=team, region=region)
        TeamContact.objects.create(team=team, hours={str(day): ["00:00", "23:59"] for day in range(7)})
        user = django_user_model.objects.create_user(f"{team_name}-op", password="pw", is_staff=True)
        user.groups.add(group)
        team.members.add(user)
        incident = factories.incident(area, title=f"{team_name.title()} secret outage")
        start = timezone.now() + timedelta(days=2)
        window = services.schedule_maintenance(
            title=f"{team_name.title()} secret works",
            areas=[area],
            scheduled_for=start,
            scheduled_until=start + timedelta(hours=2),
        )
        for n in range(3):
            reports.submit(
                area=quiet,
                service=service,
                problem="no_service",
                source=reports.Source(client=f"{team_name}-{n}", browser=f"{team_name}-{n}"),
            )
        data[team_name] = {
            "user": user,
            "area": area,
            "quiet": quiet,
            "incident": incident,
            "window": window,
            "report": ProblemReport.objects.filter(area=quiet).first(),
            "audit": AuditEntry.objects.filter(incident=incident).first(),
            "token_obj": None,
            "contact_request": contact_requests.book(
                area=area, kind="callback", phone="+36301234567", reason=f"{team_name.title()} secret callback"
            ).request,
        }
    for name in ("superuser", "north", "south"):
        user = data["superuser"] if name == "superuser" else data[name]["user"]
        token, raw = api_tokens.create_token(user=user, name=f"{name} token")
        data[f"{name}_token"] = raw
        if name != "superuser":
            data[name]["token_obj"] = token
    # Operators may manage their own tokens: the admin must still show only theirs.
    for name in TEAMS:
        data[name]["user"].user_permissions.add(
            *Permission.objects.filter(codename__in=["view_apitoken", "change_apitoken", "add_apitoken"])
        )
    settings_row = ReportSettings.load()
    settings_row.hot_min_sources = 2
    settings_row.save()
    return data


def client_for(world, actor) -> Client:
    client = Client()
    if actor == "superuser":
        client.force_login(world["superuser"])
    elif actor != "anonymous":
        client.force_login(world[actor]["user"])
    return client


def user_of(world, actor):
    return {"superuser": world["superuser"], "anonymous": None}.get(actor) or world[actor]["user"]


def to_login(response) -> bool:
    return response.status_code == 302 and "/admin/login/" in response["Location"]


# Admin models: which ones follow the team, and how ---------------------------------

# model label -> how its objects belong to a team (None: not team data; Django's permissions decide).
MODEL_RULES = {
    "auth.group": None,
    "auth.user": None,
    "django_tasks_database.dbtaskresult": None,
    "outages.apitoken": "owner",
    "outages.creditpolicy": None,
    "outages.subscriber": None,
    "outages.notificationevent": None,
    "outages.delivery": None,
    "outages.problemreport": "report",
    "outages.reportsettings": None,
    "outages.incident": "incident",
    "outages.maintenancewindow": "window",
    "outages.region": None,
    "outages.servicearea": None,
    "outages.service": None,
    "outages.team": None,
    "outages.updatetemplate": None,
    "outages.auditentry": "audit",
    # The live "updates due" page: its own views (below), filtered by the team.
    "outages.updatedue": None,
    "outages.stormsettings": None,
    "outages.teamcontact": None,
    "outages.waitcreditpolicy": None,
    "outages.waitcredit": None,
    # Callbacks and messages (phone numbers, texts): their team's members only.
    "outages.contactrequest": "contact",
    # Conversations: the channel accounts, the conversation log and its counters (Django's permissions).
    "outages.chatchannelconfig": None,
    "outages.conversation": None,
    "outages.chatcounter": None,
}
# Pages whose permission is another model's: the updates-due list is the incidents'.
PERMISSION_OF = {"outages.updatedue": "incident"}
MODEL_SUFFIXES = (
    "",
    "add/",
    "<path:object_id>/history/",
    "<path:object_id>/delete/",
    "<path:object_id>/change/",
    "<path:object_id>/",
)

# Every other route, by wing: the matrix names each one.
ADMIN_ROUTES = {
    "admin/",
    "admin/login/",
    "admin/logout/",
    "admin/password_change/",
    "admin/password_change/done/",
    "admin/autocomplete/",
    "admin/jsi18n/",
    "admin/r/<path:content_type_id>/<path:object_id>/",
    "admin/auth/user/<id>/password/",
    "admin/outages/creditpolicy/export/",
    "admin/outages/problemreport/hot/",
    "admin/outages/problemreport/hot/fragment/",
    "admin/outages/problemreport/hot/<int:area_id>/open/",
    "admin/outages/incident/history-report/",
    "admin/outages/incident/<int:pk>/post-template/<int:template_id>/",
    "admin/outages/maintenancewindow/<int:pk>/post-template/<int:template_id>/",
    "admin/outages/servicearea/import/",
    "admin/outages/updatedue/fragment/",
    "admin/outages/contactrequest/queue/",
    "admin/outages/contactrequest/queue/fragment/",
    "admin/outages/contactrequest/queue/<int:pk>/",
    "admin/^(?P<app_label>auth|django_tasks_database|outages)/$",
    "admin/(?P<url>.*)$",
}
PUBLIC_ROUTES = {
    "": "/",
    "areas/<slug:slug>/": "/areas/{slug}/",
    "incidents/<int:pk>/": "/incidents/{pk}/",
    "search/": "/search/?q=town",
    "history/": "/history/",
    "map/": "/map/",
    "map/areas.geojson": "/map/areas.geojson",
    "map/locate/": "/map/locate/?lat=47.5&lon=19.05",
    "areas/<slug:slug>/report/": "/areas/{slug}/report/",
    "areas/<slug:slug>/report/sent/": "/areas/{slug}/report/sent/",
    "areas/<slug:slug>/contact/": "/areas/{slug}/contact/",
    "contact/requests/<str:token>/": "/contact/requests/bad/",
    "media/team-photos/<str:name>": "/media/team-photos/none.png",
    "subscribe/": "/subscribe/",
    "subscribe/confirm/<str:token>/": "/subscribe/confirm/bad/",
    "subscribe/unsubscribe/<str:token>/": "/subscribe/unsubscribe/bad/",
    "subscribe/manage/<str:token>/": "/subscribe/manage/bad/",
    "embed/": "/embed/",
    "embed/areas/<slug:slug>/": "/embed/areas/{slug}/",
    "embed.js": "/embed.js",
    "summary/": "/summary/",
    "sw.js": "/sw.js",
    # Browser notifications: POST only, the same for everyone (a GET is refused alike).
    "push/subscribe/": "/push/subscribe/",
    "push/unsubscribe/": "/push/unsubscribe/",
    "push/state/": "/push/state/",
}
LIVE_ROUTES = {
    "ws/status/": "/ws/status/",
    "ws/areas/<slug:slug>/": "/ws/areas/{slug}/",
    "ws/incidents/<int:pk>/": "/ws/incidents/{pk}/",
}
API_ROUTES = {
    "healthz": "/healthz",
    "readyz": "/readyz",
    "api/v2/summary.json": "/api/v2/summary.json",
    "api/v2/status.json": "/api/v2/status.json",
    "api/v2/components.json": "/api/v2/components.json",
    "api/v2/incidents.json": "/api/v2/incidents.json",
    "api/v2/incidents/unresolved.json": "/api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json": "/api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json": "/api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json": "/api/v2/scheduled-maintenances/active.json",
    "api/areas/": "/api/areas/",
    "api/areas/<slug:slug>/": "/api/areas/{slug}/",
    "api/lookup/": "/api/lookup/?postcode=1051",
    "api/openapi.json": "/api/openapi.json",
    "^api/(?P<rest>[\\s\\S]*)\\Z": "/api/nothing-here/",
    "history.atom": "/history.atom",
    "history.rss": "/history.rss",
    "areas/<slug:slug>/history.atom": "/areas/{slug}/history.atom",
    "areas/<slug:slug>/history.rss": "/areas/{slug}/history.rss",
    "areas/<slug:slug>/announcement.txt": "/areas/{slug}/announcement.txt",
    "areas/<slug:slug>/announcement.ssml": "/areas/{slug}/announcement.ssml",
    "announcement.txt": "/announcement.txt?postcode=1051",
    "announcement.ssml": "/announcement.ssml?postcode=1051",
    "api/summary/regions.json": "/api/summary/regions.json",
    "api/summary/regions.csv": "/api/summary/regions.csv",
    "maintenance.ics": "/maintenance.ics",
    "areas/<slug:slug>/maintenance.ics": "/areas/{slug}/maintenance.ics",
}
# Provider webhooks: only a provider's signature counts; a session or a token never does.
PROVIDER_ROUTES = {
    "webhooks/sms/",
    "webhooks/telegram/",
    "webhooks/whatsapp/",
    "webhooks/viber/",
    "webhooks/messenger/",
    "webhooks/sms-gateway/",
}
TOKEN_ROUTES = {"api/manage/incidents/", "api/manage/incidents/<int:pk>/updates/", "api/manage/alertmanager/"}
I18N_ROUTES = {"i18n/setlang/", "language/"}

# Admin actions, by model label: every action the site offers must be listed.
ACTIONS = {
    "auth.group": {"delete_selected"},
    "auth.user": {"delete_selected"},
    "outages.apitoken": {"delete_selected", "revoke_selected"},
    "outages.creditpolicy": {"delete_selected"},
    "outages.teamcontact": {"delete_selected"},
    "outages.waitcreditpolicy": {"delete_selected"},
    "outages.subscriber": {"delete_selected"},
    "outages.notificationevent": {"delete_selected"},
    "outages.delivery": {"delete_selected", "retry_now"},
    "outages.problemreport": {"delete_selected"},
    "outages.incident": {"add_areas", "delete_selected", "post_update_selected", "resolve_selected"},
    "outages.maintenancewindow": {"delete_selected", "resolve_selected"},
    "outages.region": {"delete_selected"},
    "outages.servicearea": {"delete_selected"},
    "outages.service": {"delete_selected"},
    "outages.team": {"delete_selected"},
    "outages.updatetemplate": {"delete_selected"},
    "outages.chatchannelconfig": {"delete_selected"},
    "outages.conversation": {"delete_selected"},
}


def model_routes() -> dict[str, tuple[str, str]]:
    # Only the routes a ModelAdmin really has (a read-only page may offer its list alone).
    existing = set(all_routes())
    routes = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for suffix in MODEL_SUFFIXES:
            if prefix + suffix in existing:
                routes[prefix + suffix] = (label, suffix)
    return routes


WINGS = {
    "admin": lambda: set(ADMIN_ROUTES) | set(model_routes()),
    "views (public pages)": lambda: set(PUBLIC_ROUTES),
    "live (polling snapshots)": lambda: set(LIVE_ROUTES),
    "api (JSON, feeds, voice, health)": lambda: set(API_ROUTES),
    "api (token: manage, Alertmanager)": lambda: set(TOKEN_ROUTES),
    "api (provider-signed: SMS and chat)": lambda: set(PROVIDER_ROUTES),
    "i18n": lambda: set(I18N_ROUTES),
}


def test_the_matrix_lists_every_route_and_every_admin_model_and_action():
    listed = set().union(*(wing() for wing in WINGS.values()))
    routes = set(all_routes())
    assert routes - listed == set(), "routes the permission matrix does not cover"
    assert listed - routes == set(), "routes the matrix lists that no longer exist"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(MODEL_RULES), "admin models the matrix does not cover"
    request = RequestFactory().get("/admin/")
    from django.contrib.auth import get_user_model

    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    offered = {}
    for model, model_admin in admin.site._registry.items():
        names = set(model_admin.get_actions(request))
        if names:
            offered[model._meta.label_lower] = names
    assert offered == ACTIONS, "admin actions the matrix does not cover"
    counts = Counter({name: len(wing()) for name, wing in WINGS.items()})
    print(
        "\npermission matrix, routes per wing: "
        + ", ".join(f"{name} {n}" for name, n in counts.items())
        + f"; {sum(counts.values())} routes, {sum(len(a) for a in ACTIONS.values())} admin actions"
    )


# Public, live and API routes: everyone alike ---------------------------------------


def _public_url(template: str, world, team: str) -> str:
    return template.format(slug=world[team]["area"].slug, pk=world[team]["incident"].pk)


@pytest.mark.parametrize("route", sorted({**PUBLIC_ROUTES, **LIVE_ROUTES, **API_ROUTES}))
def test_public_routes_answer_every_actor_alike(world, route):
    template = {**PUBLIC_ROUTES, **LIVE_ROUTES, **API_ROUTES}[route]
    for team in TEAMS:
        url = _public_url(template, world, team)
        answers = {actor: client_for(world, actor).get(url).status_code for actor in ACTORS}
        assert len(set(answers.values())) == 1, (url, answers)
        assert next(iter(answers.values())) < 500, (url, answers)


@pytest.mark.parametrize("route", sorted(PROVIDER_ROUTES))
def test_provider_webhooks_refuse_everyone_without_the_providers_signature(world, route, settings):
    settings.TWILIO_AUTH_TOKEN = settings.TELEGRAM_SECRET_TOKEN = "secret"
    settings.WHATSAPP_APP_SECRET = settings.WHATSAPP_VERIFY_TOKEN = "secret"
    settings.VIBER_AUTH_TOKEN = settings.MESSENGER_APP_SECRET = settings.MESSENGER_VERIFY_TOKEN = "secret"
    settings.SMS_GATEWAY_WEBHOOK_SECRET = "secret"
    for actor in ACTORS:
        client = client_for(world, actor)
        assert client.post("/" + route, {"From": "+3611", "Body": "1051"}).status_code == 403, actor
        assert client.get("/" + route).status_code in (403, 405), actor


# Token API: the token's user, on that user's team ----------------------------------


def _token_post(world, actor, path, body):
    headers = {} if actor == "anonymous" else {"authorization": f"Bearer {world[f'{actor}_token']}"}
    return Client().post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize("route", sorted(TOKEN_ROUTES))
def test_token_routes_act_only_on_the_tokens_team(world, route):
    for actor in ACTORS:
        # A session never counts: only the token does.
        assert (
            client_for(world, actor)
            .post("/" + route.replace("<int:pk>", "1"), "{}", content_type="application/json")
            .status_code
            == 401
        )
        for team in TEAMS:
            allowed = actor == "superuser" or actor == team
            if route == "api/manage/incidents/":
                response = _token_post(
                    world,
                    actor,
                    "/api/manage/incidents/",
                    {"title": f"{actor} opens", "areas": [world[team]["area"].slug]},
                )
                expected = 401 if actor == "anonymous" else (201 if allowed else 403)
                assert response.status_code == expected, (actor, team, response.content)
            elif route == "api/manage/incidents/<int:pk>/updates/":
                incident = world[team]["incident"]
                response = _token_post(
                    world,
                    actor,
                    f"/api/manage/incidents/{incident.pk}/updates/",
                    {"status": "identified", "message": f"{actor} was here"},
                )
                expected = 401 if actor == "anonymous" else (201 if allowed else 404)
                assert response.status_code == expected, (actor, team, response.content)
                assert incident.updates.filter(message=f"{actor} was here").exists() == allowed
            else:
                alert = {
                    "status": "firing",
                    "fingerprint": f"{actor}-{team}",
                    "startsAt": "2026-01-01T10:00:00Z",
                    "labels": {"area": world[team]["area"].slug, "alertname": "Down"},
                }
                response = _token_post(world, actor, "/api/manage/alertmanager/", {"alerts": [alert]})
                if actor == "anonymous":
                    assert response.status_code == 401
                    continue
                assert response.status_code == 200
                assert bool(response.json()["opened"]) == allowed, (actor, team, response.json())
                assert AlertmanagerAlert.objects.filter(fingerprint=f"{actor}-{team}").exists() == allowed


# Admin model routes ----------------------------------------------------------------


def _object_for(world, label, rule, team):
    if rule == "incident":
        return world[team]["incident"]
    if rule == "window":
        return world[team]["window"]
    if rule == "report":
        return world[team]["report"]
    if rule == "audit":
        return world[team]["audit"]
    if rule == "owner":
        return world[team]["token_obj"]
    if rule == "contact":
        return world[team]["contact_request"]
    model = admin.site._registry and next(m for m in admin.site._registry if m._meta.label_lower == label)
    return model._default_manager.order_by("pk").first()


def _owned_by(world, rule, obj, actor) -> bool:
    """Whether the actor's team (or the actor) owns the object, by the team regions."""
    if actor == "superuser":
        return True
    user = world[actor]["user"]
    ids = permissions.region_ids(user)
    if rule in ("incident", "window"):
        return obj.incident_areas.filter(area__region_id__in=ids).exists()
    if rule == "report":
        return obj.area.region_id in ids
    if rule == "audit":
        return obj.incident.incident_areas.filter(area__region_id__in=ids).exists()
    if rule == "owner":
        return obj.user_id == user.pk
    if rule == "contact":
        return obj.team.members.filter(pk=user.pk).exists()
    return True


@pytest.mark.parametrize("route", sorted(model_routes()))
def test_admin_model_routes_follow_permissions_and_teams(world, route):
    label, suffix = model_routes()[route]
    rule = MODEL_RULES[label]
    app_label, model_name = label.split(".")
    codename = {"": "view", "add/": "add", "<path:object_id>/delete/": "delete"}.get(suffix, "view")
    for team in TEAMS:
        obj = _object_for(world, label, rule, team)
        pk = obj.pk if obj is not None else 999999
        url = "/" + route.replace("<path:object_id>", str(pk))
        for actor in ACTORS:
            response = client_for(world, actor).get(url)
            assert response.status_code < 500, (url, actor, response.status_code)
            if actor == "anonymous":
                assert to_login(response), (url, actor, response.status_code)
                continue
            user = user_of(world, actor)
            perm_model = PERMISSION_OF.get(label, model_name)
            may = user.has_perm(f"{app_label}.{codename}_{perm_model}") or (
                codename == "view" and user.has_perm(f"{app_label}.change_{perm_model}")
            )
            if not may:
                assert response.status_code in (302, 403), (url, actor, response.status_code)
                assert not to_login(response)
                continue
            if obj is None or rule is None or "object_id" not in suffix:
                continue
            if not _owned_by(world, rule, obj, actor):
                # Another team's object: as if it did not exist, and nothing of it shown.
                assert response.status_code in (302, 403, 404), (url, actor, response.status_code)
                assert str(obj) not in response.content.decode(errors="replace")
    # Lists show only the actor's team's rows.
    if rule is not None and suffix == "":
        for actor in ("north", "south"):
            user = user_of(world, actor)
            if not user.has_perm(f"{app_label}.view_{model_name}") and not user.has_perm(
                f"{app_label}.change_{model_name}"
            ):
                continue
            text = client_for(world, actor).get("/" + route).content.decode()
            other = "south" if actor == "north" else "north"
            other_obj = _object_for(world, label, rule, other)
            own_obj = _object_for(world, label, rule, actor)
            marker = {"incident": "title", "window": "title", "owner": "name"}.get(rule)
            if marker:
                assert getattr(other_obj, marker) not in text and getattr(own_obj, marker) in text, (route, actor)


# Other admin routes ----------------------------------------------------------------


def _other_admin_url(route: str, world, team: str) -> tuple[str, str]:
    """(method, url) for a custom admin route, with the team's objects."""
    data = world[team]
    urls = {
        "admin/r/<path:content_type_id>/<path:object_id>/": None,
        "admin/auth/user/<id>/password/": ("get", f"/admin/auth/user/{data['user'].pk}/password/"),
        "admin/outages/problemreport/hot/<int:area_id>/open/": (
            "post",
            f"/admin/outages/problemreport/hot/{data['quiet'].pk}/open/",
        ),
        "admin/outages/incident/<int:pk>/post-template/<int:template_id>/": (
            "post",
            f"/admin/outages/incident/{data['incident'].pk}/post-template/{world['template'].pk}/",
        ),
        "admin/outages/maintenancewindow/<int:pk>/post-template/<int:template_id>/": (
            "post",
            f"/admin/outages/maintenancewindow/{data['window'].pk}/post-template/{world['template'].pk}/",
        ),
        "admin/^(?P<app_label>auth|django_tasks_database|outages)/$": ("get", "/admin/outages/"),
        "admin/(?P<url>.*)$": ("get", "/admin/no-such-page/"),
        "admin/logout/": ("post", "/admin/logout/"),
        "admin/outages/contactrequest/queue/<int:pk>/": (
            "post",
            f"/admin/outages/contactrequest/queue/{data['contact_request'].pk}/",
        ),
    }
    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_model(Incident)
        return "get", f"/admin/r/{content_type.pk}/{data['incident'].pk}/"
    return urls.get(route) or ("get", "/" + route)


@pytest.mark.parametrize("route", sorted(ADMIN_ROUTES))
def test_custom_admin_routes_follow_permissions_and_teams(world, route):
    for team in TEAMS:
        for actor in ACTORS:
            method, url = _other_admin_url(route, world, team)
            data = {"seen_version": str(world[team]["incident"].version)} if "post-template" in route else {}
            if "contactrequest/queue/<int:pk>" in route:
                data = {"action": "take"}
            request_before = ContactRequest.objects.filter(pk=world[team]["contact_request"].pk).values().get()
            if "maintenancewindow" in route:
                world[team]["window"].refresh_from_db()
                data = {"seen_version": str(world[team]["window"].version)}
            before = Incident.objects.count(), sum(i.updates.count() for i in Incident.objects.all())
            response = getattr(client_for(world, actor), method)(url, data)
            assert response.status_code < 500 or route == "admin/(?P<url>.*)$" and response.status_code == 404, (
                url,
                actor,
                response.status_code,
            )
            if route in ("admin/login/", "admin/(?P<url>.*)$", "admin/logout/"):
                continue
            if actor == "anonymous":
                assert to_login(response) or response.status_code == 286, (url, actor, response.status_code)
                continue
            changed = (Incident.objects.count(), sum(i.updates.count() for i in Incident.objects.all())) != before
            foreign = actor not in ("superuser", team)
            if route in (
                "admin/outages/problemreport/hot/<int:area_id>/open/",
                "admin/outages/incident/<int:pk>/post-template/<int:template_id>/",
                "admin/outages/maintenancewindow/<int:pk>/post-template/<int:template_id>/",
            ):
                if foreign:
                    assert response.status_code in (403, 404) and not changed, (url, actor, response.status_code)
                if actor == "superuser":
                    assert response.status_code == 302 and (changed or "maintenancewindow" in route), (url, actor)
            if route == "admin/auth/user/<id>/password/" and actor != "superuser":
                assert response.status_code == 403
            if route in (
                "admin/outages/problemreport/hot/",
                "admin/outages/problemreport/hot/fragment/",
                "admin/outages/creditpolicy/export/",
                "admin/outages/servicearea/import/",
            ):
                assert response.status_code == (200 if actor == "superuser" else 403), (url, actor)
            if route == "admin/outages/incident/history-report/":
                assert response.status_code == 200
            request_after = ContactRequest.objects.filter(pk=world[team]["contact_request"].pk).values().get()
            if route == "admin/outages/contactrequest/queue/<int:pk>/":
                if foreign:
                    assert response.status_code == 404 and request_after == request_before, (url, actor)
                else:
                    # The first of the team's people takes it; the next learns it is taken.
                    assert response.status_code in (302, 400) and request_after["taken_by_id"] is not None
            else:
                assert request_after == request_before, (url, actor)
            if route in ("admin/outages/contactrequest/queue/", "admin/outages/contactrequest/queue/fragment/"):
                assert response.status_code == 200, (url, actor)
                text = response.content.decode()
                for other in TEAMS:
                    shown = f"{other.title()} secret callback" in text
                    assert shown == (actor == "superuser" or actor == other), (url, actor, other)


@pytest.mark.parametrize("route", sorted(I18N_ROUTES))
def test_language_routes_answer_everyone_alike(world, route):
    answers = {
        actor: client_for(world, actor)
        .post("/" + route, {"language": "hu", "next": "/"}, headers={"Sec-Fetch-Site": "same-origin"})
        .status_code
        for actor in ACTORS
    }
    assert set(answers.values()) == {302}, answers


# Admin actions -----------------------------------------------------------------------


def _snapshot(model) -> list:
    # Signing in writes last_login: everything else must stay as it was.
    return [
        {k: v for k, v in row.items() if k != "last_login"} for row in model._default_manager.order_by("pk").values()
    ]


@pytest.mark.parametrize(
    "label, action", sorted((label, action) for label, names in ACTIONS.items() for action in names)
)
def test_admin_actions_never_reach_another_teams_objects(world, label, action):
    rule = MODEL_RULES[label]
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    extra = {
        "apply": "1",
        "message": "closed by a stranger",
        "areas": [world["north"]["area"].pk, world["south"]["area"].pk],
    }
    for actor, team in (("north", "south"), ("south", "north"), ("anonymous", "north"), ("anonymous", "south")):
        obj = _object_for(world, label, rule, team) if rule else model._default_manager.first()
        if obj is None:
            continue
        before = _snapshot(model), Incident.objects.count(), sum(i.updates.count() for i in Incident.objects.all())
        response = client_for(world, actor).post(changelist, {"action": action, "_selected_action": [obj.pk], **extra})
        assert response.status_code < 500
        if actor == "anonymous":
            assert to_login(response)
        after = _snapshot(model), Incident.objects.count(), sum(i.updates.count() for i in Incident.objects.all())
        assert after == before, (label, action, actor, team)
    # The superuser's action does work on either team's objects (the matrix tests something real).
    if action in ("resolve_selected", "revoke_selected"):
        obj = _object_for(world, label, rule, "south")
        client_for(world, "superuser").post(changelist, {"action": action, "_selected_action": [obj.pk], **extra})
        obj.refresh_from_db()
        assert (not obj.is_active) if rule in ("incident", "window") else obj.revoked_at is not None
