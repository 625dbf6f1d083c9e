"""The console shows the suggested ETA, the median, the spread and the count
beside the ETA field, pre-filled but not forced, and posts the estimate stage."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from outages.models import Cause, EtaStage, IncidentStatus
from tests import factories
from tests.core.test_estimates import ten_cable_cuts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_change_form_suggests_an_eta_with_median_spread_and_count(ops):
    area = factories.area()
    ten_cable_cuts(area)  # 10..100 minutes: p80 80, median 50, p20 20
    incident = factories.incident(area, eta_in=None, cause=Cause.CABLE_CUT)
    page = ops.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert 'data-estimate-minutes="80"' in page
    assert "Based on 10 similar outages (same cause, region, impact)." in page
    assert "Median 50\xa0minutes; spread 20\xa0minutes – 1\xa0hour, 20\xa0minutes" in page
    suggested = incident.started_at + timedelta(minutes=80)
    assert f'value="{_local(suggested)}"' in page
    assert 'name="update_eta_stage"' in page


@override_settings(ESTIMATE_MIN_SAMPLES=5)
def test_the_suggestion_is_not_prefilled_once_an_operator_gave_an_eta_and_is_absent_below_k(ops):
    area = factories.area()
    ten_cable_cuts(area)
    incident = factories.incident(area, eta_in=timedelta(hours=5), cause=Cause.CABLE_CUT)
    page = ops.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert f'value="{_local(incident.eta)}"' in page
    assert f'value="{_local(incident.started_at + timedelta(minutes=80))}"' not in page
    other = factories.incident(factories.area(), eta_in=None, cause=Cause.POWER)
    page = ops.get(f"/admin/outages/incident/{other.pk}/change/").text
    assert "No suggestion: fewer than 5 similar outages in the last 12 months." in page


def test_the_operator_posts_a_stage_with_an_update(ops):
    area = factories.area()
    incident = factories.incident(area)
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "cause": "",
            "cause_detail": "",
            "areas": [area.pk],
            "update_status": IncidentStatus.IDENTIFIED,
            "update_message": "",
            "update_eta": _local(incident.eta),
            "update_eta_stage": EtaStage.ON_SITE,
            "seen_version": incident.version,
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.eta_stage == EtaStage.ON_SITE and incident.updates.count() == 2
