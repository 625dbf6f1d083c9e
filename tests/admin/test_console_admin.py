"""The incident page read top-down, the resolved state, what the console says
after posting, the list, and the same update to many incidents (with teams)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from outages import permissions, services
from outages.admin import post_summary
from outages.live import census as live_census
from outages.live import groups as live
from outages.models import AuditEntry, Channel, Incident, IncidentStatus, Subscriber, Team, TeamRegion
from outages.notify import engine as notifications
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def _data(incident, **extra):
    incident.refresh_from_db()
    return {
        "title": incident.title,
        "impact": incident.impact,
        "areas": list(incident.areas.values_list("pk", flat=True)),
        "update_status": incident.status,
        "update_crew_status": incident.crew_status,
        "update_eta": timezone.localtime(incident.eta).strftime("%Y-%m-%dT%H:%M") if incident.eta else "",
        "seen_version": incident.version,
        **extra,
    }


def test_the_incident_page_reads_customers_view_then_the_update_then_the_details(ops):
    incident = factories.incident(factories.area("District 5"), title="Cable <cut>", message="Crew <b>on</b> the way")
    text = ops.get(f"/admin/outages/incident/{incident.pk}/change/").text
    now, post, details = (
        text.index(marker)
        for marker in ["What customers see now", 'name="_post_update"', "Incident details: areas, services, facts"]
    )
    assert now < post < details
    # The public card itself (the fragment the public page renders), operator text escaped.
    assert f'id="incident-{incident.pk}"' in text and "Cable &lt;cut&gt;" in text
    assert "Crew &lt;b&gt;on&lt;/b&gt; the way" in text and "Crew <b>on" not in text
    assert '<details class="module console-details"' in text and 'name="_save_details"' in text
    # One link to the public page, not three.
    assert text.count(f'href="{incident.get_absolute_url()}"') == 2  # the tool link and the card's title
    assert "View on site" not in text


def test_a_resolved_incident_says_so_and_offers_reopen_instead_of_an_empty_form(ops):
    incident = factories.incident(factories.area())
    services.resolve(incident, message="Fixed")
    text = ops.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert 'class="console-resolved"' in text and "Resolved" in text and "Reopen…" in text
    assert 'name="update_message"' not in text and 'name="_post_update"' not in text
    reopen = ops.get(f"/admin/outages/incident/{incident.pk}/change/?reopen=1").text
    assert "Reopen and post" in reopen and 'name="update_message"' in reopen
    assert '<option value="investigating" selected>' in reopen
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/?reopen=1",
        _data(incident, update_status="investigating", update_message="It failed again", reopen="on", _post_update="1"),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING and incident.resolved_at is None


def test_saving_details_of_a_resolved_incident_posts_no_update(ops):
    incident = factories.incident(factories.area())
    services.resolve(incident)
    data = _data(incident, title="Renamed", _save_details="1")
    data.pop("update_crew_status")
    response = ops.post(f"/admin/outages/incident/{incident.pk}/change/", data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed" and incident.updates.count() == 2


def test_after_posting_the_console_says_who_sees_it_and_who_is_told(ops):
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district)
    now = timezone.now()
    for channel, address in [
        (Channel.EMAIL, "a@example.com"),
        (Channel.EMAIL, "b@example.com"),
        (Channel.SMS, "+36301234567"),
        (Channel.WEBHOOK, "https://hooks.example.com/1"),
    ]:
        Subscriber.objects.create(channel=channel, address=address, confirmed_at=now).areas.add(district)
    unconfirmed = Subscriber.objects.create(channel=Channel.EMAIL, address="c@example.com")
    unconfirmed.areas.add(district)
    # Two server processes with pages open: the status page, this area, another area.
    cache.clear()
    live_census.Census().write({live.STATUS_GROUP: 300, live.area_group("district-5"): 10, "area-elsewhere": 99})
    live_census.Census().write({live.incident_group(incident.pk): 2})
    promise = now + timedelta(hours=1)
    response = ops.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        _data(
            incident,
            update_message="Crew on site",
            eta_choice="+120",
            _post_update="1",
            update_next_update_at=timezone.localtime(promise).strftime("%Y-%m-%dT%H:%M"),
        ),
        follow=True,
    )
    cache.clear()
    message = [str(m) for m in response.context["messages"]][0]
    assert message.startswith(
        "Update posted. Showing now on 312 open pages; 4 subscribers are being told (email 2, SMS 1, webhooks 1); "
        f"next update promised by {timezone.localtime(promise).strftime('%H:%M')}."
    )
    event = incident.notifications.order_by("-id").first()
    assert f'href="/admin/outages/delivery/?event__id__exact={event.pk}"' in message
    assert response.redirect_chain[-1][0] == f"/admin/outages/incident/{incident.pk}/change/"
    assert "was changed successfully" not in response.text


def test_the_figures_come_from_the_planned_deliveries_once_the_engine_planned_them(ops):
    district = factories.area()
    incident = factories.incident(district)
    Subscriber.objects.create(channel=Channel.SMS, address="+36301234567", confirmed_at=timezone.now()).areas.add(
        district
    )
    update = services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="x")
    notifications.plan(update.notification)
    # Subscribed after planning: not told about this update, so not counted.
    Subscriber.objects.create(channel=Channel.EMAIL, address="late@example.com", confirmed_at=timezone.now()).areas.add(
        district
    )
    assert dict(post_summary.audience(update)[1]) == {"sms": 1}


def test_the_list_shows_the_columns_that_matter_open_ones_first(ops):
    resolved = factories.incident(factories.area(), title="Old one")
    services.resolve(resolved)
    overdue = factories.incident(
        factories.area(), title="Overdue one", next_update_at=timezone.now() + timedelta(minutes=1)
    )
    Incident.objects.filter(pk=overdue.pk).update(next_update_at=timezone.now() - timedelta(minutes=5))
    text = ops.get("/admin/outages/incident/").text
    headers = [
        "column-status",
        "column-impact",
        "column-title",
        "column-area_list",
        "column-eta_words",
        "column-promise",
    ]
    positions = [text.index(header) for header in headers]
    assert positions == sorted(positions)
    for gone in ["column-started_at", "column-resolved_at", "column-view_on_site_link", "column-crew_status"]:
        assert gone not in text
    assert text.index("Overdue one") < text.index("Old one")
    assert 'class="console-overdue">Overdue' in text
    assert "/static/js/console.js" in text


# Same update to many ------------------------------------------------------------


@pytest.fixture
def teams(client, django_user_model):
    north, south = factories.region("North"), factories.region("South")
    north_area, south_area = (
        factories.area("Northtown", region_obj=north),
        factories.area("Southtown", region_obj=south),
    )
    team = Team.objects.create(name="North ops", public_name="North team")
    TeamRegion.objects.create(team=team, region=north)
    operator = django_user_model.objects.create_user("north-op", password="pw", is_staff=True)
    operator.groups.add(permissions.operator_group())
    team.members.add(operator)
    client.force_login(operator)
    return {
        "client": client,
        "mine": [factories.incident(north_area, title=f"North {n}", eta_in=timedelta(hours=1)) for n in range(2)],
        "theirs": factories.incident(south_area, title="South outage", eta_in=timedelta(hours=1)),
        "operator": operator,
    }


def _bulk(client, incidents, **form):
    return client.post(
        "/admin/outages/incident/",
        {"action": "post_update_selected", "_selected_action": [i.pk for i in incidents], **form},
    )


def test_bulk_update_shows_a_confirmation_listing_the_incidents_then_posts_each_through_the_services(teams):
    client, mine = teams["client"], teams["mine"]
    page = _bulk(client, mine)
    assert page.status_code == 200
    assert "These 2 incidents will get the update" in page.text
    assert "North 0" in page.text and "North 1" in page.text
    before = {i.pk: i.eta for i in mine}
    response = _bulk(
        client,
        mine,
        apply="1",
        message="Storm: crews held back until the wind drops",
        status="identified",
        eta_shift="+120",
    )
    assert response.status_code == 302
    for incident in mine:
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.IDENTIFIED
        assert incident.eta == before[incident.pk] + timedelta(hours=2)
        latest = incident.updates.order_by("-created_at").first()
        assert latest.message == "Storm: crews held back until the wind drops" and latest.author == teams["operator"]
        assert AuditEntry.objects.filter(incident=incident, update=latest, user=teams["operator"]).exists()
    message = [str(m) for m in client.get("/admin/outages/incident/").context["messages"]]
    assert message[0].startswith("Update posted to 2 incidents. Showing now on 0 open pages")


def test_an_operator_cannot_update_another_teams_incident_through_the_bulk_action(teams):
    client, theirs = teams["client"], teams["theirs"]
    # A crafted POST with the other team's incident among the selection.
    page = _bulk(client, [teams["mine"][0], theirs])
    assert "South outage" not in page.text
    response = _bulk(
        client, [teams["mine"][0], theirs], apply="1", message="Mine only", status="keep", eta_shift="keep"
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.updates.count() == 1 and theirs.status == IncidentStatus.INVESTIGATING
    assert not AuditEntry.objects.filter(incident=theirs, user=teams["operator"]).exists()
    assert teams["mine"][0].updates.filter(message="Mine only").exists()
    # Only theirs selected: nothing to update, nothing changed.
    alone = _bulk(client, [theirs], apply="1", message="Sneaky", status="monitoring", eta_shift="clear")
    assert alone.status_code in (200, 302)
    assert not theirs.updates.filter(message="Sneaky").exists()


def test_bulk_update_refuses_nothing_to_say_and_an_absurd_eta_shift_with_4xx_free_messages(teams, settings):
    client, mine = teams["client"], teams["mine"]
    empty = _bulk(client, mine, apply="1", message="", status="keep", eta_shift="keep")
    assert empty.status_code == 200 and "Nothing to post" in empty.text
    bad = _bulk(client, mine, apply="1", message="x", status="resolved", eta_shift="+9999")
    assert bad.status_code == 200
    settings.ETA_MAX_DAYS = 0
    far = _bulk(client, mine, apply="1", message="x", status="keep", eta_shift="+240")
    assert far.status_code == 200 and "days ahead" in far.text
    for incident in mine:
        assert incident.updates.count() == 1
