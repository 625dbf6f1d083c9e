"""Update cadence: an update without a "next update by" promises the next one
within its impact's cadence; the console flags due-soon and overdue incidents,
and lists them live."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from outages import services
from outages.models import Impact, IncidentStatus, Team, TeamRegion
from outages.queries import cadence, current
from statuspage.settings import env_minutes_by_name
from tests import factories

pytestmark = pytest.mark.django_db
CADENCE = {"critical": 60, "major": 120, "minor": 360}
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cadence_on():
    with override_settings(UPDATE_CADENCE_MINUTES=CADENCE):
        yield


@pytest.fixture
def ops(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def test_the_setting_is_read_from_the_environment_and_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("UPDATE_CADENCE_MINUTES", "critical=30, major=90")
    assert env_minutes_by_name("UPDATE_CADENCE_MINUTES", "") == {"critical": 30, "major": 90}
    monkeypatch.delenv("UPDATE_CADENCE_MINUTES")
    assert env_minutes_by_name("UPDATE_CADENCE_MINUTES", "critical=60,major=120,minor=360") == CADENCE
    for bad in ["critical", "critical=soon", "major=0", "=5"]:
        monkeypatch.setenv("UPDATE_CADENCE_MINUTES", bad)
        with pytest.raises(ImproperlyConfigured):
            env_minutes_by_name("UPDATE_CADENCE_MINUTES", "")


@pytest.mark.parametrize(("impact", "minutes"), [(Impact.CRITICAL, 60), (Impact.MAJOR, 120), (Impact.MINOR, 360)])
def test_opening_and_updating_without_a_promise_promise_the_impacts_cadence(impact, minutes):
    with time_machine.travel(T0, tick=False):
        incident = factories.incident(impact=impact, eta_in=None)
        assert incident.next_update_at == T0 + timedelta(minutes=minutes)
        assert incident.updates.get().next_update_at == T0 + timedelta(minutes=minutes)
    later = T0 + timedelta(minutes=25)
    with time_machine.travel(later, tick=False):
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Found it")
        incident.refresh_from_db()
        assert incident.next_update_at == later + timedelta(minutes=minutes)


def test_an_explicit_promise_wins_and_impact_none_or_maintenance_or_resolution_promise_nothing():
    with time_machine.travel(T0, tick=False):
        chosen = T0 + timedelta(minutes=15)
        incident = factories.incident(impact=Impact.CRITICAL, next_update_at=chosen)
        assert incident.next_update_at == chosen
        assert factories.incident(impact=Impact.NONE).next_update_at is None
        window = services.schedule_maintenance(
            title="Works",
            areas=[factories.area()],
            scheduled_for=T0 - timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=2),
        )
        services.start_maintenance(window)
        window.refresh_from_db()
        assert window.next_update_at is None
        services.resolve(incident)
        incident.refresh_from_db()
        assert incident.next_update_at is None


def test_due_soon_and_overdue_flags_at_the_boundary():
    with time_machine.travel(T0, tick=False):
        incident = factories.incident(impact=Impact.CRITICAL)  # promise at 13:00
    promise = T0 + timedelta(minutes=60)
    eleven_before = promise - timedelta(minutes=10, seconds=1)
    ten_before = promise - timedelta(minutes=10)
    assert not cadence.is_due_soon(incident, eleven_before) and not current.is_overdue(incident, eleven_before)
    assert cadence.is_due_soon(incident, ten_before) and not current.is_overdue(incident, ten_before)
    one_second_before = promise - timedelta(seconds=1)
    assert cadence.is_due_soon(incident, one_second_before) and not current.is_overdue(incident, one_second_before)
    assert current.is_overdue(incident, promise) and not cadence.is_due_soon(incident, promise)
    assert cadence.due_incidents(now=eleven_before) == []
    assert cadence.due_incidents(now=ten_before) == [incident]
    assert cadence.due_incidents(now=promise + timedelta(hours=5)) == [incident]


def test_the_console_list_and_the_live_view_flag_due_soon_and_overdue(ops):
    with time_machine.travel(T0, tick=False):
        soon = factories.incident(title="Critical cut", impact=Impact.CRITICAL)  # due 13:00
        late = factories.incident(
            title="Minor & <noisy>", impact=Impact.MINOR, next_update_at=T0 + timedelta(minutes=5)
        )
        calm = factories.incident(title="Major calm", impact=Impact.MAJOR)  # due 14:00
    with time_machine.travel(T0 + timedelta(minutes=52), tick=False):
        listing = ops.get("/admin/outages/incident/").text
        assert listing.count(">Due soon<") == 1 and listing.count('console-overdue">Overdue<') == 1
        page = ops.get("/admin/outages/updatedue/")
        assert page.status_code == 200 and 'hx-trigger="every 10s"' in page.text
        fragment = ops.get("/admin/outages/updatedue/fragment/").text
        assert f'id="update-due-{soon.pk}"' in fragment and f'id="update-due-{late.pk}"' in fragment
        assert f'id="update-due-{calm.pk}"' not in fragment
        assert "Minor &amp; &lt;noisy&gt;" in fragment and "<noisy>" not in fragment
        # The most overdue first.
        assert fragment.index(f"update-due-{late.pk}") < fragment.index(f"update-due-{soon.pk}")
        services.post_update(late, status=IncidentStatus.IDENTIFIED, message="Update")  # promises 6 h ahead
        assert f'id="update-due-{late.pk}"' not in ops.get("/admin/outages/updatedue/fragment/").text


def test_the_live_view_stops_polling_when_the_session_ended(client):
    response = client.get("/admin/outages/updatedue/fragment/")
    assert response.status_code == 286 and "Log in again" in response.text


def test_an_operator_sees_only_their_regions_incidents_due(client, django_user_model):
    mine, theirs = factories.region(), factories.region()
    team = Team.objects.create(name="North", public_name="North team")
    TeamRegion.objects.create(team=team, region=mine)
    user = django_user_model.objects.create_user("north", "n@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_incident", "change_incident"]))
    team.members.add(user)
    client.force_login(user)
    with time_machine.travel(T0, tick=False):
        own = factories.incident(factories.area(region_obj=mine), impact=Impact.CRITICAL)
        other = factories.incident(factories.area(region_obj=theirs), impact=Impact.CRITICAL)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        fragment = client.get("/admin/outages/updatedue/fragment/").text
    assert f"update-due-{own.pk}" in fragment and f"update-due-{other.pk}" not in fragment
