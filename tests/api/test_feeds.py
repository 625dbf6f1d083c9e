"""Atom and RSS feeds, read by a real feed parser (feedparser)."""

import html

import feedparser
import pytest

from outages import services
from outages.models import IncidentStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    district = factories.area("District 5", slug="district-5")
    other = factories.area("Érd", slug="erd")
    cut = factories.incident(district, title="Fiber <b>down</b> & out", message="Crew sent <script>x</script>.")
    services.post_update(cut, status=IncidentStatus.IDENTIFIED, message="Cable cut found.")
    elsewhere = factories.incident(other, title="Mobile slow")
    services.resolve(elsewhere, message="Fixed.")
    return {"district": district, "cut": cut, "elsewhere": elsewhere}


def parse(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


@pytest.mark.parametrize(
    ("path", "version", "content_type"),
    [("/history.atom", "atom10", "application/atom+xml"), ("/history.rss", "rss20", "application/rss+xml")],
)
def test_site_feeds_are_valid_and_list_one_entry_per_incident_with_its_updates(
    client, history, path, version, content_type
):
    feed = parse(client, path, content_type)
    assert feed.version == version
    assert len(feed.entries) == 2
    [cut] = [entry for entry in feed.entries if entry.link.endswith(f"/incidents/{history['cut'].pk}/")]
    # Shown as the operator typed it: as text (Atom), or as HTML that reads as that text (RSS).
    title = html.unescape(cut.title) if cut.title_detail.type == "text/html" else cut.title
    assert title == "Fiber <b>down</b> & out (Identified)"
    assert "Cable cut found." in cut.summary and "Crew sent" in cut.summary
    assert "<script>" not in cut.summary  # operator text stays text
    assert cut.id and cut.published_parsed
    if version == "atom10":
        assert cut.updated_parsed
    assert {tag.term for tag in cut.tags} == {"District 5"}


@pytest.mark.parametrize("suffix", ["atom", "rss"])
def test_an_area_feed_holds_only_that_areas_incidents(client, history, suffix):
    feed = parse(client, f"/areas/district-5/history.{suffix}", "application/")
    assert [entry.link for entry in feed.entries] == [f"http://testserver/incidents/{history['cut'].pk}/"]
    assert "District 5" in feed.feed.title


def test_atom_feed_has_the_elements_its_specification_requires(client, history):
    feed = parse(client, "/history.atom", "application/atom+xml")
    assert feed.feed.id and feed.feed.updated_parsed and feed.feed.title
    assert feed.feed.author
    assert any(link.rel == "self" for link in feed.feed.links)


def test_feeds_answer_conditional_get_and_unknown_areas_with_404(client, history):
    response = client.get("/history.atom")
    assert response["Cache-Control"].startswith("public")
    assert client.get("/history.atom", headers={"if-none-match": response["ETag"]}).status_code == 304
    assert (
        client.get(
            "/history.rss", headers={"if-modified-since": client.get("/history.rss")["Last-Modified"]}
        ).status_code
        == 304
    )
    assert client.get("/areas/atlantis/history.rss").status_code == 404
    assert client.get("/history.rss?x=1").status_code == 400
