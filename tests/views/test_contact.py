"""The customer side of contacting the local team: the area page's panel, the
form (deflection, errors by the field, origin check, limits) and the
request page behind its signed link (acts on POST only)."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outages import services
from outages.models import ContactRequest, ContactState, Team, TeamContact, TeamRegion, WaitCreditPolicy
from outages.services import contact_requests
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 12, 8, 5, tzinfo=UTC)  # Tuesday 10:05 in Budapest
PHONE = "+36301234567"


@pytest.fixture
def area():
    region = factories.region("Budapest")
    district = factories.area("District 5", region_obj=region, slug="district-5", time_zone="Europe/Budapest")
    team = Team.objects.create(name="Budapest crew", public_name="Budapest Network Team", support_contact="+36 1 234")
    TeamRegion.objects.create(team=team, region=region)
    TeamContact.objects.create(
        team=team,
        intro="We look after Districts 5 to 9.",
        hours={str(d): ["08:00", "20:00"] for d in range(5)},
        callbacks_per_hour=2,
    )
    return district


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def book(client, **fields):
    data = {"kind": "callback", "phone": PHONE, "reason": "No signal", "slot": "asap", **fields}
    return client.post("/areas/district-5/contact/", data, HTTP_SEC_FETCH_SITE="same-origin")


def test_area_page_shows_the_team_its_hours_and_the_two_choices(client, area, clock):
    page = client.get("/areas/district-5/").text
    assert "Contact your local team" in page and "Budapest Network Team" in page
    assert "We look after Districts 5 to 9." in page
    assert "Open today 08:00–20:00" in page
    assert 'href="/areas/district-5/contact/"' in page and "Send a message" in page


def test_out_of_hours_the_page_says_when_it_opens_and_the_general_line(client, area):
    with time_machine.travel(datetime(2026, 5, 15, 19, 0, tzinfo=UTC), tick=False):
        page = text(client.get("/areas/district-5/contact/").text)
    assert "Closed now; opens" in page and "+36 1 234" in page


def test_a_callback_gets_a_promise_and_a_signed_page(client, area, clock):
    response = book(client)
    assert response.status_code == 302
    page = text(client.get(response["Location"]).text)
    assert "Budapest Network Team will call you by 10:30" in page
    request = ContactRequest.objects.get()
    assert request.phone == PHONE and request.state == ContactState.OPEN


def test_an_active_incident_is_said_first(client, area, clock):
    factories.incident(area, title="Fiber is down here", eta_in=timedelta(hours=6, minutes=25))
    page = client.get("/areas/district-5/contact/").text
    page = text(page).replace("&#x27;", "'")
    assert "We know about this: Fiber is down here." in page and "Back by 16:30 CEST" in page
    assert "You don't need to call us about it." in page


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "123"}, "phone"),
        ({"reason": "x" * 501}, "reason"),
        ({"slot": "yesterday"}, "slot"),
        ({"slot": "2026-05-12T06:00:00+00:00"}, "slot"),  # in the past
        ({"kind": "message", "answer_channel": "email", "email": "bad"}, "email"),
        ({"service": "nope"}, "service"),
    ],
)
def test_bad_input_is_a_400_with_the_message_by_the_field(client, area, clock, fields, field):
    response = book(client, **fields)
    assert response.status_code == 400
    assert re.search(rf'data-field-error="{field}">[^<]+<', response.text)
    assert not ContactRequest.objects.exists()


def test_unknown_area_is_404(client, db):
    assert client.get("/areas/nowhere/contact/").status_code == 404


def test_a_post_from_another_site_is_refused(client, area, clock):
    response = client.post(
        "/areas/district-5/contact/", {"kind": "callback", "phone": PHONE}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403 and not ContactRequest.objects.exists()


def test_limits_per_number_answer_429_with_retry_after(client, area, clock, settings):
    settings.CONTACT_LIMIT_PER_ADDRESS = 2
    assert [book(client).status_code for _ in range(2)] == [302, 302]
    response = book(client)
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert ContactRequest.objects.count() == 2


def test_the_request_page_never_acts_on_get_and_cancels_on_post(client, area, clock):
    url = book(client)["Location"]
    client.get(url + "?action=cancel")
    assert ContactRequest.objects.get().state == ContactState.OPEN
    assert client.post(url, {"action": "cancel"}, HTTP_SEC_FETCH_SITE="same-origin").status_code == 302
    assert ContactRequest.objects.get().state == ContactState.CANCELLED
    assert client.get("/contact/requests/forged/").status_code == 404


def test_reschedule_from_the_request_page(client, area, clock):
    url = book(client)["Location"]
    later = datetime(2026, 5, 12, 12, 0, tzinfo=UTC).isoformat()
    client.post(url, {"action": "reschedule", "slot": later}, HTTP_SEC_FETCH_SITE="same-origin")
    promised = ContactRequest.objects.get().promised_at.astimezone(zoneinfo.ZoneInfo("Europe/Budapest"))
    assert promised.strftime("%H:%M") == "15:00"


def test_late_and_credited_the_page_says_so(client, area, clock):
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit")
    url = book(client)["Location"]
    request = ContactRequest.objects.get()
    clock.move_to(request.promised_at + timedelta(minutes=12))
    assert "We are 12 minutes late" in text(client.get(url).text)
    contact_requests.mark_called(request, None, "resolved")
    page = text(client.get(url).text).replace("&#x27;", "'")
    assert "Sorry — we were 12 minutes late. You'll receive a $5 credit." in page


def test_the_introduction_and_the_credit_wording_are_in_the_readers_language(client, area, clock):
    contact = TeamContact.objects.get()
    contact.intro_translations = {"hu": "Az V–IX. kerületet gondozzuk.", "he": "אנחנו מטפלים ברובעים 5 עד 9."}
    contact.save()
    policy = WaitCreditPolicy.objects.create(
        threshold_minutes=5,
        credit="a $5 credit",
        credit_translations={"hu": "5 dolláros jóváírás", "he": "זיכוי של 5$"},
    )
    for url in ("/areas/district-5/", "/areas/district-5/contact/"):
        hungarian = client.get(url, {"lang": "hu"}).text
        assert "Az V–IX. kerületet gondozzuk." in hungarian and "We look after" not in hungarian, url
        hebrew = client.get(url, {"lang": "he"}).text
        assert '<p class="local-team__intro" dir="auto">אנחנו מטפלים ברובעים 5 עד 9.</p>' in hebrew, url
        assert "We look after Districts 5 to 9." in client.get(url).text, url
    url = book(client)["Location"]
    request = ContactRequest.objects.get()
    clock.move_to(request.promised_at + timedelta(minutes=12))
    contact_requests.mark_called(request, None, "resolved")
    # The credit keeps the wording it was recorded with.
    policy.credit_translations = {"hu": "új szöveg"}
    policy.save()
    hungarian = text(client.get(url, {"lang": "hu"}).text)
    assert "Elnézést — 12 percet késtünk. Önnek jár: 5 dolláros jóváírás." in hungarian
    assert "a $5 credit" not in hungarian and "új szöveg" not in hungarian
    assert "תקבל \u2068זיכוי של 5$\u2069." in text(client.get(url, {"lang": "he"}).text)
    assert "You'll receive a $5 credit." in text(client.get(url).text).replace("&#x27;", "'")


def test_operator_text_in_every_language_is_escaped(client, area, clock):
    payload = '<img src=x onerror="alert(1)">'
    contact = TeamContact.objects.get()
    contact.intro_translations = {"hu": payload}
    contact.save()
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit", credit_translations={"hu": payload})
    for url in ("/areas/district-5/", "/areas/district-5/contact/"):
        page = client.get(url, {"lang": "hu"}).text
        assert payload not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page, url
    url = book(client)["Location"]
    request = ContactRequest.objects.get()
    clock.move_to(request.promised_at + timedelta(minutes=12))
    contact_requests.mark_called(request, None, "resolved")
    page = client.get(url, {"lang": "hu"}).text
    assert payload not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_a_team_photo_shows_on_the_contact_section_and_only_photos_of_teams_are_served(
    client, area, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    contact = TeamContact.objects.get()
    contact.photo = SimpleUploadedFile("crew.png", PNG, content_type="image/png")
    contact.save()
    page = client.get("/areas/district-5/").text
    src = re.search(r'<img class="local-team__photo" src="([^"]+)" alt="Photo of Budapest Network Team"', page).group(1)
    photo = client.get(src)
    assert (
        photo.status_code == 200 and photo["Content-Type"] == "image/png" and b"".join(photo.streaming_content) == PNG
    )
    (tmp_path / "team-photos" / "page.html").write_text("<script>alert(1)</script>")
    assert client.get("/media/team-photos/page.html").status_code == 404
    (tmp_path / "team-photos" / "stray.png").write_bytes(PNG)
    assert client.get("/media/team-photos/stray.png").status_code == 404  # no team uses it


@pytest.mark.page_cache
@pytest.mark.django_db(transaction=True)
def test_a_storm_of_bookings_reads_the_area_its_team_and_incident_once_per_change(client, area, clock):
    assert book(client).status_code == 302
    with CaptureQueriesContext(connection) as second:
        assert book(client, phone="+36301234568").status_code == 302
    read = " ".join(query["sql"] for query in second.captured_queries)
    for table in ("outages_servicearea", "outages_teamregion", "outages_incident"):
        assert f'FROM "{table}"' not in read
    assert ContactRequest.objects.get(phone="+36301234568").incident is None

    # A change to the public status is a new version: the next booking reads it.
    opened = services.open_incident(title="Fiber cut", areas=[area], message="Crew on the way.")
    assert book(client, phone="+36301234569").status_code == 302
    assert ContactRequest.objects.get(phone="+36301234569").incident == opened


def test_in_hebrew_each_time_of_a_slot_option_is_isolated(client, area, clock):
    # An <option> keeps only text: the times need Unicode isolates to keep their order.
    url = book(client)["Location"]
    form = client.get("/areas/district-5/contact/?lang=he").text
    page = client.get(url + "?lang=he").text
    for html in (form, page):
        option = re.search(r'<select id="(?:contact|request)-slot".*?</select>', html, re.S).group(0)
        assert re.search(r"\u2068<time[^>]*>[^<]+<abbr[^>]*>CEST</abbr></time>\u2069 – \u2068<time", option)
    english = client.get(url).text
    assert "\u2068" not in re.search(r'<select id="request-slot".*?</select>', english, re.S).group(0)
