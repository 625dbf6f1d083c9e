"""The public pages: what a customer sees, with or without JavaScript."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.models import Impact, IncidentStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_says_all_is_well_when_nothing_is_wrong(client):
    factories.area("Szentendre")
    response = client.get("/")
    assert response.status_code == 200
    assert "All services operating normally" in response.text
    assert "Szentendre" in response.text


def test_home_shows_banner_areas_and_active_incident_with_cause_and_eta(client):
    district = factories.area("District 5")
    incident = factories.incident(
        district, title="Cable cut on Andrássy út", cause="cable_cut", cause_detail="Road works"
    )
    response = client.get("/")
    text = response.text
    assert "Outage in 1 area" in text
    assert f'id="incident-{incident.pk}"' in text
    assert "Road works" in text
    assert "Expected fix" in text and "<time datetime=" in text
    assert 'id="area-row-' + district.slug + '"' in text and "Partial outage" in text


def test_area_page_shows_status_eta_in_local_time_and_relative(client):
    district = factories.area("District 5", time_zone="Europe/Budapest")
    eta = timezone.now() + timedelta(hours=2, minutes=5)
    factories.incident(district, eta_in=None)
    incident = district.incidents.get()
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", eta=eta)
    response = client.get(f"/areas/{district.slug}/")
    assert response.status_code == 200
    local = timezone.localtime(eta, district.tzinfo)
    assert local.strftime("%H:%M") in response.text
    assert local.strftime("%Z") in response.text  # the zone is named
    assert "Back by" in response.text and "in 2 hours" in response.text


def test_area_page_lists_recently_resolved_incidents(client):
    district = factories.area()
    services.resolve(factories.incident(district, title="Old outage"))
    response = client.get(f"/areas/{district.slug}/")
    assert "Recently resolved" in response.text and "Old outage" in response.text
    assert "No known problems" in response.text


def test_incident_page_shows_timeline_with_eta_revisions(client):
    district = factories.area(time_zone="Europe/Budapest")
    incident = factories.incident(district, eta_in=timedelta(hours=2))
    first_eta = incident.eta
    later = first_eta + timedelta(hours=2, minutes=30)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Longer repair", eta=later)
    response = client.get(f"/incidents/{incident.pk}/")
    text = response.text
    assert "ETA moved from" in text
    assert timezone.localtime(first_eta, district.tzinfo).strftime("%H:%M") in text
    assert timezone.localtime(later, district.tzinfo).strftime("%H:%M") in text
    assert "Longer repair" in text


def test_author_is_never_shown_publicly(client, django_user_model):
    operator = django_user_model.objects.create_user("secret-operator", password="x")
    district = factories.area()
    incident = factories.incident(district, author=operator)
    for url in ["/", f"/areas/{district.slug}/", f"/incidents/{incident.pk}/", "/ws/status/"]:
        assert "secret-operator" not in client.get(url).text


def test_operator_text_is_escaped(client):
    district = factories.area("<img src=x onerror=alert(1)>")
    incident = factories.incident(district, title="<script>alert(1)</script>", message='<b hx-get="/x">hi</b>')
    for url in ["/", f"/areas/{district.slug}/", f"/incidents/{incident.pk}/"]:
        text = client.get(url).text
        assert "<script>alert(1)" not in text
        assert "<img src=x" not in text
        assert '<b hx-get="/x">' not in text
        assert "&lt;script&gt;" in text


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "x" * 10_000,
        "\x00\x01\x1f",
        "' OR 1=1; DROP TABLE outages_servicearea; --",
        "%",
        "_",
        "ő ű ש",
        "\u202e",
    ],
)
def test_odd_search_input_gives_a_normal_page(client, query):
    factories.area("Szentendre", postcodes="2000")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "Check your area" in response.text


def test_search_finds_areas_by_name_and_postcode_prefix(client):
    factories.area("Szentendre", postcodes="2000")
    factories.area("Budapest District 5", postcodes="1051,1052")
    assert "Szentendre" in client.get("/search/", {"q": "szent"}, follow=True).text  # the one match opens
    by_code = client.get("/search/", {"q": "105"}, follow=True).text
    assert "Budapest District 5" in by_code and "Szentendre" not in by_code
    assert "No area matches" in client.get("/search/", {"q": "Nowhere"}).text


def test_htmx_search_returns_only_the_results_fragment(client):
    factories.area("Szentendre", postcodes="2000")
    response = client.get("/search/", {"q": "2000"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="search-results"')
    assert "<html" not in response.text and "Szentendre" in response.text


def test_unknown_area_or_incident_gives_a_helpful_404(client):
    for url in ["/areas/atlantis/", "/incidents/999999/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "Look up your area" in response.text and 'name="q"' in response.text


def test_pages_refuse_post(client):
    assert client.post("/").status_code == 405


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _populate(area_count: int, incidents_every: int = 5):
    region = factories.region()
    areas = [factories.area(region_obj=region) for _ in range(area_count)]
    for index in range(0, area_count, incidents_every):
        incident = factories.incident(*areas[index : index + 3], impact=Impact.CRITICAL)
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="More")
        services.resolve(factories.incident(areas[index]))
    return areas


def test_query_count_does_not_grow_with_areas_or_incidents(client):
    areas = _populate(10)
    small = {url: _queries(client, url) for url in ["/", f"/areas/{areas[0].slug}/", "/ws/status/"]}
    areas = _populate(500)
    large = {url: _queries(client, url) for url in ["/", f"/areas/{areas[0].slug}/", "/ws/status/"]}
    assert list(small.values()) == [large["/"], large[f"/areas/{areas[0].slug}/"], large["/ws/status/"]]
    # Constant is what matters (above); the ceiling catches a page that creeps.
    assert max(large.values()) <= 20
