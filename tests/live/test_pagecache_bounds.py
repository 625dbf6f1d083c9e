"""The page cache is keyed by what changes the page: path, the parameters the
page declares (normalised, in order) and the language. Unknown parameters do
not make new entries, and a flood of 10,000 distinct query strings leaves the
cache's entries and memory bounded and the last good copy of `/` in place.

Runs on the local-memory cache, and on Redis when REDIS_URL is set (the CI
PostgreSQL + Redis pass)."""

import pickle

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client

from outages.live import pagecache
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]


def page_entries() -> tuple[int, int]:
    """(how many page entries the cache holds, their bytes), whatever the backend."""
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match="statuspage:*:page*", count=1000))
        return len(keys), sum(client.memory_usage(key) or 0 for key in keys)
    count = size = 0
    own = getattr(pagecache, "_Stores", None)
    stores = [cache, *((own.pages, own.last_good) if own else ())]
    for store in stores:
        if store is None:
            continue
        for key, value in store._cache.items():
            if ":page" in key:
                count += 1
                size += len(value) if isinstance(value, bytes) else len(pickle.dumps(value))
    return count, size


def test_unknown_parameters_share_the_page_and_the_view_never_sees_them(client):
    factories.area("Budapest District 5")
    first = client.get("/?zz=1")
    assert first.status_code == 200
    before = page_entries()
    for n in range(2, 50):
        assert client.get(f"/?zz={n}&utm_source=x{n}").content == first.content
    assert page_entries()[0] == before[0]
    # The language switcher's "next" is the canonical path, not what the client sent.
    assert "zz=" not in first.text and 'name="next" value="/"' in first.text


def test_declared_parameters_are_normalised_and_ordered(client):
    factories.area("Budapest District 5")
    a = client.get("/history/?service=&area=&page=1&zz=9")
    count = page_entries()[0]
    b = client.get("/history/?page=1&area=&service=&yy=1")
    assert a.status_code == b.status_code == 200 and page_entries()[0] == count


def test_a_flood_of_distinct_query_strings_stays_bounded_and_keeps_the_last_good_home(client, settings):
    factories.area("Budapest District 5", postcodes="1051")
    home = client.get("/")
    assert home.status_code == 200
    # 10,000 distinct query strings: unknown parameters on the home page and
    # the map, and distinct (legitimate) search terms and history pages.
    flood = [f"/?zz={n}" for n in range(6000)] + [f"/map/?x={n}" for n in range(1000)]
    flood += [f"/search/?q=flood{n}" for n in range(2500)] + [f"/history/?page={n}" for n in range(2, 502)]
    assert len(set(flood)) == 10_000
    for path in flood:
        assert client.get(path).status_code in (200, 404)
    entries, size = page_entries()
    bound = settings.PAGE_CACHE_QUERY_ENTRIES + settings.PAGE_LAST_GOOD_QUERY_ENTRIES + 10
    print(f"\nafter 10,000 distinct query strings: {entries} page entries, {size / 1024:.0f} KiB (bound {bound})")
    assert entries <= bound
    assert size <= bound * 64 * 1024
    # The home page is still its last good copy. A change lands (a new status version: nothing fresh left), then the database goes away.
    pagecache.bump()

    def unreachable(execute, sql, params, many, context):
        raise OperationalError("database unreachable (test)")

    with connection.execute_wrapper(unreachable):
        stale = Client().get("/")
    assert stale.status_code == 200 and pagecache.STALE_HEADER in stale
    assert "Budapest District 5" in stale.text
