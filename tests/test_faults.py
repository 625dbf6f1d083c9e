"""Faults, injected for real: Redis killed and restarted while updates are
posted, daphne restarted under hundreds of live clients. Each test prints its
figures (run with -s to see them). Long-running: marked `faults`; they run in
CI like every other test (pytest -m faults runs only these).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from outages import services
from outages.live import publish
from outages.models import Incident, IncidentStatus
from tests import factories
from tests.conftest import create_server_operator
from tests.faults import PrivateRedis, Swarm, percentile
from tests.livecheck import ids_under

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def ws_url(server, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def http_status(url: str, timeout: float = 10) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def matches_database(incident_id: int):
    """What a client must show: every timeline entry and the latest message."""
    incident = Incident.objects.get(pk=incident_id)
    updates = {f"update-{pk}" for pk in incident.updates.values_list("pk", flat=True)}
    latest = incident.updates.order_by("-created_at").values_list("message", flat=True).first()

    def check(client) -> bool:
        if client.url.endswith(f"/ws/incidents/{incident_id}/"):
            if ids_under(client.view.get(f"timeline-{incident_id}"), "update-") != updates:
                return False
        return latest in client.text(f"incident-{incident_id}")

    return check


@pytest.fixture
def private_redis(settings):
    redis = PrivateRedis().start()
    # This process (the services' publisher, the cache) uses the private Redis too.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": redis.url, "socket_connect_timeout": 1}]},
        }
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "outages.cache.ResilientRedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
    publish.LayerSender._skip_until = 0.0
    yield redis
    redis.kill()
    publish.LayerSender._skip_until = 0.0


def test_redis_dying_and_returning_repeatedly_loses_no_save_no_page_and_no_live_change(make_server, private_redis):
    poll = 2.0
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district, title="Cable cut")
    operator = create_server_operator()
    server = make_server(REDIS_URL=private_redis.url, LIVE_OUTBOX_POLL_SECONDS=poll)
    admin = Client()
    admin.force_login(operator)
    public = Client()

    swarm = Swarm()
    try:
        swarm.add(ws_url(server, f"/ws/incidents/{incident.pk}/"), server.url, 10)
        swarm.add(ws_url(server, "/ws/status/"), server.url, 10)
        swarm.wait_connected()

        save_seconds = {"up": [], "down": []}
        delivery_seconds = {"up": [], "down": []}
        pages = Counter()
        readyz = Counter()
        n = 0

        def post(phase: str, via_admin: bool = False) -> None:
            nonlocal n
            n += 1
            message = f"Update {n} ({phase})"
            started = time.monotonic()
            if via_admin:
                current = Incident.objects.get(pk=incident.pk)
                response = admin.post(
                    f"/admin/outages/incident/{incident.pk}/change/",
                    {
                        "title": current.title,
                        "impact": current.impact,
                        "cause": "",
                        "cause_detail": "",
                        "areas": [district.pk],
                        "update_status": "identified",
                        "update_message": message,
                        "update_eta": timezone.localtime(current.eta).strftime("%Y-%m-%dT%H:%M"),
                        "seen_version": current.version,
                    },
                )
                assert response.status_code == 302, f"admin save failed with Redis {phase}: {response.status_code}"
            else:
                services.post_update(
                    Incident.objects.get(pk=incident.pk), status=IncidentStatus.IDENTIFIED, message=message
                )
            save_seconds[phase].append(time.monotonic() - started)
            waited = swarm.wait_until(lambda c: message in c.text(f"incident-{incident.pk}"), timeout=poll * 5)
            assert waited is not None, f"'{message}' did not reach every client with Redis {phase}"
            delivery_seconds[phase].append(waited)
            # Public pages, from the server (its cache is the dead Redis too) and here.
            for path in ["/", f"/areas/{district.slug}/", f"/incidents/{incident.pk}/", "/map/areas.geojson"]:
                pages[(phase, http_status(server.url + path))] += 1
            response = public.post(
                "/subscribe/",
                {"channel": "email", "email": f"p{n}@example.com", "areas": [district.slug], "language": "en"},
            )
            pages[(phase, response.status_code)] += 1
            readyz[(phase, http_status(server.url + "/readyz"))] += 1

        cycles = 3
        for cycle in range(cycles):
            for _ in range(2):
                post("up")
            private_redis.kill()
            for i in range(4):
                post("down", via_admin=(i == 0))
            private_redis.start()
            # Right after the return: the first saves may still be skipping the layer.
            recovered = swarm.wait_until(matches_database(incident.pk), timeout=30)
            assert recovered is not None, "a client still differs from the database 30 s after Redis returned"
            print(f"cycle {cycle + 1}: every client matched the database {recovered:.2f}s after Redis returned")

        time.sleep(publish.LayerSender.BACKOFF)  # the publisher tries the layer again
        for _ in range(4):
            post("up")

        assert swarm.count(lambda c: not c.connected.is_set()) == 0
        assert not [key for key in pages if key[1] >= 500], pages
        assert server.process.poll() is None
        total = sum(len(v) for v in save_seconds.values())
        print(
            f"\nRedis killed and restarted {cycles} times; {total} saves, all succeeded "
            f"({cycles} of them through the admin with Redis down)"
        )
        for phase in ("up", "down"):
            s, d = save_seconds[phase], delivery_seconds[phase]
            print(
                f"Redis {phase}: save p50 {percentile(s, 0.5) * 1000:.0f} ms, max {max(s) * 1000:.0f} ms; "
                f"save-to-every-client (20) p50 {percentile(d, 0.5):.2f} s, max {max(d):.2f} s"
            )
        print(f"page and form responses by status: {dict(pages)}; /readyz: {dict(readyz)}")
        print(f"client reconnects: {swarm.count(lambda c: c.connects > 1)} of {len(swarm.clients)}")
        # After the last return the layer's fast path works again: deliveries
        # come well inside the outbox poll interval (2 s).
        assert percentile(delivery_seconds["up"][-4:], 0.5) < poll / 2, delivery_seconds["up"][-4:]
    finally:
        swarm.close()
        connections.close_all()


def test_daphne_restarting_under_500_clients_brings_them_back_with_jitter_and_nothing_stale(make_server):
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district, title="Cable cut")
    servers = [make_server(), make_server()]
    per_server = 250
    swarm = Swarm()
    try:
        for server in servers:
            swarm.add(ws_url(server, f"/ws/incidents/{incident.pk}/"), server.url, 50)
            swarm.add(ws_url(server, "/ws/status/"), server.url, per_server - 50)
        swarm.wait_connected(timeout=120)
        assert len(swarm.clients) == 500

        # Both processes go down; updates are posted while nobody is connected.
        for server in servers:
            server.stop()
        down_at = time.monotonic()
        for n in range(3):
            services.post_update(
                Incident.objects.get(pk=incident.pk),
                status=IncidentStatus.IDENTIFIED,
                message=f"Posted while the servers were down ({n + 1})",
            )
        up_at = {}
        for server in servers:
            server.start()
            up_at[ws_url(server, "")] = time.monotonic()
        all_up = time.monotonic()

        check = matches_database(incident.pk)
        recovered = swarm.wait_until(check, timeout=120, step=0.5)
        stale = swarm.count(lambda c: not check(c))
        assert recovered is not None, f"{stale} of 500 clients still stale 120 s after the restart"

        # When each client came back, relative to the servers answering again.
        def returned(client) -> float:
            up = next(at for prefix, at in up_at.items() if client.url.startswith(prefix))
            return next(t for t in client.connected_at if t > down_at) - up

        returns = swarm.call(lambda: [returned(c) for c in swarm.clients])
        attempts = swarm.call(lambda: [sum(1 for t in c.closed_at if t > down_at) for c in swarm.clients])
        buckets = Counter(int(max(t, 0) * 10) for t in returns)  # 100 ms buckets
        per_second = Counter(int(max(t, 0)) for t in returns)
        print(
            f"\n500 clients on 2 daphne processes; both restarted ({all_up - down_at:.1f} s down, one after the other)"
        )
        print(
            f"reconnected after its server was up: p50 {percentile(returns, 0.5):.2f} s, p90 {percentile(returns, 0.9):.2f} s, "
            f"max {max(returns):.2f} s; failed attempts per client p50 {percentile(attempts, 0.5)}, max {max(attempts)}"
        )
        print(
            f"busiest 100 ms: {max(buckets.values())} reconnects ({max(buckets.values()) / 5:.1f}% of clients); "
            f"per second: {[per_second.get(s, 0) for s in range(int(max(returns)) + 1)]}"
        )
        print(f"every client matched the database {recovered:.1f} s after the servers were up; stale: {stale}")
        # No thundering herd: with full jitter the returns are spread out, not
        # one wave (a fixed delay would put all 500 in one bucket). Measured:
        # 12-20% in the busiest 100 ms, those whose retry fell while daphne started.
        assert max(buckets.values()) < 0.35 * len(swarm.clients), buckets.most_common(5)
    finally:
        swarm.close()
        connections.close_all()
