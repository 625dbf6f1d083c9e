"""Forms and search fuzzed with hypothesis: whatever is typed (or crafted),
the answer is a page or a clear 4xx, never a server error. Plus: the
OpenAPI document that schemathesis fuzzes lists every API route."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outages.api import openapi
from outages.models import Incident
from tests import factories
from tests.views.test_framing import all_patterns

pytestmark = pytest.mark.django_db
EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

# Text a person or a script might send: any unicode (no surrogates), long runs,
# markup, SQL, path tricks, control characters and NUL.
text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "' OR 1=1 --",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "%00",
            "1051",
            "Érd",
            "🙂" * 50,
            "a" * 5000,
            "\r\nSet-Cookie: x=1",
            "{{ 7*7 }}",
            "null",
            "[]",
        ]
    ),
)
values = st.one_of(text, st.lists(text, max_size=4))


@pytest.fixture
def world():
    district = factories.area("District 5", slug="district-5", postcodes="1051,1052")
    service = factories.service()
    incident = factories.incident(district, services=[service])
    return district, service, incident


def ok(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    return response.status_code


def test_search_answers_anything_without_a_server_error(client, world):
    @FUZZ
    @given(q=values, page=text)
    def check(q, page):
        ok(client.get("/search/", {"q": q, "page": page}), f"search {q!r}")
        ok(client.get("/search/", {"q": q}, headers={"HX-Request": "true"}), f"htmx search {q!r}")

    check()


def test_the_report_form_answers_anything_without_a_server_error(world):
    district, service, _ = world
    client = Client()

    @FUZZ
    @given(
        service_value=st.one_of(text, st.just(str(service.pk))),
        problem=st.one_of(text, st.just("no_service")),
        postcode=text,
        extra=st.dictionaries(text, text, max_size=3),
    )
    def check(service_value, problem, postcode, extra):
        cache.clear()
        data = {**extra, "service": service_value, "problem": problem, "postcode": postcode}
        ok(client.post(f"/areas/{district.slug}/report/", data), f"report {data!r}")

    check()


def test_the_subscribe_form_answers_anything_without_a_server_error(world):
    district, _, _ = world
    client = Client()

    @FUZZ
    @given(
        channel=st.one_of(text, st.sampled_from(["email", "sms", "webhook"])),
        email=text,
        phone=text,
        url=text,
        areas=st.one_of(values, st.just([district.slug])),
        language=st.one_of(text, st.just("en")),
    )
    def check(channel, email, phone, url, areas, language):
        cache.clear()
        data = {"channel": channel, "email": email, "phone": phone, "url": url, "areas": areas, "language": language}
        ok(client.post("/subscribe/", data), f"subscribe {data!r}")

    check()


def test_the_admin_update_form_answers_anything_without_a_server_error(world, admin_client):
    district, _, incident = world

    @FUZZ
    @given(
        status=st.one_of(text, st.sampled_from(["identified", "monitoring", "resolved"])),
        message=text,
        eta=st.one_of(text, st.sampled_from(["2031-01-01T10:00", "1999-01-01T10:00", ""])),
        title=text,
        impact=st.one_of(text, st.just("major")),
        version=st.one_of(text, st.just("1")),
        customers=text,
        next_update=text,
    )
    def check(status, message, eta, title, impact, version, customers, next_update):
        current = Incident.objects.get(pk=incident.pk)
        data = {
            "title": title,
            "impact": impact,
            "cause": "",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": status,
            "update_message": message,
            "update_eta": eta,
            "seen_version": version if version != "1" else current.version,
            "customers_affected": customers,
            "update_next_update_at": next_update,
        }
        ok(admin_client.post(f"/admin/outages/incident/{incident.pk}/change/", data), f"admin {data!r}")

    check()


def test_the_openapi_document_covers_every_api_route():
    documented = set(openapi.document()["paths"])
    routes = set()
    for route, _pattern in all_patterns():
        if route.startswith("api/") and not route.startswith("^"):
            routes.add(
                "/"
                + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", route)
            )
    assert routes - documented == set(), f"API routes missing from the OpenAPI document: {routes - documented}"
