"""Security headers on every URL pattern (the same walk as test_framing):
a strict CSP, nosniff, a referrer policy, and HSTS over TLS only."""

import pytest

from tests.views.test_framing import every_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip())


def test_every_url_pattern_sends_a_strict_policy_nosniff_and_a_referrer_policy(every_url):  # noqa: F811
    client, urls = every_url
    checked = 0
    for route, url in urls:
        response = client.get(url, secure=True)
        policy = directives(response)
        where = f"{url} ({response.status_code})"
        assert "script-src" in policy, f"{where}: no script-src"
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"], where
        assert policy.get("object-src") == "'none'" and policy.get("base-uri") == "'none'", where
        assert response.headers.get("X-Content-Type-Options") == "nosniff", where
        assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts, f"{where}: HSTS {hsts!r}"
        checked += 1
    print(f"\n{checked} URL patterns: strict CSP, nosniff, referrer policy and HSTS over TLS")


def test_hsts_is_sent_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert "Strict-Transport-Security" in client.get("/", secure=True).headers
