"""The console's team queue: each team sees its own open callbacks and messages
by promised time (with the area's active incident and the time left), takes
them (one wins), marks them called or answers them (the answer reaches the
customer by SMTP or SMS and shows on their page), reschedules and cancels."""

import json
import re

import pytest
from django.test import Client

from outages import permissions
from outages.models import ContactKind, ContactRequest, ContactState, Team, TeamContact, TeamRegion
from outages.notify.links import contact_token
from outages.services import contact_requests
from tests import factories
from tests.receivers import SMTPSink, run_worker, text_part

pytestmark = pytest.mark.django_db(transaction=True)

ALWAYS_OPEN = {str(day): ["00:00", "23:59"] for day in range(7)}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def world(django_user_model):
    group = permissions.operator_group()
    data = {"root": django_user_model.objects.create_superuser("root", "root@example.com", "pw")}
    for name, city in (("north", "Budapest"), ("south", "Szeged")):
        region = factories.region(city, slug=name)
        area = factories.area(f"{city} centre", region_obj=region, slug=f"{name}-centre", time_zone="Europe/Budapest")
        team = Team.objects.create(name=f"{name} crew", public_name=f"{city} Network Team")
        TeamRegion.objects.create(team=team, region=region)
        TeamContact.objects.create(team=team, hours=ALWAYS_OPEN, callbacks_per_hour=4)
        members = []
        for who in ("ann", "bob"):
            user = django_user_model.objects.create_user(f"{who}-{name}", password="pw", is_staff=True)
            user.groups.add(group)
            team.members.add(user)
            members.append(user)
        data[name] = {"area": area, "team": team, "members": members}
    return data


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def callback(area, phone="+36301234567", reason="No signal since noon", **fields):
    return contact_requests.book(area=area, kind=ContactKind.CALLBACK, phone=phone, reason=reason, **fields).request


def message(area, email="anna@example.com", reason="When is the fiber back?"):
    return contact_requests.book(
        area=area, kind=ContactKind.MESSAGE, answer_channel="email", email=email, reason=reason
    ).request


def act(client, req, action, **fields):
    return client.post(f"/admin/outages/contactrequest/queue/{req.pk}/", {"action": action, **fields})


def test_members_see_only_their_teams_queue_by_promised_time_with_the_areas_incident(world):
    fiber = factories.service("Fiber internet", slug="fiber")
    north = world["north"]
    factories.incident(north["area"], title="Fiber cut on Váci út", services=[fiber])
    first = callback(north["area"], reason="Router blinks red", service=fiber)
    second = callback(north["area"], phone="+36301234568", reason="Second caller")
    hidden = callback(world["south"]["area"], phone="+36301234569", reason="Szeged secret")
    page = console(north["members"][0]).get("/admin/outages/contactrequest/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'id="contact-request-{first.pk}"') < html.index(f'id="contact-request-{second.pk}"')
    row = text(html[html.index(f'id="contact-request-{first.pk}"') :].split("</tr>")[0])
    assert "Budapest centre" in row and "Fiber internet" in row and "Router blinks red" in row
    assert "Fiber cut on Váci út" in row and re.search(r"in \d+ minutes?", row)
    assert "Szeged secret" not in html and f"contact-request-{hidden.pk}" not in html
    everything = console(world["root"]).get("/admin/outages/contactrequest/queue/fragment/").content.decode()
    assert "Szeged secret" in everything and "Router blinks red" in everything
    assert 'hx-trigger="every 5s"' in everything


def test_the_polled_fragment_stops_with_a_message_when_the_session_ends(world):
    response = Client().get("/admin/outages/contactrequest/queue/fragment/")
    assert response.status_code == 286 and "Your session has ended" in response.content.decode()


def test_two_people_take_the_same_request_the_second_learns_who_has_it(world):
    ann, bob = world["north"]["members"]
    req = callback(world["north"]["area"])
    assert act(console(ann), req, "take", next="queue").status_code == 302
    late = act(console(bob), req, "take")
    assert late.status_code == 400 and "Already taken by ann-north." in late.content.decode()
    req.refresh_from_db()
    assert (req.state, req.taken_by) == (ContactState.TAKEN, ann)
    assert list(req.events.values_list("action", flat=True)) == ["booked", "taken"]


def test_another_teams_member_can_neither_see_nor_act_on_a_request(world):
    req = callback(world["north"]["area"])
    stranger = console(world["south"]["members"][0])
    assert stranger.get(f"/admin/outages/contactrequest/queue/{req.pk}/").status_code == 404
    assert act(stranger, req, "take").status_code == 404
    req.refresh_from_db()
    assert req.state == ContactState.OPEN and req.taken_by is None


def test_a_member_without_the_change_permission_may_look_but_not_act(world, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*permissions.operator_group().permissions.filter(codename__in=["view_contactrequest"]))
    world["north"]["team"].members.add(viewer)
    req = callback(world["north"]["area"])
    client = console(viewer)
    assert client.get(f"/admin/outages/contactrequest/queue/{req.pk}/").status_code == 200
    assert act(client, req, "take").status_code == 403


def test_no_answer_puts_it_back_and_called_closes_it_and_the_customers_page_says_called(world):
    ann = world["north"]["members"][0]
    req = callback(world["north"]["area"])
    client = console(ann)
    act(client, req, "take")
    act(client, req, "called", outcome="no_answer")
    req.refresh_from_db()
    assert (req.state, req.taken_by) == (ContactState.OPEN, None)
    assert act(client, req, "called", outcome="").status_code == 400
    assert act(client, req, "called", outcome="passed_on").status_code == 302
    req.refresh_from_db()
    assert (req.state, req.outcome, req.taken_by) == (ContactState.CALLED, "passed_on", ann)
    fragment = Client().get(f"/contact/requests/{contact_token(req)}/", headers={"HX-Request": "true"})
    # Closed: nothing more will change, so the poll is told to stop.
    assert fragment.status_code == 286 and "State: Called" in text(fragment.content.decode())
    assert "hx-trigger" not in fragment.content.decode()


def test_an_answer_from_the_console_reaches_the_customer_by_smtp_and_shows_on_their_page(world, settings):
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    try:
        req = message(world["north"]["area"])
        run_worker()
        sink.messages.clear()
        response = act(console(world["north"]["members"][0]), req, "answer", answer="Back by 16:30 <b>today</b>.")
        assert response.status_code == 302
        run_worker()
        (mail,) = sink.to("anna@example.com")
        body = text_part(mail)
        assert "Budapest Network Team answered your message:" in body and "Back by 16:30 <b>today</b>." in body
        link = re.search(r"https?://\S+/contact/requests/\S+/", body).group(0)
        page = Client().get(link[link.index("/contact/") :]).content.decode()
        assert "Back by 16:30 &lt;b&gt;today&lt;/b&gt;." in page and "State: Answered" in text(page)
    finally:
        sink.stop()


def test_the_team_reschedules_and_cancels_and_the_customer_is_told_by_sms(world, settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    req = callback(world["north"]["area"])
    client = console(world["north"]["members"][0])
    page = client.get(f"/admin/outages/contactrequest/queue/{req.pk}/").content.decode()
    later = re.findall(r'<option value="([^"]+)"', page)[3]
    assert act(client, req, "reschedule", slot=later).status_code == 302
    assert act(client, req, "reschedule", slot="not-a-time").status_code == 400
    assert act(client, req, "cancel").status_code == 302
    run_worker()
    texts = [json.loads(line)["text"] for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert len(texts) == 3
    assert "We have your request. Budapest Network Team will call you by" in texts[0]
    assert "New time: Budapest Network Team will call you by" in texts[1]
    assert "Your request was cancelled." in texts[2] and "/contact/requests/" in texts[2]
    req.refresh_from_db()
    assert req.state == ContactState.CANCELLED
    assert list(req.events.values_list("action", flat=True)) == ["booked", "rescheduled", "cancelled"]
    assert ContactRequest.objects.get(pk=req.pk).events.last().user == world["north"]["members"][0]
