"""The ops history report: ETA honesty, mean time to restore and availability
per region, area and service, in the admin."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.queries import history as read_history
from outages.queries import ops_history
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/admin/outages/incident/history-report/"


@pytest.fixture
def ops(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.invalid", "pw")
    client.force_login(user)
    return client


def outage(areas, *, started, minutes, eta_after=None, services_=()):
    incident = services.open_incident(title="Outage", areas=areas, started_at=started, services=services_)
    if eta_after is not None:
        services.post_update(incident, status="identified", eta=started + timedelta(minutes=eta_after), at=started)
    services.resolve(incident, at=started + timedelta(minutes=minutes))
    return incident


def test_history_report_needs_staff_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_incident_list_links_to_the_history_report(ops):
    assert URL in ops.get("/admin/outages/incident/").text


def test_history_report_shows_eta_honesty_and_time_to_restore_per_region_area_and_service(ops):
    north = factories.region("North")
    south = factories.region("South")
    town = factories.area("Northtown", region_obj=north)
    village = factories.area("Southvillage", region_obj=south)
    fiber = factories.service("Fiber", "fiber")
    started = timezone.now() - timedelta(days=5)
    outage([town], started=started, minutes=60, eta_after=90, services_=[fiber])  # kept
    outage([town, village], started=started - timedelta(days=1), minutes=180, eta_after=60)  # 2 h late
    # Older than 90 days: not counted.
    outage([village], started=timezone.now() - timedelta(days=120), minutes=600, eta_after=30)

    report = ops_history.ops_report()
    rows = {row.label: row for row in [report.overall, *report.regions, *report.services]}
    assert (rows["All areas"].eta.given, rows["All areas"].eta.kept) == (2, 1)
    assert rows["All areas"].mean_time_to_restore == timedelta(minutes=120)
    assert rows["North"].outages == 2 and rows["North"].eta.median_slip == timedelta(hours=2)
    assert rows["South"].outages == 1 and rows["South"].mean_time_to_restore == timedelta(hours=3)
    assert rows["Fiber"].outages == 1 and rows["Fiber"].mean_time_to_restore == timedelta(hours=1)
    areas = {row.obj.name: row for row in report.areas}
    assert areas["Northtown"].eta_text == "1 of 2 (50%)"
    assert areas["Southvillage"].availability < 100

    text = ops.get(URL).text
    assert "By region" in text and "By area" in text and "By service" in text
    assert "North › Northtown" in text and "1 of 2 (50%)" in text
    assert "In the last 90 days, 1 of 2 outages were fixed by the first time we gave." in text
    assert "2\xa0hours" in text  # median slip / mean time to restore


def test_eta_honesty_applies_to_any_set_of_areas_such_as_a_team(ops):
    region = factories.region()
    mine, theirs = factories.area(region_obj=region), factories.area(region_obj=region)
    started = timezone.now() - timedelta(days=2)
    outage([mine], started=started, minutes=30, eta_after=60)
    outage([theirs], started=started, minutes=90, eta_after=60)
    team_areas = region.areas.filter(pk=mine.pk)  # what a team's areas queryset looks like
    assert (
        read_history.eta_honesty_for_areas(team_areas)
        .sentence(here=False)
        .startswith("In the last 90 days, 1 of 1 outage was fixed")
    )
    assert read_history.mean_time_to_restore_for_areas(team_areas) == timedelta(minutes=30)


def test_history_report_query_count_does_not_grow_with_incidents(ops):
    region = factories.region()
    areas = [factories.area(region_obj=region) for _ in range(3)]
    started = timezone.now() - timedelta(days=2)
    outage(areas[:1], started=started, minutes=30, eta_after=60)
    with CaptureQueriesContext(connection) as small:
        assert ops.get(URL).status_code == 200
    for n in range(40):
        outage(areas, started=started - timedelta(days=n * 2), minutes=30 + n, eta_after=45)
    with CaptureQueriesContext(connection) as large:
        assert ops.get(URL).status_code == 200
    assert len(small) == len(large)


def test_history_report_has_a_row_per_team_covering_its_regions_and_subregions(ops):
    from outages.models import Team, TeamRegion

    north, south = factories.region("North"), factories.region("South")
    valley = factories.region("Valley", parent=north)
    kept, late = factories.area(region_obj=valley), factories.area(region_obj=south)
    started = timezone.now() - timedelta(days=3)
    outage([kept], started=started, minutes=30, eta_after=60)  # fixed by the first ETA
    outage([late], started=started, minutes=120, eta_after=60)  # an hour late
    northern = Team.objects.create(name="Northern crew", public_name="North")
    TeamRegion.objects.create(team=northern, region=north)
    southern = Team.objects.create(name="Southern crew", public_name="South")
    TeamRegion.objects.create(team=southern, region=south)
    report = ops_history.ops_report()
    rows = {row.label: row for row in report.teams}
    assert (rows["Northern crew"].eta.kept, rows["Northern crew"].eta.given) == (1, 1)  # via the sub-region
    assert (rows["Southern crew"].eta.kept, rows["Southern crew"].eta.given) == (0, 1)
    assert rows["Southern crew"].eta.median_slip == timedelta(hours=1)
    page = ops.get(URL).text
    assert "By team" in page and "Northern crew" in page and "Southern crew" in page
