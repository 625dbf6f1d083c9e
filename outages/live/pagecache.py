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

The key holds what changes the page, nothing else: the path, the query
parameters the view declares (`params`: normalised, in name order), the
language, and the HX-Request and gzip variants. Other parameters are not part
of the key, and the view never sees them (request.GET and the query string
hold the declared ones only while it renders), so `/?zz=1`, `/?zz=2`, … are
one entry. Storage is bounded whatever clients send: pages with parameters
(search terms, filters: an open set) share `PAGE_CACHE_QUERY_ENTRIES` slots,
and no copy larger than `PAGE_CACHE_MAX_BYTES` is kept.

The last good copy of each response is kept apart (without the version,
`PAGE_LAST_GOOD_SECONDS`): when the database is unreachable, visitors get it,
marked stale (a banner in HTML, `X-Status-Stale` and `Warning` headers),
instead of an error page. Those copies live in a fixed number of slots,
`PAGE_LAST_GOOD_ENTRIES` for pages without parameters and
`PAGE_LAST_GOOD_QUERY_ENTRIES` for pages with them, so a flood of distinct
queries can never push out the last good copy of `/`. Each copy may take one
of two slots (the emptier, or the older); with the embedded local-memory
cache they live in a store of their own that nothing else fills, so the
cache's culling never evicts them either.

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
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, QueryDict
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


def _memo_seconds() -> float:
    local = isinstance(_backend(), LocMemCache)
    return settings.LIVE_OUTBOX_POLL_SECONDS if local else settings.PAGE_VERSION_MEMO_SECONDS


def status_version() -> str:
    """What every cache key holds: changes whenever the public status changes.

    Re-read at most every PAGE_VERSION_MEMO_SECONDS (shared cache) or
    LIVE_OUTBOX_POLL_SECONDS (embedded); a change made in this process counts
    at once. Raises DatabaseError when the embedded (local) mode cannot read it."""
    if _Local.version is None or time.monotonic() - _Local.read_at >= _memo_seconds():
        return refresh_status_version()
    return _Local.version if not isinstance(_backend(), LocMemCache) else f"l{_Local.version}"


def refresh_status_version() -> str:
    """Read the status version now (status_version() does when its memo is due)."""
    now = time.monotonic()
    if not isinstance(_backend(), LocMemCache):
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, _initial(), None)
            version = cache.get(VERSION_KEY)
        with _Local.lock:
            _Local.version, _Local.read_at = f"s{version}", now
        return _Local.version
    latest = LiveChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with _Local.lock:
        # Change ids only grow: a read that raced a bump() never goes back.
        _Local.version = max(latest, _Local.version or 0)
        _Local.read_at = now
    return f"l{_Local.version}"


def version_due_soon() -> bool:
    """The memo is in the last fifth of its life: a read now keeps it from ever lapsing."""
    return _Local.version is None or time.monotonic() - _Local.read_at >= 0.8 * _memo_seconds()


def memoized_status_version() -> str | None:
    """The status version as this process last read it, while status_version()
    would return it without a read; else None (the caller takes the full path,
    which reads it). Costs no I/O, so the event loop may call it."""
    version, read_at = _Local.version, _Local.read_at
    if version is None or time.monotonic() - read_at >= _memo_seconds():
        return None
    return f"l{version}" if isinstance(_backend(), LocMemCache) else version


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
    Final.clear()
    _shared.clear()
    with _Stores.lock:
        for store in (_Stores.pages, _Stores.last_good):
            if store is not None:
                store.clear()


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


def canonical_query(request: HttpRequest, params: frozenset[str]) -> str:
    """The declared parameters of the request, in name order, re-encoded; others dropped."""
    return urlencode([(name, value) for name in sorted(params) for value in request.GET.getlist(name)])


def _variant(request: HttpRequest, htmx: bool, language, query: str) -> str:
    """What, besides the version, makes two requests get different bytes."""
    parts = [
        language(request) if language else (translation.get_language() or settings.LANGUAGE_CODE),
        request.path + ("?" + query if query else ""),
        "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "-",
    ]
    if htmx:
        parts.append("htmx" if request.headers.get("HX-Request") == "true" else "-")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


class _Stores:
    """Where entries and last good copies live: the default cache (Redis, shared),
    or, with the embedded local-memory cache, two stores of this process's own,
    so neither a flood of pages nor the cache's culling evicts rate-limit
    counters or last good copies."""

    lock = threading.Lock()
    pages = None
    last_good = None


def _stores():
    if not isinstance(_backend(), LocMemCache):
        return cache, cache
    with _Stores.lock:
        if _Stores.pages is None:
            slots = settings.PAGE_LAST_GOOD_ENTRIES + settings.PAGE_LAST_GOOD_QUERY_ENTRIES
            _Stores.pages = LocMemCache("statuspage-pages", {"OPTIONS": {"MAX_ENTRIES": 2000}})
            _Stores.last_good = LocMemCache("statuspage-last-good", {"OPTIONS": {"MAX_ENTRIES": slots + 1}})
        return _Stores.pages, _Stores.last_good


def _guarded(operation, default=None):
    try:
        return operation()
    except Exception:
        log.warning("cache unavailable; going on without it", exc_info=True)
        return default


def _fits(entry: Entry) -> bool:
    return len(entry.content) <= settings.PAGE_CACHE_MAX_BYTES


def _slot_key(prefix: str, variant: str, slots: int, choice: int = 0) -> str:
    return f"{prefix}:{int(variant[8 * choice : 8 * choice + 8], 16) % max(1, slots)}"


def _cache_get(key: str, query: bool = False, variant: str = ""):
    """A fresh entry; pages with parameters sit in a bounded set of slots, keyed by the full key."""
    pages, _last = _stores()
    if not query:
        return _guarded(lambda: pages.get(key))
    held = _guarded(lambda: pages.get(_slot_key("page-q", variant, settings.PAGE_CACHE_QUERY_ENTRIES)))
    return held[1] if isinstance(held, tuple) and held[0] == key else None


def _cache_set(key: str, value: Entry, timeout: float, query: bool = False, variant: str = "") -> None:
    if not _fits(value):
        return
    pages, _last = _stores()
    if query:
        slot = _slot_key("page-q", variant, settings.PAGE_CACHE_QUERY_ENTRIES)
        _guarded(lambda: pages.set(slot, (key, value), timeout))
    else:
        _guarded(lambda: pages.set(key, value, timeout))


def _last_good_slots(variant: str, query: bool) -> list[str]:
    prefix, slots = (
        ("page-last-q", settings.PAGE_LAST_GOOD_QUERY_ENTRIES)
        if query
        else ("page-last", settings.PAGE_LAST_GOOD_ENTRIES)
    )
    return list(dict.fromkeys(_slot_key(prefix, variant, slots, choice) for choice in (0, 1)))


def last_good_get(variant: str, query: bool) -> Entry | None:
    _pages, last = _stores()
    held = _guarded(lambda: last.get_many(_last_good_slots(variant, query)), {})
    for value in held.values():
        if isinstance(value, tuple) and value[0] == variant:
            return value[1]
    return None


def last_good_set(variant: str, query: bool, entry: Entry) -> None:
    """Into the slot that holds this page already, else an empty one, else the older."""
    if not _fits(entry):
        return
    _pages, last = _stores()
    keys = _last_good_slots(variant, query)
    held = _guarded(lambda: last.get_many(keys), None)
    if held is None:
        return

    def age(key):
        value = held.get(key)
        if not isinstance(value, tuple):
            return float("-inf")
        return float("inf") if value[0] == variant else -value[1].rendered_at

    chosen = max(keys, key=age)
    _guarded(lambda: last.set(chosen, (variant, entry), settings.PAGE_LAST_GOOD_SECONDS))


def _entry_get(key: str, query: bool = False, variant: str = "") -> Entry | None:
    """This process's copy if fresh enough, else the shared cache's."""
    entry = _Local.entries.get(key)
    if entry is not None and time.time() - entry.rendered_at < settings.PAGE_CACHE_SECONDS:
        return entry
    entry = _cache_get(key, query, variant)
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
    if (
        entry.headers
        and dict(entry.headers).get("Content-Type", "").startswith("text/html")
        and not dict(entry.headers).get("Content-Encoding")
    ):
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


# Whole responses, for the fast path ----------------------------------------------


@dataclass
class FinalResponse:
    """A response exactly as the whole middleware chain sent it for one request
    shape (live/fastpath.py), and when the page cache's entry behind it was
    rendered, so it is never served past the entry's own freshness."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes
    rendered_at: float

    def response(self) -> HttpResponse:
        # The same headers, in the same order, as the first time (a 304 has no Content-Type).
        headers = dict(self.headers)
        response = HttpResponse(self.content, status=self.status, headers=headers)
        if "Content-Type" not in headers:
            del response.headers["Content-Type"]
        return response

    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as Django's ASGI handler encodes them (a replay sends no cookies: none are kept)."""
        encoded = self.__dict__.get("_asgi_headers")
        if encoded is None:
            encoded = self.__dict__["_asgi_headers"] = [
                (name.encode("ascii"), value.encode("latin1")) for name, value in self.headers
            ]
        return encoded


class PerVersion:
    """This process's values of the current status version, bounded. A value
    is kept no longer than PAGE_CACHE_SECONDS after its `rendered_at`."""

    MAX = 1024

    def __init__(self):
        self.version: str | None = None
        self.entries: dict[tuple, object] = {}

    def get(self, version: str, key: tuple):
        if self.version != version:
            return None
        held = self.entries.get(key)
        if held is None or time.time() - held.rendered_at >= settings.PAGE_CACHE_SECONDS:
            return None
        return held

    def put(self, version: str, key: tuple, held) -> None:
        # A new version or a full store starts afresh: old versions are never served again.
        if self.version != version or len(self.entries) >= self.MAX:
            self.version, self.entries = version, {}
        self.entries[key] = held

    def clear(self) -> None:
        self.version, self.entries = None, {}


# This process's whole responses (the fast path replays them).
Final = PerVersion()


@dataclass(frozen=True)
class _Shared:
    value: object
    rendered_at: float


_shared = PerVersion()


def shared_while_unchanged(key: tuple, compute):
    """compute(), shared by this process's requests while the public status is
    unchanged (and for PAGE_CACHE_SECONDS at most, as the pages are): what a
    storm of form posts reads besides their own rows. The cache off: computed
    every time."""
    if not settings.PAGE_CACHE_SECONDS:
        return compute()
    version = status_version()
    held = _shared.get(version, key)
    if held is None:
        held = _Shared(compute(), time.time())
        _shared.put(version, key, held)
    return held.value


# The decorator -------------------------------------------------------------------


def cached(max_age: int | None = None, *, htmx: bool = False, cache_errors: bool = False, language=None, params=()):
    """Serve this anonymous GET view from the cache, rendered once per status version.

    Only 200 answers are kept (and 4xx ones with `cache_errors`); other
    answers pass through untouched. `max_age`: what proxies and browsers may
    keep it (default PAGE_MAX_AGE). `htmx`: the view answers htmx requests
    with a fragment (the key and Vary then include HX-Request). `language`:
    for a view that picks its language itself (not from the language cookie
    or Accept-Language as the middleware does), a function request -> code.
    `params`: the query parameters the view reads; it sees only those, and
    only they are part of the key."""
    # lang= is always seen: the page keeps it in its links (the language itself
    # is in the key already, whichever way it was chosen).
    declared = frozenset(params) | {"lang"}

    def decorator(view):
        def call(request, query: str, args, kwargs) -> HttpResponse:
            # The view sees the declared parameters only, in canonical order
            # (request.GET, and the query string behind get_full_path()).
            original_get, original_query = request.GET, request.META.get("QUERY_STRING", "")
            request.GET, request.META["QUERY_STRING"] = QueryDict(query), query
            try:
                return view(request, *args, **kwargs)
            finally:
                request.GET, request.META["QUERY_STRING"] = original_get, original_query

        def render(request, key, variant, query, args, kwargs) -> Entry | HttpResponse:
            response = call(request, query, args, kwargs)
            keep = response.status_code == 200 or (cache_errors and 400 <= response.status_code < 500)
            if not keep or response.streaming or response.cookies:
                return response
            entry = Entry.of(response)
            if key:
                _cache_set(key, entry, settings.PAGE_CACHE_SECONDS, bool(query), variant)
                _remember(key, entry)
                if entry.status == 200:
                    last_good_set(variant, bool(query), entry)
            return entry

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                return view(request, *args, **kwargs)
            query = canonical_query(request, declared)
            variant = _variant(request, htmx, language, query)
            version = None
            try:
                # PAGE_CACHE_SECONDS = 0: rendered every time, with the same headers.
                version = status_version() if settings.PAGE_CACHE_SECONDS else None
                key = f"page:{version}:{variant}" if version else None
            except DatabaseError:
                log.warning("database unavailable; serving the last good copy", exc_info=True)
                return _serve_stale(request, variant, query)
            except Exception:
                log.warning("cache unavailable; rendering without it", exc_info=True)
                key = None
            try:
                entry = _entry_get(key, bool(query), variant) if key else None
                if entry is None and key:
                    # Concurrent misses in this process wait for one render.
                    with _render_lock(key):
                        entry = _entry_get(key, bool(query), variant) or render(
                            request, key, variant, query, args, kwargs
                        )
                elif entry is None:
                    entry = render(request, None, variant, query, args, kwargs)
            except DatabaseError:
                log.warning("database unavailable; serving the last good copy", exc_info=True)
                return _serve_stale(request, variant, query)
            if isinstance(entry, HttpResponse):
                return entry
            response = entry.response()
            if htmx:
                patch_vary_headers(response, ("HX-Request",))
            anonymous(request)
            age = settings.PAGE_MAX_AGE if max_age is None else max_age
            response = cache_headers(request, response, age, cookie_language=language is None)
            response = conditional(request, response) if entry.status == 200 else response
            if key:
                # For the fast path: served from this version's entry, fresh until the entry is not.
                response.pagecache_served = (version, entry.rendered_at)
            return response

        wrapper.cached_params = declared
        return wrapper

    return decorator


def _serve_stale(request: HttpRequest, variant: str, query: str) -> HttpResponse:
    anonymous(request)
    entry = last_good_get(variant, bool(query))
    if entry is None:
        return _unavailable(request)
    return _stale(request, entry)
