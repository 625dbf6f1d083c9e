"""The fast path for cached public responses: the first middleware.

A page-cache hit still paid for the whole middleware chain: under daphne each
of Django's middlewares runs its request and response halves in a thread hop
(sessions, messages, locale, CSRF, CSP, ...), several times the cost of
answering from memory. This middleware remembers the response the whole chain
produced for a request shape, and answers the next identical request with the
same bytes and headers, without a thread hop, as long as the page cache
(live/pagecache.py) would serve the same entry:

- only responses the page cache served (marked `pagecache_served`), with no
  cookie, no CSP nonce used and no `Vary: Cookie`;
- keyed by the status version this process holds in memory (no I/O: when it
  is due for a re-read, the request takes the full path, which re-reads it),
  and by everything the chain reads from such a request: method, scheme,
  host, path and the raw query string, the negotiated language and whether
  the language cookie is set, Accept-Encoding, the HX-* headers and the
  conditional headers (If-None-Match, If-Modified-Since);
- never for a visitor with a session cookie (operators) or an Authorization
  header: they always take the full path;
- served no longer than the page-cache entry behind it is fresh.

If settings hold a middleware this module does not know to leave a cached
public response alone, the fast path stays off (the full chain runs).

Under daphne the replay happens one step earlier still, in front of Django's
handler (`FastPathApp`, statuspage/asgi.py): a hit costs no request signals
and none of the handler's thread hops, only the bytes the handler would have
sent, encoded the way it encodes them. The middleware records; both replay.
"""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.db import connections
from django.utils import translation

from . import pagecache

log = logging.getLogger(__name__)

# Middlewares whose work a replayed response either carries already (its
# headers were recorded after them) or does not need (sessions, CSRF, auth,
# messages and htmx add nothing to an anonymous cached response).
KNOWN_MIDDLEWARE = frozenset(
    {
        "outages.live.fastpath.PageFastPathMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        # ?lang= picks the language from the query string, which is in the key.
        "outages.i18n.LanguageParameterMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django_htmx.middleware.HtmxMiddleware",
    }
)
SAFE_METHODS = ("GET", "HEAD")


def enabled() -> bool:
    return (
        bool(settings.PAGE_CACHE_SECONDS)
        and set(settings.MIDDLEWARE) <= KNOWN_MIDDLEWARE
        # CommonMiddleware refuses some user agents: the key would need the header.
        and not settings.DISALLOWED_USER_AGENTS
    )


def request_key(request) -> tuple | None:
    """What makes the chain answer differently, or None: this request takes the full path."""
    if request.method not in SAFE_METHODS:
        return None
    meta = request.META
    if "HTTP_AUTHORIZATION" in meta:
        return None
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies:
        return None
    path = request.path
    if path.startswith(settings.STATIC_URL):
        return None
    return (
        request.method,
        request.scheme,
        meta.get("HTTP_HOST", ""),
        path,
        meta.get("QUERY_STRING", ""),
        translation.get_language_from_request(request),
        settings.LANGUAGE_COOKIE_NAME in cookies,
        meta.get("HTTP_ACCEPT_ENCODING", ""),
        meta.get("HTTP_IF_NONE_MATCH", ""),
        meta.get("HTTP_IF_MODIFIED_SINCE", ""),
        *sorted((name, value) for name, value in meta.items() if name.startswith("HTTP_HX_")),
    )


def keep(request, key: tuple | None, response) -> None:
    """Remember the chain's response for `key`, if it is one the page cache served to anyone."""
    served = getattr(response, "pagecache_served", None)
    if key is None or served is None or response.streaming or response.cookies:
        return
    # A nonce in the policy (or page) is for one response only.
    if getattr(request, "_csp_nonce", None):
        return
    if "cookie" in response.get("Vary", "").lower():
        return
    version, rendered_at = served
    pagecache.Final.put(
        version,
        key,
        pagecache.FinalResponse(response.status_code, list(response.items()), response.content, rendered_at),
    )


def replay(key: tuple | None):
    if key is None:
        return None
    version = pagecache.memoized_status_version()
    held = pagecache.Final.get(version, key) if version else None
    return held.response() if held is not None else None


class PageFastPathMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.on = enabled()
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        key = request_key(request) if self.on else None
        response = replay(key)
        if response is not None:
            return response
        response = self.get_response(request)
        keep(request, key, response)
        return response

    async def __acall__(self, request):
        # A hit is answered here, on the event loop: no thread hop at all.
        key = request_key(request) if self.on else None
        response = replay(key)
        if response is not None:
            return response
        response = await self.get_response(request)
        keep(request, key, response)
        return response


class FastPathApp:
    """In front of Django's ASGI handler: answers a request the middleware
    recorded, as the handler would send that response; anything else goes on."""

    def __init__(self, app):
        self.app = app
        # The status version is re-read here shortly before its memo lapses,
        # off the event loop, so a storm never finds it due (a due memo sends
        # every request in flight down the full chain until one re-reads it).
        self.refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-version")
        self.refreshing = False

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in SAFE_METHODS:
            held = self.lookup(scope)
            if held is not None:
                await send({"type": "http.response.start", "status": held.status, "headers": held.asgi_headers()})
                for chunk, last in ASGIHandler.chunk_bytes(held.content):
                    await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                return
        await self.app(scope, receive, send)

    def refresh(self) -> None:
        def read():
            try:
                pagecache.refresh_status_version()
            except Exception:
                # The full chain reads it (and reports) when it is due.
                log.debug("status version re-read failed", exc_info=True)
                connections.close_all()
            finally:
                self.refreshing = False

        self.refreshing = True
        asyncio.get_running_loop().run_in_executor(self.refresher, read)

    def lookup(self, scope):
        if not pagecache.Final.entries:
            return None
        if not self.refreshing and pagecache.version_due_soon():
            self.refresh()
        for name, value in scope.get("headers") or ():
            # A request with a body is the full chain's to read.
            if name in (b"content-length", b"transfer-encoding") and value not in (b"0", b""):
                return None
        version = pagecache.memoized_status_version()
        if version is None:
            return None
        key = request_key(ASGIRequest(scope, io.BytesIO()))
        return pagecache.Final.get(version, key) if key is not None else None
