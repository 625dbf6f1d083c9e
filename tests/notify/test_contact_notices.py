"""The confirmation of a callback or message, through a real SMTP server
(aiosmtpd) and the SMS backend: the promise, the signed link to the request's
page (which only shows on GET), and a wait credit when we were late."""

import json
import re
import time
from datetime import timedelta

import pytest
from django.test import Client

from outages.models import ContactRequest, ContactState, Team, TeamContact, TeamRegion, WaitCreditPolicy
from outages.services import contact_requests
from tests import factories
from tests.receivers import SMTPSink, run_worker, text_part, time_passes

pytestmark = pytest.mark.django_db(transaction=True)
FSI, PDI = "\u2068", "\u2069"

ALWAYS_OPEN = {str(day): ["00:00", "23:59"] for day in range(7)}


@pytest.fixture
def area():
    region = factories.region("Budapest")
    district = factories.area("District 5", region_obj=region, slug="district-5", time_zone="Europe/Budapest")
    team = Team.objects.create(name="Budapest crew", public_name="Budapest Network Team")
    TeamRegion.objects.create(team=team, region=region)
    TeamContact.objects.create(team=team, hours=ALWAYS_OPEN, callbacks_per_hour=4)
    return district


@pytest.fixture(autouse=True)
def clear_of_a_promised_time():
    """Four callbacks an hour promise the next quarter hour: a test that books
    seconds before one would find its promise already passed when it reads the
    page. Start just after the quarter instead."""
    now = time.time()
    left = 900 - now % 900
    if left < 30:
        time.sleep(left + 1)


@pytest.fixture
def smtp(settings):
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    yield sink
    sink.stop()


def post(data):
    return Client().post("/areas/district-5/contact/", data, headers={"Sec-Fetch-Site": "same-origin"})


def signed_path(body: str) -> str:
    url = re.search(r"https?://\S+/contact/requests/[^/\s]+/", body).group(0)
    return url[url.index("/contact/") :]


def test_a_message_is_confirmed_by_email_with_its_promise_and_a_link_that_only_shows(area, smtp):
    response = post({"kind": "message", "answer_channel": "email", "email": "anna@example.com", "reason": "Hi"})
    assert response.status_code == 302
    run_worker()
    (mail,) = smtp.to("anna@example.com")
    body = text_part(mail)
    req = ContactRequest.objects.get()
    assert mail["Subject"].endswith("Your message")
    assert "We have your request. Budapest Network Team will answer by" in body
    path = signed_path(body)
    # The same request (the links are signed with the time, so their signatures may differ by a second).
    assert path.split(":")[0] == response["Location"].split(":")[0]
    page = Client().get(path)
    assert page.status_code == 200 and "Budapest Network Team will answer by" in page.content.decode()
    req.refresh_from_db()
    assert req.state == ContactState.OPEN  # a GET of the link changes nothing


def test_a_callback_is_confirmed_by_sms_with_its_promise_and_link(area, settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    assert (
        post({"kind": "callback", "phone": "+36 30 123 4567", "reason": "No signal", "slot": "asap"}).status_code == 302
    )
    run_worker()
    (record,) = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert record["to"] == "+36301234567"
    assert "Budapest Network Team will call you by" in record["text"]
    assert Client().get(signed_path(record["text"])).status_code == 200


def test_a_late_answer_tells_the_customer_of_the_credit(area, smtp, django_user_model):
    WaitCreditPolicy.objects.create(threshold_minutes=5, credit="a $5 credit")
    req = contact_requests.book(
        area=area, kind="message", answer_channel="email", email="anna@example.com", reason="Hi"
    ).request
    staff = django_user_model.objects.create_user("ann", is_staff=True)
    contact_requests.answer(req, staff, "Fixed now.", now=req.promised_at + timedelta(minutes=12, seconds=5))
    run_worker()
    answer = [m for m in smtp.to("anna@example.com") if "answer" in m["Subject"]][0]
    body = text_part(answer)
    assert "Fixed now." in body and "Sorry — we were 12 minutes late. You'll receive a $5 credit." in body
    page = Client().get(signed_path(body)).content.decode()
    assert "Sorry — we were 12 minutes late. You'll receive a $5 credit." in page


def test_while_the_mail_server_is_down_the_confirmation_waits_and_arrives_later(area, smtp):
    smtp.stop()
    post({"kind": "message", "answer_channel": "email", "email": "anna@example.com", "reason": "Hi"})
    run_worker()
    assert smtp.to("anna@example.com") == []
    smtp.start()
    time_passes()
    run_worker()
    assert len(smtp.to("anna@example.com")) == 1


def test_a_missed_call_is_told_with_the_promise_and_shown_on_the_request_page(
    area, settings, tmp_path, django_user_model
):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    req = contact_requests.book(area=area, kind="callback", phone="+36 30 765 4321", reason="No signal").request
    staff = django_user_model.objects.create_user("ann", is_staff=True)
    contact_requests.mark_called(req, staff, "no_answer")
    run_worker()
    texts = [json.loads(line)["text"] for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert len(texts) == 2  # the booking, then the missed call
    assert (
        "We called you but could not reach you. We will try again. Budapest Network Team will call you by" in texts[1]
    )
    page = Client().get(signed_path(texts[1])).content.decode()
    assert "We called you but could not reach you." in page and "will call you by" in page
    req.refresh_from_db()
    assert req.state == ContactState.OPEN


def test_in_hebrew_the_sms_and_the_email_give_the_recorded_credit_wording_isolated(
    area, smtp, settings, tmp_path, django_user_model
):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    policy = WaitCreditPolicy.objects.create(
        threshold_minutes=5,
        credit="a $5 credit",
        credit_translations={"hu": "5 dolláros jóváírás", "he": "זיכוי של 5$"},
    )
    staff = django_user_model.objects.create_user("ann", is_staff=True)
    by_email = contact_requests.book(
        area=area, kind="message", answer_channel="email", email="dana@example.com", reason="Hi", language="he"
    ).request
    by_sms = contact_requests.book(
        area=area, kind="message", answer_channel="sms", phone="+36307654321", reason="x", language="he"
    ).request
    late = timedelta(minutes=12, seconds=5)
    contact_requests.answer(by_email, staff, "תוקן.", now=by_email.promised_at + late)
    policy.credit_translations = {**policy.credit_translations, "he": "זיכוי של 10$"}
    policy.save()
    contact_requests.answer(by_sms, staff, "תוקן.", now=by_sms.promised_at + late)
    # Each credit keeps the wording it was recorded with: a later edit of the policy changes no message.
    policy.credit_translations = {**policy.credit_translations, "he": "נוסח אחר"}
    policy.save()
    run_worker()
    [body] = [text for text in map(text_part, smtp.to("dana@example.com")) if "תוקן." in text]
    assert f"{FSI}זיכוי של 5${PDI}" in body and "a $5 credit" not in body and "נוסח אחר" not in body
    sms = [json.loads(line)["text"] for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert "תוקן." in sms[-1] and f"{FSI}זיכוי של 10${PDI}" in sms[-1]
    assert not [text for text in sms if "a $5 credit" in text or "נוסח אחר" in text]


def test_in_hebrew_the_confirmations_promise_isolates_the_teams_name(area, settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    contact_requests.book(area=area, kind="callback", phone="+36307654321", reason="x", language="he")
    run_worker()
    [sms] = [json.loads(line)["text"] for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    team = Team.objects.get().public_name
    assert f"{FSI}{team}{PDI}" in sms
