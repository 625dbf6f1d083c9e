"""Public responses rendered once per change and served from the cache
(outages/pagecache.py): invalidation, headers, language, no cookies, the
report form's origin check, and the last good copy when the database is down."""

import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from outages import services
from outages.models import Problem, ProblemReport
from outages.services import area_import
from tests import factories
from tests.conftest import missing

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]
STALE_TEXT = "live data temporarily unavailable"


def queries_for(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    return response, len(queries)


# Rendered once per change ---------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/areas/{slug}/", "/api/v2/summary.json", "/history.atom", "/embed/"])
def test_a_public_response_is_rendered_once_then_served_from_the_cache(client, path):
    district = factories.area("District 5")
    factories.incident(district, title="Fiber down")
    path = path.format(slug=district.slug)
    first, rendering = queries_for(client, path)
    second, cached = queries_for(client, path)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    # At most the status version (embedded cache: the latest change id).
    assert rendering > 2 and cached <= 1


def test_the_area_pages_share_one_reading_of_every_area_s_availability(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    """The site-wide figure on every area page reads all areas' 90 days: once
    per status version, not once per area page rendered after a change."""
    from outages.queries import history

    readings = []
    real = history.overall_availability

    def counted(*args, **kwargs):
        readings.append(real(*args, **kwargs))
        return readings[-1]

    monkeypatch.setattr(history, "overall_availability", counted)
    first, second = factories.area("District 5"), factories.area("District 6")
    factories.incident(first, title="Fiber down")
    pages = [client.get(f"/areas/{area.slug}/").text for area in (first, second)]
    assert len(readings) == 1
    assert all(f"(all areas: {history.percent_text(readings[0])})" in page for page in pages)
    with django_capture_on_commit_callbacks(execute=True):
        factories.incident(second, title="Pole down")
    client.get(f"/areas/{second.slug}/")
    assert len(readings) == 2


def test_a_change_through_the_services_shows_on_the_next_request(client, django_capture_on_commit_callbacks):
    district = factories.area("District 5")
    assert "Cable cut on Main Street" not in client.get(f"/areas/{district.slug}/").text
    with django_capture_on_commit_callbacks(execute=True):
        outage = factories.incident(district, title="Cable cut on Main Street")
    assert "Cable cut on Main Street" in client.get(f"/areas/{district.slug}/").text
    assert "Cable cut on Main Street" in client.get("/").text
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve(outage, message="Fixed.")
    summary = client.get("/api/v2/incidents/unresolved.json").json()
    assert summary["incidents"] == []


def test_an_admin_edit_of_a_region_shows_at_once(client, django_capture_on_commit_callbacks):
    region = factories.region("Budapest")
    factories.area("District 5", region_obj=region)
    assert "Budapest" in client.get("/").text
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/admin/outages/region/{region.pk}/change/",
            {"name": "Greater Budapest", "slug": region.slug, "parent": "", "position": 0},
        )
    assert response.status_code == 302
    assert "Greater Budapest" in client.get("/").text


def test_an_area_import_shows_at_once(client, django_capture_on_commit_callbacks):
    factories.region("Budapest", slug="budapest")
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        area_import.run(b"name,slug,region,postcodes\nDistrict 9,district-9,budapest,1091\n", "areas.csv")
    assert "District 9" in client.get("/").text


# Headers -------------------------------------------------------------------


def test_cached_page_sets_no_cookie_carries_no_token_and_lets_proxies_keep_it(client):
    district = factories.area("District 5")
    factories.service("Fiber internet")
    cookies = "sessionid=abc; csrftoken=not-a-valid-token; messages=x"
    for _ in range(2):  # the render and the cached copy
        response = client.get(f"/areas/{district.slug}/", HTTP_COOKIE=cookies)
        assert response.status_code == 200
        assert not response.cookies and "Set-Cookie" not in str(response.serialize_headers())
        assert "Cookie" not in response.get("Vary", "")
        assert "csrfmiddlewaretoken" not in response.text and "nonce" not in response.text
        control = response["Cache-Control"]
        assert "public" in control and "max-age=5" in control
        assert "stale-while-revalidate=" in control and "stale-if-error=" in control
        assert "nonce-" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/areas/{slug}/", "/api/v2/summary.json", "/history.rss", "/embed/"])
def test_conditional_get_answers_304_until_the_next_change(client, path, django_capture_on_commit_callbacks):
    district = factories.area("District 5")
    path = path.format(slug=district.slug)
    response = client.get(path)
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        factories.incident(district, title="Fiber down")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_each_language_is_cached_apart(client):
    english = client.get("/", headers={"Accept-Language": "en"})
    hungarian = client.get("/", headers={"Accept-Language": "hu"})
    assert '<html lang="en"' in english.text and '<html lang="hu"' in hungarian.text
    assert "Accept-Language" in hungarian["Vary"]
    again = client.get("/", headers={"Accept-Language": "hu"})
    assert again.content == hungarian.content


def test_a_language_chosen_by_cookie_is_never_kept_by_a_shared_cache(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "he"
    response = client.get("/")
    assert '<html lang="he"' in response.text
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" not in response.get("Vary", "")


def test_htmx_search_and_plain_search_are_cached_apart(client):
    factories.area("Kelenföld")
    factories.area("Kelenvölgy")  # two matches: one alone would open its area
    plain = client.get("/search/?q=kelen")
    fragment = client.get("/search/?q=kelen", headers={"HX-Request": "true"})
    assert "<html" in plain.text and "<html" not in fragment.text and "Kelenföld" in fragment.text
    assert "HX-Request" in fragment["Vary"]


# The report form without a CSRF token -----------------------------------------


def report(client, area, **headers):
    fields = {"service": factories.service().pk, "problem": Problem.NO_SERVICE, "postcode": ""}
    return client.post(f"/areas/{area.slug}/report/", fields, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://shop.testserver"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ],
)
def test_a_report_posted_from_another_site_is_refused(headers):
    district = factories.area()
    response = report(Client(enforce_csrf_checks=True), district, **headers)
    assert response.status_code == 403
    assert "only be sent from this site" in response.text
    assert not ProblemReport.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Origin": "http://testserver"},
        {"Referer": "http://testserver/areas/x/"},
        {},  # not a browser page of another site: a script, which a token would not stop either
    ],
)
def test_a_report_from_our_own_page_needs_no_csrf_token(headers):
    district = factories.area()
    response = report(Client(enforce_csrf_checks=True), district, **headers)
    assert response.status_code == 302
    assert ProblemReport.objects.count() == 1


# A real server: another process's change, and the database going away ----------


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.django_db(transaction=True)
def test_a_change_made_elsewhere_shows_on_a_servers_cached_page_within_two_seconds(server):
    district = factories.area("District 5")
    url = f"{server.url}/areas/{district.slug}/"
    assert "Cable cut on Main Street" not in get(url)[2]
    assert get(url)[2] == get(url)[2]  # served from its cache
    factories.incident(district, title="Cable cut on Main Street")  # this process: the server learns by the outbox
    deadline = time.monotonic() + 2
    while "Cable cut on Main Street" not in get(url)[2]:
        assert time.monotonic() < deadline, "the change did not show within 2 s"
        time.sleep(0.1)


class TcpProxy:
    """A loopback TCP proxy in front of the database, to make it unreachable at will."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.running:
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.running = False
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        except OSError:
            pass
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def unreachable_database(tmp_path):
    """(DATABASE_URL for a server, a function that makes it unreachable).

    PostgreSQL: through a TCP proxy on loopback that is then stopped.
    SQLite (the embedded default): a copy of the test database, then
    overwritten so it can no longer be read."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{user}{password}@127.0.0.1:{proxy.port}/{db['NAME']}", proxy.stop
    if not db["ENGINE"].endswith("sqlite3"):
        missing(f"no way to make a {db['ENGINE']} database unreachable here")
    copy = tmp_path / "copy.sqlite3"
    connection.close()
    # The backup API, not a file copy: what is still in the write-ahead log
    # (another connection may hold it open) is copied too.
    source, target = sqlite3.connect(db["NAME"]), sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()

    def break_it():
        copy.write_bytes(b"this is not a database " * 1000)

    return f"sqlite:///{copy}", break_it


@pytest.mark.django_db(transaction=True)
def test_while_the_database_is_unreachable_the_last_good_page_is_served_marked_stale(make_server, tmp_path):
    district = factories.area("District 5")
    factories.incident(district, title="Cable cut on Main Street")
    database_url, make_unreachable = unreachable_database(tmp_path)
    server = make_server(DATABASE_URL=database_url, TIME_ZONE="UTC")
    pages = ["/", f"/areas/{district.slug}/", "/api/v2/summary.json"]
    good = {path: get(server.url + path) for path in pages}
    assert all(status == 200 for status, _, _ in good.values())

    make_unreachable()
    time.sleep(settings.LIVE_OUTBOX_POLL_SECONDS + 0.5)  # the server's status version is due for a read
    for path in ["/", f"/areas/{district.slug}/"]:
        status, headers, body = get(server.url + path)
        assert status == 200, body[:500]
        assert "X-Status-Stale" in headers and "110" in headers["Warning"]
        assert "Cable cut on Main Street" in body
        assert "Showing the status as of" in body
        assert STALE_TEXT in body
    status, headers, body = get(server.url + "/api/v2/summary.json")
    assert status == 200 and "X-Status-Stale" in headers
    assert "Cable cut on Main Street" in body
    # A page nobody had seen yet: a clear 503, not an error page.
    status, headers, body = get(server.url + "/history/")
    assert status == 503 and "Temporarily unavailable" in body and headers["Retry-After"]
