"""Hebrew plain text (SMS, e-mail text, the voice line's .txt) isolates each
value, so numbers, times, names and links keep their own order."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from outages.models import NotificationEvent, Subscriber
from outages.notify import compose
from tests import factories

pytestmark = pytest.mark.django_db
FSI, PDI = "\u2068", "\u2069"


def test_hebrew_sentence_and_sms_isolate_times_names_and_the_link():
    area = factories.area("District 5", slug="d5", time_zone="Europe/Budapest")
    incident = factories.incident(area, eta_in=timedelta(hours=3))
    eta = timezone.now() + timedelta(hours=3)
    with translation.override("he"):
        sentence = compose.customer_sentence(incident, "identified", eta, "District 5", area.tzinfo)
        assert f"{FSI}District 5{PDI}" in sentence
        clock = compose.local_time_text(eta, area.tzinfo)
        assert f"{FSI}{clock}{PDI}" in sentence
        notice = compose.Message(
            kind="incident.updated",
            subject="s",
            sentence=sentence,
            status="identified",
            status_label="",
            area_status_label="",
            title="",
            message="",
            eta=eta,
            eta_text=clock,
            url="https://status.example/incidents/1/",
            area_names="District 5",
        )
        assert compose.sms_text(notice).endswith(f"{FSI}https://status.example/incidents/1/{PDI}")
    with translation.override("hu"):
        assert FSI not in compose.customer_sentence(incident, "identified", eta, "District 5", area.tzinfo)


def test_a_hebrew_subject_isolates_the_title_and_the_list_of_areas():
    areas = [factories.area("Budapest District V", slug="d5"), factories.area("Budapest District VI", slug="d6")]
    incident = factories.incident(*areas, title="Fiber cut")
    event = NotificationEvent.objects.get(incident=incident)
    with translation.override("he"):
        subject = compose.compose(event, areas).subject
    assert f"{FSI}Fiber cut{PDI}" in subject and f"{FSI}Budapest District V, Budapest District VI{PDI}" in subject
    with translation.override("en"):
        assert FSI not in compose.compose(event, areas).subject


def test_hebrew_voice_text_isolates_and_english_does_not(client):
    area = factories.area("District 5", slug="d5", time_zone="Europe/Budapest")
    factories.incident(area, eta_in=timedelta(hours=3))
    hebrew = client.get("/areas/d5/announcement.txt?lang=he").content.decode()
    assert f"{FSI}District 5{PDI}" in hebrew
    assert FSI not in client.get("/areas/d5/announcement.txt?lang=en").content.decode()


def test_hebrew_email_text_isolates_the_time_the_areas_and_the_links():
    area = factories.area("District 5", slug="d5", time_zone="Europe/Budapest")
    incident = factories.incident(area, eta_in=timedelta(hours=3))
    event = NotificationEvent.objects.filter(incident=incident).latest("pk")
    subscriber = Subscriber(language="he")
    composed = compose.Composer(event).for_subscriber(subscriber, {area.pk})
    text = composed["text"]
    with translation.override("he"):
        clock = compose.local_time_text(incident.eta, area.tzinfo)
    assert f"{FSI}{clock}{PDI}" in text
    assert f"{FSI}{composed['notice'].url}{PDI}" in text
    assert f"{FSI}{compose.MANAGE_PLACEHOLDER}{PDI}" in text and f"{FSI}District 5{PDI}" in text
    english = compose.Composer(event).for_subscriber(Subscriber(language="en"), {area.pk})["text"]
    # Each in its own language: past midnight in the area the date is written too, and differs.
    with translation.override("en"):
        english_clock = compose.local_time_text(incident.eta, area.tzinfo)
    assert FSI not in english and f"Estimated restoration: {english_clock}" in english


def test_a_hebrew_credit_sentence_isolates_the_service_each_area_and_the_credit():
    from outages.models import CreditPolicy

    fiber = factories.service("Fiber internet", slug="fiber")
    CreditPolicy.objects.create(service=fiber, min_duration=20, credit="one day's fee")
    areas = [factories.area("Budapest District V", slug="d5"), factories.area("Budapest District VI", slug="d6")]
    incident = factories.incident(*areas, services=[fiber], started_at=timezone.now() - timedelta(hours=1))
    event = NotificationEvent.objects.filter(incident=incident).latest("pk")
    wanted = {area.pk for area in areas}
    hebrew = compose.Composer(event).for_subscriber(Subscriber(language="he"), wanted)
    [credit] = hebrew["notice"].credits
    for value in ("Fiber internet", "Budapest District V", "Budapest District VI", "one day's fee"):
        assert f"{FSI}{value}{PDI}" in credit, value
    assert credit in hebrew["sms"] and credit in hebrew["text"]
    [english] = compose.Composer(event).for_subscriber(Subscriber(language="en"), wanted)["notice"].credits
    assert FSI not in english and "Budapest District V and Budapest District VI" in english


def test_confirmations_and_contact_notices_name_areas_in_the_readers_language_and_isolate_links_in_hebrew(
    settings, tmp_path
):
    from outages.models import Channel, Team, TeamContact, TeamRegion
    from outages.notify import confirm, contact
    from outages.services import contact_requests, subscriptions
    from tests.receivers import SMTPSink, text_part

    area = factories.area("District 5", slug="d5", name_translations={"hu": "V. kerület"})
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    by_sms = subscriptions.subscribe(channel=Channel.SMS, address="+36301234567", areas=[area], language="he")
    confirm.send_confirmation_message(by_sms.subscriber)
    [sms] = [json.loads(line)["text"] for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert re.search(f"{FSI}https?://\\S+{PDI}$", sms), sms
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    try:
        for code in ("hu", "he"):
            outcome = subscriptions.subscribe(
                channel=Channel.EMAIL, address=f"{code}@x.test", areas=[area], language=code
            )
            confirm.send_confirmation_message(outcome.subscriber)
        bodies = {message["To"]: text_part(message) for message in sink.messages}
    finally:
        sink.stop()
    assert "V. kerület" in bodies["hu@x.test"] and "District 5" not in bodies["hu@x.test"]
    assert f"{FSI}District 5{PDI}" in bodies["he@x.test"] and re.search(f"{FSI}https?://\\S+{PDI}", bodies["he@x.test"])
    team = Team.objects.create(name="t", public_name="Budapest Network Team")
    TeamRegion.objects.create(team=team, region=area.region)
    TeamContact.objects.create(team=team, hours={str(day): ["00:00", "23:59"] for day in range(7)})
    request = contact_requests.book(area=area, kind="callback", phone="+36301234567", reason="x", language="he").request
    with translation.override("he"):
        _subject, lines = contact.compose(request, "booked")
    assert re.search(f"{FSI}https?://\\S+{PDI}$", lines[-1]), lines
