"""Large data: 1,000 areas, 100,000 past incidents, 500,000 updates.

Seeds the database named by DATABASE_URL (once: it is reused when already
seeded), then renders `/`, an area page and `/api/v2/summary.json` with the
page cache off and prints the number of queries and the milliseconds per
uncached render (median of several), and the cost of the automatic first
estimate an incident gets when it opens (outages/queries/estimates.py). `--explain` prints the plan of every
query of each render (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_cache_bench \\
        .venv/bin/python bench/bigdata.py [--explain]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

AREAS, INCIDENTS, UPDATES_PER_INCIDENT, ACTIVE = 1_000, 100_000, 5, 20
PAGES = ["/", "/areas/{slug}/", "/api/v2/summary.json", "/summary/", "/api/summary/regions.json"]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if missing and migrate it."""
    import subprocess

    if url.startswith("postgres"):
        from urllib.parse import urlsplit

        import psycopg

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def seed() -> None:
    from django.db import transaction
    from django.utils import timezone

    from outages.models import (
        Cause,
        Impact,
        Incident,
        IncidentArea,
        IncidentStatus,
        IncidentUpdate,
        Region,
        ServiceArea,
    )

    if Incident.objects.count() >= INCIDENTS:
        return
    started = time.monotonic()
    rng = random.Random(7)
    # Causes from a generator of their own, so the rest of the data is as before.
    causes = random.Random(11)
    cause_values = [value for value in Cause.values if value and value != Cause.PLANNED]
    now = timezone.now()
    with transaction.atomic():
        regions = Region.objects.bulk_create(
            [Region(name=f"Region {n}", slug=f"region-{n}", position=n) for n in range(20)]
        )
        areas = ServiceArea.objects.bulk_create(
            [
                ServiceArea(
                    name=f"Area {n}", slug=f"area-{n}", region=regions[n % 20], postcodes=f",{1000 + n},", position=n
                )
                for n in range(AREAS)
            ]
        )
    batch = 5_000
    for first in range(0, INCIDENTS, batch):
        with transaction.atomic():
            incidents = []
            for n in range(first, min(first + batch, INCIDENTS)):
                active = n >= INCIDENTS - ACTIVE
                start = (
                    now - timedelta(minutes=rng.randint(10, 3 * 365 * 24 * 60))
                    if not active
                    else now - timedelta(hours=1)
                )
                incidents.append(
                    Incident(
                        title=f"Outage {n}",
                        status=IncidentStatus.IDENTIFIED if active else IncidentStatus.RESOLVED,
                        impact=rng.choice([Impact.MINOR, Impact.MAJOR, Impact.CRITICAL]),
                        cause=causes.choice(cause_values),
                        started_at=start,
                        resolved_at=None if active else start + timedelta(minutes=rng.randint(5, 600)),
                    )
                )
            incidents = Incident.objects.bulk_create(incidents)
            links, updates = [], []
            for incident in incidents:
                for area in rng.sample(areas, rng.choice([1, 1, 1, 2, 3])):
                    links.append(IncidentArea(incident=incident, area=area, added_at=incident.started_at))
                for k in range(UPDATES_PER_INCIDENT):
                    last = k == UPDATES_PER_INCIDENT - 1
                    updates.append(
                        IncidentUpdate(
                            incident=incident,
                            status=incident.status if last else IncidentStatus.INVESTIGATING,
                            message=f"Update {k} on {incident.title}.",
                            created_at=incident.started_at + timedelta(minutes=k),
                        )
                    )
            IncidentArea.objects.bulk_create(links)
            IncidentUpdate.objects.bulk_create(updates)
        print(f"  seeded {min(first + batch, INCIDENTS):,} incidents", end="\r", flush=True)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded in {time.monotonic() - started:.0f} s{' ' * 20}")


def measure(explain: bool = False, runs: int = 7) -> list[dict]:
    """Queries and milliseconds per uncached render of each page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from outages.models import IncidentArea

    busiest = IncidentArea.objects.values_list("area__slug", flat=True).order_by("-incident__started_at").first()
    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    with override_settings(PAGE_CACHE_SECONDS=0, ALLOWED_HOSTS=["*"]):
        for page in PAGES:
            path = page.format(slug=busiest)
            client.get(path)  # warm
            timings, counts = [], []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                counts.append(len(queries))
            results.append(
                {"path": path, "queries": max(counts), "ms": statistics.median(timings), "bytes": len(response.content)}
            )
            if explain and connection.vendor == "postgresql":
                for query in queries.captured_queries:
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN ANALYZE " + query["sql"])
                        plan = "\n    ".join(row[0] for row in cursor.fetchall())
                    print(f"\n{path} ({query['time']} s): {query['sql'][:300]}\n    {plan}")
    return results


def measure_estimates(runs: int = 3) -> dict:
    """Milliseconds and queries of the estimate an incident gets when it opens:
    for every active incident, and for every cause in one region (each
    fallback level in turn)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from outages.models import Cause, Impact, Incident, Region
    from outages.queries import estimates

    region = Region.objects.order_by("pk").first()
    calls = [lambda incident=incident: estimates.estimate_for(incident) for incident in Incident.objects.active()]
    calls += [
        lambda cause=cause: estimates.estimate(cause=cause, region_ids=[region.pk], impact=Impact.MAJOR)
        for cause in Cause.values
    ]
    timings, counts, found = [], [], 0
    for call in calls:
        call()  # warm
        best = None
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = call()
                elapsed = (time.perf_counter() - started) * 1000
            best = elapsed if best is None else min(best, elapsed)
        timings.append(best)
        counts.append(len(queries))
        found += result is not None
    return {
        "calls": len(calls),
        "found": found,
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "max_queries": max(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not args.no_seed:
        ensure_database(url)
    import django

    django.setup()
    if not args.no_seed:
        seed()
    from outages.models import Incident, IncidentUpdate, ServiceArea

    print(
        f"data: {ServiceArea.objects.count():,} areas, {Incident.objects.count():,} incidents, "
        f"{IncidentUpdate.objects.count():,} updates"
    )
    for row in measure(args.explain):
        print(f"uncached {row['path']:<28} {row['queries']:>3} queries  {row['ms']:8.1f} ms  {row['bytes']:>8,} bytes")
    cost = measure_estimates()
    print(
        f"estimate per incident opened: median {cost['median_ms']:.1f} ms, max {cost['max_ms']:.1f} ms, "
        f"at most {cost['max_queries']} queries ({cost['calls']} incidents, {cost['found']} with an estimate)"
    )


if __name__ == "__main__":
    main()
