"""The embeddable widget: compact pages made for an iframe on someone else's site.

The widget shows the same fragments as the pages (the area's status card, the
home banner and current incidents) and joins the same websocket, so a change
reaches it exactly as it reaches the pages.

Only these pages may be framed, by EMBED_ALLOWED_ORIGINS. They are private and
cache-friendly: no session, no CSRF token, no language cookie, no Set-Cookie
of any kind, so they work with third-party cookies blocked and any shared
cache may keep them.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from .. import i18n
from ..live import groups, pagecache
from ..models import ServiceArea
from ..queries import current

THEMES = ("auto", "light", "dark")
# The page is correct for a minute at most before the socket's snapshot
# replaces its fragments, so a cache may keep it that long.
WIDGET_MAX_AGE = 60
# /embed.js has a fixed address (people paste it into their sites), so it is
# cached for a day rather than forever: a new version reaches them by tomorrow.
EMBED_JS_MAX_AGE = 24 * 60 * 60


def embed_policy() -> dict:
    """The site's CSP with frame-ancestors opened to the configured origins."""
    origins = list(settings.EMBED_ALLOWED_ORIGINS) or [CSP.NONE]
    return {**settings.SECURE_CSP, "frame-ancestors": origins}


def frameable(view):
    """Let the origins in EMBED_ALLOWED_ORIGINS frame this view (read per request)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return csp_override(embed_policy())(view)(request, *args, **kwargs)

    return xframe_options_exempt(wrapped)


def cookieless(view):
    """Answer without any cookie and without varying on cookies.

    The view itself never touches the session or the CSRF token; this also
    keeps the middleware from answering a stale or malformed cookie the
    browser happened to send (the CSRF middleware would replace it, the
    session middleware would delete it): this response is the same for all.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
        # Without a session on the request the session middleware leaves the
        # response alone (no Set-Cookie, no "Vary: Cookie").
        if hasattr(request, "session"):
            del request.session
        return response

    return wrapped


class BadOption(ValueError):
    pass


def _language(request: HttpRequest) -> str:
    """lang= if given, else the browser's Accept-Language; never a cookie."""
    code = request.GET.get("lang", "").strip()
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            choices = ", ".join(code for code, _name in settings.LANGUAGES)
            raise BadOption(f"Unsupported lang={code[:20]!r}; use one of: {choices}.") from None
    return i18n.accepted_language(request.headers.get("Accept-Language", ""))


def _cache_language(request: HttpRequest) -> str:
    """The widget's language, for its cache key (a bad lang= is answered uncached-alike: 400)."""
    try:
        return _language(request)
    except BadOption:
        return "-"


WIDGET_PARAMS = ("lang", "theme", "compact")


def _options(request: HttpRequest) -> dict:
    theme = request.GET.get("theme", "auto").strip() or "auto"
    if theme not in THEMES:
        raise BadOption(f"Unknown theme={theme[:20]!r}; use one of: {', '.join(THEMES)}.")
    compact = request.GET.get("compact", "0").strip() or "0"
    if compact not in {"0", "1"}:
        raise BadOption("compact must be 1 or 0.")
    return {"theme": theme, "compact": compact == "1", "language": _language(request)}


def _widget(request: HttpRequest, area_slug: str | None) -> HttpResponse:
    try:
        options = _options(request)
    except BadOption as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    with translation.override(options["language"]):
        if area_slug is None:
            context = {
                **current.home_snapshot(),
                "live_url": groups.live_url(groups.status_path(summary=True)),
                "full_url": reverse("home"),
            }
        else:
            area = ServiceArea.objects.select_related("region").filter(slug=area_slug).first()
            if area is None:
                response = render(request, "outages/embed.html", {**options, "missing": True}, status=404)
                response.headers["Content-Language"] = options["language"]
                return response
            context = {
                **current.area_card(area),
                "live_url": groups.live_url(groups.area_path(area.slug)),
                "full_url": reverse("area", args=[area.slug]),
            }
        if request.GET.get("lang") == options["language"]:
            # Asked for in the widget's link: the full page opens in the same language.
            context["full_url"] += f"?lang={options['language']}"
        context.update(options, now=timezone.now())
        response = render(request, "outages/embed.html", context)
    response.headers["Content-Language"] = options["language"]
    return response


@require_safe
@frameable
@cookieless
@pagecache.cached(WIDGET_MAX_AGE, cache_errors=True, language=_cache_language, params=WIDGET_PARAMS)
@gzip_page  # safe: the page holds no secret (no CSRF token), so no BREACH
def status_widget(request: HttpRequest) -> HttpResponse:
    """/embed/: the whole service."""
    return _widget(request, None)


@require_safe
@frameable
@cookieless
@pagecache.cached(WIDGET_MAX_AGE, cache_errors=True, language=_cache_language, params=WIDGET_PARAMS)
@gzip_page
def area_widget(request: HttpRequest, slug: str) -> HttpResponse:
    """/embed/areas/<slug>/: one area."""
    return _widget(request, slug)


@require_safe
@cookieless
@gzip_page
@cache_control(public=True, max_age=EMBED_JS_MAX_AGE)
def embed_js(request: HttpRequest) -> HttpResponse:
    """/embed.js: the script a host page includes to insert and size the widget."""
    path = finders.find("js/embed.js")
    if not path:
        raise Http404(_("The embed script is missing from this installation."))
    with open(path, "rb") as handle:
        response = HttpResponse(handle.read(), content_type="text/javascript; charset=utf-8")
    # Any site may load it, also one that requires CORP on its subresources.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
