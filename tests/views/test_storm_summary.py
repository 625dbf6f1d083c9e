"""The storm at a glance: customers out of customers served per region, on
/summary/, the home page, as JSON and CSV, live through the push; storm mode."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.live import fragments
from outages.live.groups import STATUS_GROUP
from outages.models import CustomersServed, Impact, IncidentStatus, StormSettings
from outages.queries import summary
from outages.services import area_import
from tests import factories

pytestmark = pytest.mark.django_db


def served(area, service, customers):
    CustomersServed.objects.create(area=area, service=service, customers=customers)


@pytest.fixture
def storm():
    """North: A (fiber 1000, power 500) and B (fiber 200); South: C (fiber 300).
    Three overlapping outages in A, one naming no service in C, maintenance in B."""
    fiber, power = factories.service("Fiber internet", slug="fiber"), factories.service("Power", slug="power")
    north, south = factories.region("North", slug="north"), factories.region("South", slug="south")
    a = factories.area("A", slug="a", region_obj=north)
    b = factories.area("B", slug="b", region_obj=north)
    c = factories.area("C", slug="c", region_obj=south)
    served(a, fiber, 1000)
    served(a, power, 500)
    served(b, fiber, 200)
    served(c, fiber, 300)
    now = timezone.now()
    first = factories.incident(a, services=[fiber], eta_in=timedelta(hours=1))
    second = factories.incident(a, services=[fiber], eta_in=timedelta(hours=5))
    third = factories.incident(a, services=[fiber, power], eta_in=None)
    services.edit_incident(first, area_customers={a.pk: 400})
    services.edit_incident(second, area_customers={a.pk: 600})
    services.edit_incident(third, area_customers={a.pk: 300})
    southern = factories.incident(c, eta_in=timedelta(hours=3), customers_affected=500)
    works = services.schedule_maintenance(
        title="Works",
        areas=[b],
        scheduled_for=now - timedelta(hours=1),
        scheduled_until=now + timedelta(hours=1),
        customers_affected=200,
    )
    services.start_maintenance(works)
    return {"a": a, "c": c, "first": first, "second": second, "third": third, "southern": southern, "fiber": fiber}


def rows_by_slug(table):
    return {row.region.slug: row for row in table.rows}


def test_overlapping_outages_count_a_customer_once_per_service_capped_at_customers_served(storm):
    table = summary.storm_summary()
    north, south = rows_by_slug(table)["north"], rows_by_slug(table)["south"]
    # A: fiber max(400, 600, 300) = 600, power 300; maintenance in B is not counted.
    assert (north.out, north.served, north.percent, north.incidents) == (900, 1700, 52.9, 3)
    assert north.earliest_eta == storm["first"].eta and north.latest_eta == storm["second"].eta
    # C: an outage naming no service affects every service there, no more than are served.
    assert (south.out, south.served, south.percent, south.incidents) == (300, 300, 100.0, 1)
    assert (table.total.out, table.total.served, table.total.percent, table.total.incidents) == (1200, 2000, 60.0, 4)
    assert table.total.earliest_eta == storm["first"].eta and table.total.latest_eta == storm["second"].eta


def test_an_incident_total_is_shared_among_its_areas_by_customers_served():
    fiber = factories.service(slug="fiber")
    region = factories.region(slug="west")
    big, small = factories.area(region_obj=region), factories.area(region_obj=region)
    served(big, fiber, 900)
    served(small, fiber, 100)
    factories.incident(big, small, services=[fiber], customers_affected=500)
    row = rows_by_slug(summary.storm_summary())["west"]
    assert row.out == 500 and row.incidents == 1


def test_json_and_csv_give_the_same_table_with_a_total_row(client, storm):
    data = client.get("/api/summary/regions.json").json()
    assert [row["region"]["slug"] for row in data["regions"]] == ["north", "south"]
    north = data["regions"][0]
    assert north["customers_out"] == 900 and north["customers_served"] == 1700 and north["percent_out"] == 52.9
    assert north["incidents"] == 3 and north["earliest_eta"] == storm["first"].eta.isoformat()
    assert data["total"]["customers_out"] == 1200 and data["total"]["region"] is None
    response = client.get("/api/summary/regions.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["region_slug", "region", "customers_out", "customers_served"]
    assert rows[1][:6] == ["north", "North", "900", "1700", "52.9", "3"]
    assert rows[-1][:6] == ["", "Total", "1200", "2000", "60.0", "4"]
    assert client.get("/api/summary/regions.json?x=1").status_code == 400


def test_csv_cells_that_look_like_formulas_are_defused(client):
    region = factories.region("=HYPERLINK(1)", slug="odd")
    area = factories.area(region_obj=region)
    served(area, factories.service(), 10)
    rows = list(csv.reader(io.StringIO(client.get("/api/summary/regions.csv").content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_page_is_sortable_with_plain_links_and_escapes_names(client, storm):
    page = client.get("/summary/").text
    assert (
        'id="summary-region-north"' in page
        and 'id="summary-total"' in page
        and "<script>" not in page.split("</h1>")[1]
    )
    assert 'href="?sort=out"' in page
    ordered = client.get("/summary/?sort=out&order=desc").text
    assert ordered.index("summary-region-north") < ordered.index("summary-region-south")
    ordered = client.get("/summary/?sort=out").text
    assert ordered.index("summary-region-south") < ordered.index("summary-region-north")
    assert 'aria-sort="ascending"' in ordered
    assert client.get("/summary/?sort=<script>").status_code == 200
    bold = factories.region("<b>Bold</b>", slug="bold")
    served(factories.area(region_obj=bold), storm["fiber"], 5)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in client.get("/summary/").text


def test_the_page_opens_one_live_connection(client, storm):
    page = client.get("/summary/").text
    assert page.count('id="live"') == 1 and page.count("ws-connect=") == 1


def test_a_change_pushes_the_new_row_in_the_status_group(storm):
    services.edit_incident(storm["southern"], area_customers={storm["c"].pk: 120})
    html = fragments.render_change(storm["southern"].pk, {storm["c"].pk})[STATUS_GROUP]["en"]
    row = html[html.index('id="summary-region-south"') :]
    row = row[: row.index("</tr>")]
    assert ">120<" in row and "40.0 %" in row
    services.resolve(storm["southern"])
    html = fragments.render_change(storm["southern"].pk, {storm["c"].pk})[STATUS_GROUP]["en"]
    row = html[html.index('id="summary-region-south"') :]
    assert ">0<" in row[: row.index("</tr>")]


def test_storm_mode_puts_the_summary_first_and_drops_the_area_list(client, storm):
    home = client.get("/").text
    assert 'id="area-row-a"' in home and 'id="storm-summary"' in home
    assert home.index('id="regions"') < home.index('id="storm-summary"')
    StormSettings(storm_mode=True).save()
    home = client.get("/").text
    assert 'id="area-row-a"' not in home and 'id="storm-summary"' in home
    assert home.index('id="storm-summary"') < home.index('id="active-incidents"')
    assert "find yours with the search above" in home


def test_the_console_switches_storm_mode_and_edits_customers_served(admin_client, client):
    area = factories.area()
    fiber = factories.service(slug="fiber")
    page = admin_client.get(f"/admin/outages/servicearea/{area.pk}/change/").text
    assert "customers_served-0-customers" in page
    assert admin_client.get("/admin/outages/stormsettings/").status_code == 302
    response = admin_client.post("/admin/outages/stormsettings/add/", {"storm_mode": "on"})
    assert response.status_code == 302 and StormSettings.load().storm_mode
    assert f'id="area-row-{area.slug}"' not in client.get("/").text
    form = {
        "name": area.name,
        "slug": area.slug,
        "region": area.region_id,
        "postcodes": "",
        "time_zone": area.time_zone,
        "description": "",
        "position": 0,
        "customers_served-TOTAL_FORMS": 1,
        "customers_served-INITIAL_FORMS": 0,
        "customers_served-0-service": fiber.pk,
        "customers_served-0-customers": 250,
    }
    response = admin_client.post(f"/admin/outages/servicearea/{area.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert CustomersServed.objects.get(area=area, service=fiber).customers == 250


def test_import_areas_reads_customers_served_per_service():
    fiber, power = factories.service(slug="fiber"), factories.service(slug="power")
    data = b"name,slug,region,postcodes,customers_served\nDistrict 5,district-5,Budapest,1051,fiber=1200; power=800\n"
    result = area_import.run(data, "areas.csv")
    assert result.created == 1
    counts = dict(CustomersServed.objects.values_list("service__slug", "customers"))
    assert counts == {"fiber": 1200, "power": 800}
    again = area_import.plan(data.replace(b"1200", b"1300"), "areas.csv")
    assert again.updated == 1 and again.changes[0].fields == ["customers_served"]
    bad = area_import.plan(data.replace(b"power=800", b"water=5"), "areas.csv")
    assert bad.errors and "water" in str(bad.errors[0])
    bad = area_import.plan(data.replace(b"power=800", b"power=lots"), "areas.csv")
    assert bad.errors
    assert {fiber.slug, power.slug} == set(counts)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _populate(count: int):
    fiber = factories.service()
    region = factories.region()
    areas = [factories.area(region_obj=region) for _ in range(count)]
    for area in areas:
        served(area, fiber, 100)
    for index in range(0, count, 5):
        incident = factories.incident(*areas[index : index + 3], services=[fiber], impact=Impact.CRITICAL)
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="More")


def test_query_counts_do_not_grow_with_areas_on_home_and_summary(client):
    urls = ["/", "/summary/", "/api/summary/regions.json", "/ws/status/"]
    _populate(10)
    small = [_queries(client, url) for url in urls]
    _populate(300)
    large = [_queries(client, url) for url in urls]
    assert small == large
    StormSettings(storm_mode=True).save()
    assert _queries(client, "/") <= large[0]
