"""schemathesis against /api/openapi.json: every JSON endpoint, positive and
negative data, zero server errors and zero schema violations."""

import os
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from outages import services
from outages.api import openapi
from outages.models import Impact
from outages.services import api_tokens
from tests import factories

pytestmark = pytest.mark.django_db
# More in a long run: SCHEMATHESIS_EXAMPLES=500 pytest tests/test_openapi.py
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "60"))


@pytest.fixture
def token():
    user = get_user_model().objects.create_superuser("robot", "robot@example.com", "x")
    return api_tokens.create_token(user=user, name="schemathesis")[1]


@pytest.fixture
def data():
    district = factories.area("District 5", slug="district-5", postcodes="1051,1052")
    other = factories.area("Érd", slug="erd", postcodes="2030")
    factories.incident(district, other, title="Fiber <b>down</b>", services=[factories.service()])
    soon = timezone.now() + timedelta(days=1)
    services.schedule_maintenance(
        title="Cabinet swap",
        areas=[other],
        scheduled_for=soon,
        scheduled_until=soon + timedelta(hours=2),
        impact=Impact.MINOR,
    )


@pytest.fixture
def wsgi_app():
    """The real WSGI app, in this thread, on the test transaction: like the
    test client, keep the request signals from closing the connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return schema, [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_every_json_endpoint_keeps_to_its_openapi_document(wsgi_app, data, token, mode):
    schema, ops = operations(wsgi_app)
    assert len(ops) >= 14
    document = openapi.document()["paths"]
    for operation in ops:
        spec = document[operation.path][operation.method.lower()]
        if mode is GenerationMode.NEGATIVE and not (spec.get("parameters") or spec.get("requestBody")):
            continue  # nothing to make invalid
        manage = "/manage/" in operation.path
        headers = {"Authorization": f"Bearer {token}"} if manage else None
        # A schema-valid body may still break a business rule (an area slug
        # that does not exist, an ETA in the past): the management API answers
        # those with 400, so "valid data accepted" is checked on reads only.
        excluded = [positive_data_acceptance] if manage else None

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        check()
