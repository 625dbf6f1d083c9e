"""The fast path (outages/live/fastpath.py): a repeat of a cached public
request gets the very bytes and headers the whole middleware chain gave the
first time, never another language's page, never an operator's, never a copy
older than the page cache would serve."""

import time
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils.csp import LazyNonce

from outages import services
from outages.live import fastpath, pagecache
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]
PATHS = ["/", "/areas/{slug}/", "/api/v2/summary.json", "/embed/", "/history.atom", "/search/?q=nowhere"]


def fast(response) -> bool:
    """Replayed by the fast path: the chain's own responses carry the page cache's mark."""
    return not hasattr(response, "pagecache_served")


@pytest.fixture(autouse=True)
def steady_version(settings):
    """A memo that does not lapse between two requests of a slow test run (a
    change made in the process still counts at once)."""
    settings.LIVE_OUTBOX_POLL_SECONDS = 30
    settings.PAGE_VERSION_MEMO_SECONDS = 30


@pytest.fixture
def district():
    district = factories.area("District 5")
    factories.incident(district, title="Fiber down")
    return district


@pytest.mark.parametrize("path", PATHS)
def test_the_fast_path_serves_the_bytes_and_headers_of_the_full_chain(client, district, path):
    path = path.format(slug=district.slug)
    client.get(path)  # rendered
    pagecache.Final.clear()
    full = client.get(path)  # a page-cache hit through the whole chain
    replayed = client.get(path)
    assert not fast(full) and fast(replayed)
    assert replayed.status_code == full.status_code == 200
    assert replayed.content == full.content
    assert list(replayed.items()) == list(full.items())


def test_replayed_pages_keep_their_security_headers_and_policy(client, district):
    client.get("/")
    replayed = client.get("/")
    assert fast(replayed)
    assert "default-src 'self'" in replayed["Content-Security-Policy"]
    assert "nonce" not in replayed["Content-Security-Policy"]
    assert replayed["X-Frame-Options"] == "DENY"
    assert replayed["X-Content-Type-Options"] == "nosniff"
    assert replayed["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert replayed["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Accept-Language" in replayed["Vary"]
    assert replayed["Content-Language"] == "en"
    assert not replayed.cookies


def test_each_language_gets_its_own_page(client, district):
    pages = {}
    for language in ("hu", "he", "en", "hu", "he", "en"):
        response = client.get("/", headers={"accept-language": language})
        assert response["Content-Language"] == language
        pages.setdefault(language, set()).add(response.content)
    assert all(len(versions) == 1 for versions in pages.values())
    assert len({versions.pop() for versions in pages.values()}) == 3


def test_the_language_cookie_is_part_of_the_key(client, district):
    client.get("/", headers={"accept-language": "hu"})
    assert fast(client.get("/", headers={"accept-language": "hu"}))
    client.cookies["django_language"] = "he"
    chosen = client.get("/", headers={"accept-language": "hu"})
    assert chosen["Content-Language"] == "he"
    # Chosen by cookie: private, as the full chain makes it.
    assert "private" in chosen["Cache-Control"]
    again = client.get("/", headers={"accept-language": "hu"})
    assert fast(again) and again["Content-Language"] == "he" and again.content == chosen.content


def test_an_operator_always_takes_the_full_chain(client, district):
    client.get("/")
    assert fast(client.get("/"))
    operator = Client()
    operator.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "pw"))
    for _ in range(3):
        assert not fast(operator.get("/"))
    assert not any(key for key in pagecache.Final.entries if "sessionid" in str(key))


def test_a_change_is_never_hidden_by_the_fast_path(client, district, django_capture_on_commit_callbacks):
    client.get(f"/areas/{district.slug}/")
    assert fast(client.get(f"/areas/{district.slug}/"))
    with django_capture_on_commit_callbacks(execute=True):
        factories.incident(district, title="Cable cut on Main Street")
    assert "Cable cut on Main Street" in client.get(f"/areas/{district.slug}/").text
    with django_capture_on_commit_callbacks(execute=True):
        services.post_update(district.incidents.first(), status="identified", message="Crew on site")
    assert "Crew on site" in client.get(f"/areas/{district.slug}/").text


def test_a_copy_is_not_served_past_the_page_caches_freshness(client, district, settings):
    client.get("/")
    assert fast(client.get("/"))
    for held in pagecache.Final.entries.values():
        held.rendered_at -= settings.PAGE_CACHE_SECONDS
    assert not fast(client.get("/"))


def test_a_due_version_read_takes_the_full_chain(client, district, settings):
    client.get("/")
    pagecache._Local.read_at -= settings.LIVE_OUTBOX_POLL_SECONDS + settings.PAGE_VERSION_MEMO_SECONDS
    assert not fast(client.get("/"))


def test_conditional_requests_get_the_full_chains_not_modified(client, district):
    etag = client.get("/")["ETag"]
    pagecache.Final.clear()
    full = client.get("/", headers={"if-none-match": etag})
    replayed = client.get("/", headers={"if-none-match": etag})
    assert full.status_code == replayed.status_code == 304
    assert fast(replayed) and list(replayed.items()) == list(full.items())


def test_unknown_query_parameters_still_get_the_apis_refusal(client, district):
    client.get("/api/v2/summary.json")
    refused = client.get("/api/v2/summary.json?bogus=1")
    assert refused.status_code == 400
    assert client.get("/api/v2/summary.json?bogus=1").status_code == 400


def test_a_response_with_a_used_nonce_is_never_kept():
    request = RequestFactory().get("/")
    request._csp_nonce = LazyNonce()
    str(request._csp_nonce)
    response = HttpResponse("<script nonce>")
    response.pagecache_served = ("l1", 0.0)
    fastpath.keep(request, fastpath.request_key(request), response)
    assert pagecache.Final.entries == {}


def test_the_fast_path_stays_off_with_a_middleware_it_does_not_know(settings):
    assert fastpath.enabled()
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "example.middleware.PersonalisedMiddleware"]
    assert not fastpath.enabled()


@pytest.mark.parametrize("path", ["/", "/api/v2/summary.json"])
def test_over_daphne_a_replayed_response_matches_the_full_chain(make_server, path):
    factories.incident(factories.area("District 5"), title="Fiber down")
    server = make_server()

    def get():
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            headers = [(name, value) for name, value in response.getheaders() if name.lower() != "date"]
            return response.status, headers, response.read()

    # The first is the full chain's render, the others are replayed in front of Django's handler.
    answers = [get() for _ in range(4)]
    assert answers[0][0] == 200
    assert all(answer == answers[0] for answer in answers)


def test_the_status_version_is_re_read_before_its_memo_lapses(client, district, settings):
    import asyncio

    client.get("/")
    app = fastpath.FastPathApp(None)
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    memo = settings.LIVE_OUTBOX_POLL_SECONDS
    # In the last fifth of the memo's life: still served, and re-read meanwhile.
    pagecache._Local.read_at = time.monotonic() - 0.85 * memo

    async def ask():
        held = app.lookup(scope)
        while app.refreshing:
            await asyncio.sleep(0.01)
        return held

    assert asyncio.run(ask()) is not None
    assert not pagecache.version_due_soon()
    app.refresher.shutdown()
