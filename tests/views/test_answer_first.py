"""The answer first: every page, the widget and the live push lead with when
service is back ("Back by 05:07 — in 4 hours"), and say when the ETA moved."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone, translation

from outages import services
from outages.live import fragments
from outages.models import Impact, IncidentStatus, Kind
from outages.queries import headline

from .. import factories

pytestmark = pytest.mark.django_db


def clock(dt, area):
    return timezone.localtime(dt, area.tzinfo).strftime("%H:%M")


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class Ancestry(HTMLParser):
    """The classes of the elements around each <tag> of a page."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "source"}

    def __init__(self, tag):
        super().__init__()
        self.tag, self.stack, self.found = tag, [], []

    def handle_starttag(self, tag, attrs):
        if tag == self.tag:
            self.found.append([(name, cls) for name, cls in self.stack if cls])
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass


def ancestors_of(html: str, tag: str) -> list:
    """For each <tag> inside the main content: which of its ancestors are a hero or a card."""
    parser = Ancestry(tag)
    parser.feed(html)
    return [
        [[name, word] for name, cls in found for word in cls.split() if word in {"hero", "hero__banner", "incident"}]
        for found in parser.found
    ]


def test_the_answer_says_back_by_with_the_time_and_how_long_from_now():
    area = factories.area("District 5", time_zone="Europe/Budapest")
    incident = factories.incident(area, eta_in=timedelta(hours=4, minutes=10))
    answer = text_of(headline.answer(incident, area.time_zone))
    # "Back by 21:55" or, past midnight, "Back by Thu 3 Dec, 01:55".
    assert answer.startswith("Back by ") and clock(incident.eta, area) in answer and answer.endswith("— in 4 hours")


def test_no_estimate_says_when_the_next_update_comes_or_that_one_will_come():
    area = factories.area()
    promised = factories.incident(area, eta_in=None, next_update_at=timezone.now() + timedelta(minutes=30))
    assert text_of(headline.answer(promised, area.time_zone)).startswith("No estimate yet — next update by")
    assert clock(promised.next_update_at, area) in headline.answer(promised, area.time_zone)
    bare = factories.incident(area, eta_in=None)
    assert text_of(headline.answer(bare)) == "No estimate yet — we will post one as soon as we have it"


def test_a_passed_eta_says_it_is_taking_longer_never_back_by_a_time_gone():
    area = factories.area()
    incident = factories.incident(area, eta_in=timedelta(minutes=5))
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Still on it")
    assert "Back by" in headline.answer(incident)
    later = timezone.now() + timedelta(minutes=10)
    assert text_of(headline.answer(incident, now=later)).startswith("Taking longer than expected")


def test_nothing_wrong_reads_working_normally_and_a_resolved_incident_says_how_long_it_lasted():
    assert headline.answer(None) == "Working normally"
    area = factories.area()
    incident = factories.incident(area, started_at=timezone.now() - timedelta(hours=2, minutes=5))
    services.resolve(incident, message="Fixed")
    incident.refresh_from_db()
    assert text_of(headline.answer(incident)).endswith("lasted 2 hours 5 minutes")
    assert (
        headline.lasted(incident.started_at, incident.started_at + timedelta(days=3, hours=4, minutes=9))
        == "3 days 4 hours"
    )
    assert headline.lasted(incident.started_at, incident.started_at) == "less than a minute"


@pytest.mark.parametrize(("language", "expected"), [("hu", "óra múlva"), ("he", "בעוד 4 שעות")])
def test_the_answer_is_in_the_readers_language(language, expected):
    area = factories.area()
    incident = factories.incident(area, eta_in=timedelta(hours=4))
    with translation.override(language):
        assert expected in headline.answer(incident)


def test_area_page_leads_with_a_filled_banner_status_answer_cause_crew_and_customers(client):
    area = factories.area("District 5", slug="district-5", time_zone="Europe/Budapest")
    incident = factories.incident(
        area,
        title="Cable cut",
        cause="cable_cut",
        cause_detail="Road works",
        customers_affected=2600,
        crew_status="on_site",
        eta_in=timedelta(hours=3),
    )
    html = client.get("/areas/district-5/").text
    hero = html[html.index('id="area-status-district-5"') : html.index(f'id="incident-{incident.pk}"')]
    assert 'class="status-card hero hero--partial_outage"' in html
    assert (
        hero.index("Partial outage")
        < hero.index("Back by")
        < hero.index("Road works")
        < hero.index("Crew on site")
        < hero.index("2,600")
    )
    # No card inside a card: the incident follows the banner, not inside it.
    assert ancestors_of(html, "article") == [[["section", "hero"]]]


def test_an_eta_change_says_eta_moved_from_old_to_new_on_every_page_and_in_the_push(client):
    area = factories.area("District 5", slug="district-5", time_zone="Europe/Budapest")
    incident = factories.incident(area, eta_in=timedelta(hours=2))
    old = incident.eta
    new = timezone.now() + timedelta(hours=5)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Longer", eta=new)
    # As the page shows them: with the day when the ETA is not today.
    shown = {eta: text_of(str(headline.local_time(eta, area.time_zone))) for eta in (old, new)}
    expected = f"ETA moved from {shown[old]} to {shown[new]}"
    for url in ["/", "/areas/district-5/", f"/incidents/{incident.pk}/", "/embed/areas/district-5/", "/embed/"]:
        assert expected in text_of(client.get(url).text), url
    rendered = fragments.render_change(incident.pk, [area.pk])
    for group in ["status", "area-district-5", f"incident-{incident.pk}"]:
        assert expected in text_of(rendered[group]["en"]), group
    # A later update that keeps the ETA still says it moved; one that moves it again says the new move.
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Same time")
    assert expected in text_of(client.get("/areas/district-5/").text)
    newer = timezone.now() + timedelta(hours=6)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Again", eta=newer)
    assert f"ETA moved from {shown[new]} to {text_of(str(headline.local_time(newer, area.time_zone)))}" in text_of(
        client.get("/areas/district-5/").text
    )


def test_incidents_are_listed_worst_first_then_oldest_first(client):
    area = factories.area()
    minor = factories.incident(
        area, title="Minor one", impact=Impact.MINOR, started_at=timezone.now() - timedelta(hours=3)
    )
    critical = factories.incident(
        area, title="Critical one", impact=Impact.CRITICAL, started_at=timezone.now() - timedelta(hours=1)
    )
    older_critical = factories.incident(
        area, title="Older critical", impact=Impact.CRITICAL, started_at=timezone.now() - timedelta(hours=2)
    )
    html = client.get("/").text
    positions = [html.index(f'id="incident-{incident.pk}"') for incident in (older_critical, critical, minor)]
    assert positions == sorted(positions)
    area_html = client.get(f"/areas/{area.slug}/").text
    assert area_html.index(f'id="incident-{older_critical.pk}"') < area_html.index(f'id="incident-{minor.pk}"')


def test_a_resolved_incident_shows_resolved_in_green_and_how_long_it_lasted_not_an_amber_operational(client):
    area = factories.area()
    incident = factories.incident(area, impact=Impact.MAJOR, started_at=timezone.now() - timedelta(minutes=95))
    services.resolve(incident, message="Repaired")
    html = client.get(f"/incidents/{incident.pk}/").text
    card = html[html.index(f'id="incident-{incident.pk}"') - 100 :]
    assert "incident--resolved" in card and "incident--partial_outage" not in card and "incident--major" not in card
    assert "lasted 1 hour 35 minutes" in text_of(card)
    assert "Operational" not in text_of(card[: card.index("</article>")])


def test_a_timeline_entry_without_a_message_says_what_its_status_means(client):
    area = factories.area()
    incident = factories.incident(area, message="", eta_in=None)
    html = client.get(f"/incidents/{incident.pk}/").text
    entry = html[html.index('class="timeline__entry') :]
    entry = entry[: entry.index("</li>")]
    assert "We know about the problem and are looking into it." in entry


def test_maintenance_in_progress_says_until_when():
    area = factories.area()
    start = timezone.now() - timedelta(minutes=5)
    window = services.schedule_maintenance(
        title="Upgrade",
        areas=[area],
        scheduled_for=start + timedelta(minutes=1),
        scheduled_until=start + timedelta(hours=2),
    )
    services.start_maintenance(window)
    window.refresh_from_db()
    assert window.kind == Kind.MAINTENANCE and window.is_active
    assert text_of(headline.answer(window)).startswith("Planned work until")


def test_favicon_and_manifest_are_served(client):
    assert client.get("/favicon.ico").status_code == 200
    html = client.get("/").text
    assert 'rel="manifest"' in html and 'name="theme-color"' in html and 'href="/favicon.ico"' in html
    for name in ["Map", "History", "Subscribe", "Search"]:
        assert f">{name}</a></li>" in html
