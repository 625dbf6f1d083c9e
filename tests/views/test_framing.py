"""Framing: only the widget may be framed (by EMBED_ALLOWED_ORIGINS); every
other URL pattern, now and in the future, refuses to be framed."""

import re

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from tests import factories

pytestmark = pytest.mark.django_db

# Routes that are made to be framed. Nothing else may be.
EMBED_ROUTES = {"embed/", "embed/areas/<slug:slug>/"}
# Patterns given as regular expressions need a hand-written example.
REGEX_EXAMPLES = {
    "admin/^(?P<app_label>auth|django_tasks_database|outages)/$": "/admin/outages/",
    "admin/(?P<url>.*)$": "/admin/no-such-page/",
    r"^api/(?P<rest>[\s\S]*)\Z": "/api/no-such-endpoint/",
}


def all_patterns(patterns=None, prefix=""):
    """(route, pattern) for every URL pattern of the project, included ones too."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from all_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern


def example_url(route: str, pattern: URLPattern, samples: dict) -> str:
    if not isinstance(pattern.pattern, RoutePattern):
        assert route in REGEX_EXAMPLES, f"add an example URL for the pattern {route!r} to REGEX_EXAMPLES"
        return REGEX_EXAMPLES[route]

    def fill(match):
        converter, name = (match.group(1) or "str"), match.group(2)
        return str(samples.get(name) or samples[converter])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


def frame_ancestors(response) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip())
    return directives.get("frame-ancestors", "")


@pytest.fixture
def every_url(admin_client):
    """Each URL pattern with an example URL that resolves to it, and a client that may see all."""
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district)
    samples = {
        "slug": district.slug,
        "pk": incident.pk,
        "int": incident.pk,
        "id": 1,
        "object_id": incident.pk,
        "content_type_id": 1,
        "str": "1",
        "path": "1",
    }
    urls = []
    for route, pattern in all_patterns():
        url = example_url(route, pattern, samples)
        assert resolve(url).func is pattern.callback, f"{url} does not reach the pattern {route!r}"
        urls.append((route, url))
    return admin_client, urls


def test_every_url_pattern_refuses_framing_except_the_widget(every_url):
    client, urls = every_url
    assert len(urls) > 20
    embeds = [(route, url) for route, url in urls if route in EMBED_ROUTES]
    assert {route for route, _ in embeds} == EMBED_ROUTES
    for route, url in urls:
        response = client.get(url)
        if route in EMBED_ROUTES:
            assert response.status_code == 200, url
            assert frame_ancestors(response) == "*", url
            assert "X-Frame-Options" not in response.headers, url
        else:
            assert frame_ancestors(response) == "'none'", f"{url} ({response.status_code}) may be framed"
            assert response.headers.get("X-Frame-Options") == "DENY", url


def test_an_unknown_address_refuses_framing(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert frame_ancestors(response) == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_the_widget_may_be_framed_only_by_the_configured_origins(client):
    district = factories.area(slug="district-6")
    with override_settings(EMBED_ALLOWED_ORIGINS=["https://town.example", "https://*.landlord.example"]):
        for url in ["/embed/", f"/embed/areas/{district.slug}/", "/embed/areas/no-such-area/", "/embed/?theme=purple"]:
            response = client.get(url)
            assert frame_ancestors(response) == "https://town.example https://*.landlord.example", url
            assert "X-Frame-Options" not in response.headers
        # The rest of the policy is the site's.
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert frame_ancestors(client.get("/")) == "'none'"


def test_an_empty_origin_list_lets_nobody_frame_the_widget(client):
    with override_settings(EMBED_ALLOWED_ORIGINS=[]):
        assert frame_ancestors(client.get("/embed/")) == "'none'"


def test_a_malformed_embed_origin_is_refused_at_start():
    from tests.core.test_settings import run_manage

    result = run_manage("check", DEBUG="1", EMBED_ALLOWED_ORIGINS="https://town.example; script-src *")
    assert result.returncode != 0 and "outages.E001" in result.stderr
    assert (
        run_manage(
            "check", DEBUG="1", EMBED_ALLOWED_ORIGINS="https://town.example,https://*.landlord.example:8443"
        ).returncode
        == 0
    )
