"""Public responses rendered once per change and served from Django's cache.

Every anonymous public response (pages, widget, JSON, feeds, voice line) is
kept in the cache under a key that holds the *status version*. Every change
that alters what the public sees goes through `live.publish_change` (after
commit, in whatever process made it), which bumps the version, so one change
invalidates everything at once, in every process:

- with a shared cache (Redis, `REDIS_URL`), the version is a counter in the
  cache itself, re-read at most every `PAGE_VERSION_MEMO_SECONDS` per process;
  a hit costs no database query, and usually no cache round trip either (each
  process keeps its latest entries in memory, keyed by version);
- with the embedded local-memory cache (one per process), the version is the
  latest `LiveChange` id, read from the database at most every
  `LIVE_OUTBOX_POLL_SECONDS` per process (a change made in the same process
  counts at once): the same delay as the live push's outbox.

Entries also expire after `PAGE_CACHE_SECONDS`, so text that changes with the
clock alone ("in 2 hours", the 90-day figures) is never older than that.

The last good copy of each response is kept apart (without the version,
`PAGE_LAST_GOOD_SECONDS`): when the database is unreachable, visitors get it,
marked stale (a banner in HTML, `X-Status-Stale` and `Warning` headers),
instead of an error page.

A cached response is the same for everyone: it never carries a CSRF token,
session cookie or CSP nonce (public pages have no inline script, and their
only form posts without Django's token: see views/origin.py), and it sets no
cookie and does not vary on Cookie.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

from ..models import LiveChange

log = logging.getLogger(__name__)

VERSION_KEY = "status-version"
SAFE_METHODS = ("GET", "HEAD")
# Headers a view sets that belong to the response whatever the request.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Encoding",
    "Content-Disposition",
    "Vary",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Cross-Origin-Resource-Policy",
    "Last-Modified",
)
# Response attributes that view decorators set for the middleware (framing, CSP).
KEPT_ATTRIBUTES = ("xframe_options_exempt", "_csp_config", "_csp_ro_config")
STALE_HEADER = "X-Status-Stale"
MAIN_TAG = b'<main id="main" tabindex="-1">'


# The status version ----------------------------------------------------------


class _Local:
    lock = threading.Lock()
    version: int | str | None = None
    read_at = 0.0
    # The latest entries of this process, by key: a hit on the current
    # version costs no cache round trip. Bounded; keys hold the version.
    entries: dict[str, Entry] = {}
    ENTRIES_MAX = 256


def _backend():
    return caches["default"]


def _initial() -> int:
    # Above any counter a lost key could have reached: changes count by one.
    return int(time.time() * 1000)


def status_version() -> str:
    """What every cache key holds: changes whenever the public status changes.

    Raises DatabaseError when the embedded (local) mode cannot read it."""
    now = time.monotonic()
    if not isinstance(_backend(), LocMemCache):
        # Re-read at most every PAGE_VERSION_MEMO_SECONDS (a change made in
        # this process counts at once).
        if _Local.version is None or now - _Local.read_at >= settings.PAGE_VERSION_MEMO_SECONDS:
            version = cache.get(VERSION_KEY)
            if version is None:
                cache.add(VERSION_KEY, _initial(), None)
                version = cache.get(VERSION_KEY)
            with _Local.lock:
                _Local.version, _Local.read_at = f"s{version}", now
        return _Local.version
    if _Local.version is None or now - _Local.read_at >= settings.LIVE_OUTBOX_POLL_SECONDS:
        latest = LiveChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with _Local.lock:
            _Local.version = latest
            _Local.read_at = now
    return f"l{_Local.version}"


def bump(change_id: int | None = None) -> None:
    """A public change happened (called by live.publish_change after its LiveChange row)."""
    if not isinstance(_backend(), LocMemCache):
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.add(VERSION_KEY, _initial(), None)
        except Exception:
            log.warning("cache unavailable; the status version was not bumped", exc_info=True)
        forget()
        return
    with _Local.lock:
        if change_id is not None:
            _Local.version = max(change_id, _Local.version or 0)
            _Local.read_at = time.monotonic()
        else:
            _Local.version = None


def forget() -> None:
    """Drop what this process remembers of the version (tests, after clearing the cache)."""
    with _Local.lock:
        _Local.version = None
        _Local.read_at = 0.0
        _Local.entries = {}


# Entries ---------------------------------------------------------------------


@dataclass
class Entry:
    status: int
    headers: list[tuple[str, str]]
    attributes: dict
    content: bytes
    etag: str
    rendered_at: float

    @classmethod
    def of(cls, response: HttpResponse) -> Entry:
        headers = [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)]
        attributes = {name: getattr(response, name) for name in KEPT_ATTRIBUTES if hasattr(response, name)}
        content = response.content
        etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
        return cls(response.status_code, headers, attributes, content, etag, time.time())

    def response(self, content: bytes | None = None) -> HttpResponse:
        response = HttpResponse(self.content if content is None else content, status=self.status)
        for name, value in self.headers:
            response[name] = value
        for name, value in self.attributes.items():
            setattr(response, name, value)
        response["ETag"] = self.etag
        if not response.has_header("Last-Modified"):
            response["Last-Modified"] = http_date(int(self.rendered_at))
        return response


def _variant(request: HttpRequest, htmx: bool, language) -> str:
    """What, besides the version, makes two requests get different bytes."""
    parts = [
        language(request) if language else (translation.get_language() or settings.LANGUAGE_CODE),
        request.get_full_path(),
        "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "-",
    ]
    if htmx:
        parts.append("htmx" if request.headers.get("HX-Request") == "true" else "-")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:
        log.warning("cache unavailable; rendering without it", exc_info=True)
        return None


def _cache_set(key: str, value, timeout: float) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        log.warning("cache unavailable; response not kept", exc_info=True)


def _entry_get(key: str) -> Entry | None:
    """This process's copy if fresh enough, else the shared cache's."""
    entry = _Local.entries.get(key)
    if entry is not None and time.time() - entry.rendered_at < settings.PAGE_CACHE_SECONDS:
        return entry
    entry = _cache_get(key)
    if entry is not None:
        _remember(key, entry)
    return entry


def _remember(key: str, entry: Entry) -> None:
    with _Local.lock:
        if len(_Local.entries) >= _Local.ENTRIES_MAX:
            _Local.entries = {}
        _Local.entries[key] = entry


# One render per key at a time in this process: concurrent misses wait for it.
_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()


def _render_lock(key: str) -> threading.Lock:
    with _render_locks_guard:
        if len(_render_locks) > 10_000:
            _render_locks.clear()
        return _render_locks.setdefault(key, threading.Lock())


# Headers ---------------------------------------------------------------------


def cache_headers(request: HttpRequest, response: HttpResponse, max_age: int, *, cookie_language=True) -> HttpResponse:
    """The one Cache-Control of public responses: a proxy or CDN may keep them
    `max_age` seconds, serve them stale while it revalidates, and for a day
    when the origin fails. A language chosen by cookie makes the response
    private (no shared cache keys on that cookie unless told to: the shipped
    nginx does), so nothing here ever varies on Cookie."""
    private = cookie_language and settings.LANGUAGE_COOKIE_NAME in request.COOKIES
    patch_cache_control(
        response,
        **({"private": True} if private else {"public": True}),
        max_age=max_age,
        stale_while_revalidate=settings.PAGE_STALE_WHILE_REVALIDATE,
        stale_if_error=settings.PAGE_STALE_IF_ERROR,
    )
    return response


def anonymous(request: HttpRequest) -> None:
    """Keep the session and CSRF middleware from adding cookies or Vary: Cookie."""
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    if hasattr(request, "session"):
        del request.session


def conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    last_modified = None
    if response.has_header("Last-Modified"):
        last_modified = parse_http_date_safe(response["Last-Modified"])
    return get_conditional_response(request, etag=response.get("ETag"), last_modified=last_modified, response=response)


# Stale copies ------------------------------------------------------------------


def _stale(request: HttpRequest, entry: Entry) -> HttpResponse:
    as_of = datetime.fromtimestamp(entry.rendered_at, tz=UTC)
    content = entry.content
    if entry.headers and dict(entry.headers).get("Content-Type", "").startswith("text/html") and not dict(
        entry.headers
    ).get("Content-Encoding"):
        banner = render_to_string(
            "outages/_stale_banner.html", {"as_of": timezone.localtime(as_of)}, request=None
        ).encode()
        content = content.replace(MAIN_TAG, MAIN_TAG + banner, 1)
    response = entry.response(content)
    response["ETag"] = entry.etag.rstrip('"') + '-stale"'
    response[STALE_HEADER] = as_of.isoformat(timespec="seconds")
    response["Warning"] = '110 - "Response is Stale"'
    response["Age"] = str(max(0, int(time.time() - entry.rendered_at)))
    # Short: a proxy shields the origin a moment, and the live copy returns soon.
    patch_cache_control(response, public=True, max_age=2)
    return response


def _unavailable(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        render_to_string("outages/unavailable.html", {"site_name": settings.SITE_NAME}),
        status=503,
        content_type="text/html; charset=utf-8",
    )
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


# The decorator -------------------------------------------------------------------


def cached(max_age: int | None = None, *, htmx: bool = False, cache_errors: bool = False, language=None):
    """Serve this anonymous GET view from the cache, rendered once per status version.

    Only 200 answers are kept (and 4xx ones with `cache_errors`); other
    answers pass through untouched. `max_age`: what proxies and browsers may
    keep it (default PAGE_MAX_AGE). `htmx`: the view answers htmx requests
    with a fragment (the key and Vary then include HX-Request). `language`:
    for a view that picks its language itself (not from the language cookie
    or Accept-Language as the middleware does), a function request -> code."""

    def decorator(view):
        def render(request, key, last_key, args, kwargs) -> Entry | HttpResponse:
            response = view(request, *args, **kwargs)
            keep = response.status_code == 200 or (cache_errors and 400 <= response.status_code < 500)
            if not keep or response.streaming or response.cookies:
                return response
            entry = Entry.of(response)
            if key:
                _cache_set(key, entry, settings.PAGE_CACHE_SECONDS)
                _remember(key, entry)
                if entry.status == 200:
                    _cache_set(last_key, entry, settings.PAGE_LAST_GOOD_SECONDS)
            return entry

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                return view(request, *args, **kwargs)
            variant = _variant(request, htmx, language)
            last_key = f"page-last:{variant}"
            try:
                # PAGE_CACHE_SECONDS = 0: rendered every time, with the same headers.
                key = f"page:{status_version()}:{variant}" if settings.PAGE_CACHE_SECONDS else None
            except DatabaseError:
                log.warning("database unavailable; serving the last good copy", exc_info=True)
                return _serve_stale(request, last_key)
            except Exception:
                log.warning("cache unavailable; rendering without it", exc_info=True)
                key = None
            try:
                entry = _entry_get(key) if key else None
                if entry is None and key:
                    # Concurrent misses in this process wait for one render.
                    with _render_lock(key):
                        entry = _entry_get(key) or render(request, key, last_key, args, kwargs)
                elif entry is None:
                    entry = render(request, None, last_key, args, kwargs)
            except DatabaseError:
                log.warning("database unavailable; serving the last good copy", exc_info=True)
                return _serve_stale(request, last_key)
            if isinstance(entry, HttpResponse):
                return entry
            response = entry.response()
            if htmx:
                patch_vary_headers(response, ("HX-Request",))
            anonymous(request)
            age = settings.PAGE_MAX_AGE if max_age is None else max_age
            response = cache_headers(request, response, age, cookie_language=language is None)
            return conditional(request, response) if entry.status == 200 else response

        return wrapper

    return decorator


def _serve_stale(request: HttpRequest, last_key: str) -> HttpResponse:
    anonymous(request)
    entry = _cache_get(last_key)
    if entry is None:
        return _unavailable(request)
    return _stale(request, entry)
