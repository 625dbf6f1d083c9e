"""Proactive notifications end to end: a real SMTP server (aiosmtpd), a real HTTP
receiver on loopback, and the django-tasks-db worker run in this process."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from outages import services
from outages.models import Channel, Delivery, IncidentStatus, NotificationEvent, Subscriber
from outages.notify import compose, engine
from outages.notify import webhook as notify_webhook
from outages.services import subscriptions
from tests import factories
from tests.receivers import HTTPReceiver, SMTPSink, html_part, run_worker, text_part, time_passes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp(settings):
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    yield sink
    sink.stop()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    server = HTTPReceiver()
    yield server
    server.close()


def path_of(url: str) -> str:
    from django.conf import settings

    assert url.startswith(settings.SITE_URL)
    return url.removeprefix(settings.SITE_URL)


def notices(sink: SMTPSink) -> list:
    """Incident notices only (not confirmation messages)."""
    return [m for m in sink.messages if m["Message-ID"].startswith("<notice.")]


def confirmed(address: str, *areas, channel=Channel.EMAIL, language="en") -> Subscriber:
    outcome = subscriptions.subscribe(channel=channel, address=address, areas=areas, language=language)
    return subscriptions.confirm(outcome.subscriber)


def test_subscribe_confirm_then_an_update_brings_one_mail_and_one_signed_webhook(smtp, receiver):
    district = factories.area("District 5")
    client = Client()
    response = client.post(
        "/subscribe/", {"channel": "email", "email": "Anna@Example.com", "areas": [district.slug], "language": "en"}
    )
    assert response.status_code == 200
    run_worker()
    [confirmation] = smtp.to("anna@example.com")
    assert "Confirm" in confirmation["Subject"]
    confirm_url = next(word for word in text_part(confirmation).split() if "/subscribe/confirm/" in word)

    # Nothing is sent before confirmation, and a GET (a mail scanner) confirms nothing.
    factories.incident(district, title="Before confirmation")
    run_worker()
    assert len(smtp.to("anna@example.com")) == 1
    assert client.get(path_of(confirm_url)).status_code == 200
    assert Subscriber.objects.get(address="anna@example.com").confirmed_at is None
    assert Client().post(path_of(confirm_url)).status_code == 200  # no cookies needed
    assert Subscriber.objects.get(address="anna@example.com").confirmed_at is not None

    response = client.post(
        "/subscribe/",
        {"channel": "webhook", "url": receiver.url + "/hooks/status", "areas": [district.slug], "language": "en"},
    )
    assert response.status_code == 200
    secret = Subscriber.objects.get(channel=Channel.WEBHOOK).secret
    assert secret.startswith("whsec_") and secret in response.content.decode()

    eta = timezone.now() + timedelta(hours=3)
    incident = factories.incident(district, title="Fiber cut <b>near</b> the bridge", eta_in=None)
    receiver.requests.clear()
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site & digging.", eta=eta)
    run_worker()
    run_worker()  # a second pass finds nothing more to do

    mails = smtp.to("anna@example.com")[1:]
    assert len(mails) == 2  # the incident opened, then the update: one message each
    mail = mails[-1]
    assert mail["List-Unsubscribe"].startswith("<http") and "/subscribe/unsubscribe/" in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = text_part(mail), html_part(mail)
    assert "There is an outage in District 5." in text
    assert "We expect service to be restored by" in text
    assert "Crew on site & digging." in text
    assert "Fiber cut &lt;b&gt;near&lt;/b&gt; the bridge" in html and "<b>near</b>" not in html
    assert f"/incidents/{incident.pk}/" in text
    assert "/subscribe/manage/" in text

    assert len(receiver.requests) == 2
    request = receiver.requests[-1]
    headers = {key.lower(): value for key, value in request["headers"].items()}
    assert request["path"] == "/hooks/status"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers.keys()
    assert notify_webhook.verify_webhook(secret, headers, request["body"])
    payload = json.loads(request["body"])
    assert payload["type"] == "incident.updated"
    assert payload["data"]["incident"]["status"] == "identified"
    assert payload["data"]["incident"]["eta"] == eta.isoformat()
    assert payload["data"]["areas"] == [{"slug": district.slug, "name": "District 5"}]

    # One-click unsubscribe (RFC 8058): a POST without cookies or CSRF token deletes the address.
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    response = Client(enforce_csrf_checks=True).post(
        path_of(unsubscribe), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not Subscriber.objects.filter(address="anna@example.com").exists()
    services.resolve(incident, message="Fixed.")
    run_worker()
    assert len(smtp.to("anna@example.com")) == 3
    assert receiver.json()["type"] == "incident.resolved"


def test_a_tampered_webhook_is_detected_by_the_verifier():
    secret = notify_webhook.new_webhook_secret()
    body = b'{"type":"incident.updated"}'
    now = 1_800_000_000
    headers = {"webhook-id": "msg_1_1", "webhook-timestamp": str(now)}
    headers["webhook-signature"] = notify_webhook.sign_webhook(secret, "msg_1_1", now, body)
    assert notify_webhook.verify_webhook(secret, headers, body, now=now)
    assert not notify_webhook.verify_webhook(secret, headers, body.replace(b"updated", b"resolved"), now=now)
    assert not notify_webhook.verify_webhook(secret, {**headers, "webhook-id": "msg_1_2"}, body, now=now)
    assert not notify_webhook.verify_webhook(secret, {**headers, "webhook-timestamp": str(now + 1)}, body, now=now)
    assert not notify_webhook.verify_webhook(notify_webhook.new_webhook_secret(), headers, body, now=now)
    assert not notify_webhook.verify_webhook(secret, headers, body, now=now + 3600)  # replayed an hour later


def test_smtp_down_for_a_while_loses_nothing_and_doubles_nothing(smtp, settings):
    district = factories.area("Riverside")
    people = [confirmed(f"person{n}@example.com", district) for n in range(5)]
    smtp.stop()
    incident = factories.incident(district)
    run_worker()
    assert Delivery.objects.filter(status=Delivery.Status.PENDING, attempts=1).count() == 5
    time_passes()
    run_worker()  # still down
    assert Delivery.objects.filter(status=Delivery.Status.PENDING, attempts=2).count() == 5
    assert all(d.last_error.startswith("SMTP unavailable") for d in Delivery.objects.all())

    smtp.start()
    time_passes()
    run_worker()
    time_passes()
    run_worker()
    assert len(notices(smtp)) == 5
    assert sorted(m["To"] for m in notices(smtp)) == sorted(p.address for p in people)
    assert len({m["Message-ID"] for m in notices(smtp)}) == 5
    assert NotificationEvent.objects.get(incident=incident).state == NotificationEvent.State.DONE
    assert set(Delivery.objects.values_list("status", "attempts")) == {(Delivery.Status.SENT, 3)}


def test_a_worker_that_dies_mid_batch_is_taken_over_without_duplicates_or_gaps(smtp, settings):
    settings.NOTIFY_BATCH_SIZE = 3
    district = factories.area("Hillside")
    people = [confirmed(f"p{n}@example.com", district) for n in range(7)]
    with transaction.atomic():
        incident = factories.incident(district)
    event = NotificationEvent.objects.get(incident=incident)
    from django_tasks_db.models import DBTaskResult

    # A worker claims the task and a batch, sends one message, then is killed.
    DBTaskResult.objects.filter(status="READY").update(status="RUNNING", started_at=timezone.now())
    engine.plan(event)
    batch = engine.claim(event.pk, 3)
    engine.send_batch(event, batch[:1], compose.Composer(event), lambda: None)
    assert len(notices(smtp)) == 1
    run_worker()  # nothing ready: the dead worker's task is stuck "running"
    assert len(notices(smtp)) == 1

    assert engine.sweep(timezone.now()) == 0  # not stale yet
    assert engine.sweep(timezone.now() + timedelta(minutes=6)) == 1
    run_worker()
    assert sorted(m["To"] for m in notices(smtp)) == sorted(p.address for p in people)
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 7


def test_each_subscriber_gets_one_message_per_event_even_for_two_affected_areas(smtp):
    north, south = factories.area("North"), factories.area("South")
    confirmed("both@example.com", north, south)
    confirmed("north@example.com", north)
    paused = confirmed("paused@example.com", north)
    subscriptions.update(paused, areas=[north], language="en", paused=True)
    subscriptions.subscribe(channel=Channel.EMAIL, address="pending@example.com", areas=[north], language="en")
    incident = factories.incident(north, south)
    run_worker()
    sent = notices(smtp)
    assert sorted(m["To"] for m in sent) == ["both@example.com", "north@example.com"]
    both = next(m for m in sent if m["To"] == "both@example.com")
    assert "North, South" in text_part(both)
    assert Delivery.objects.filter(event__incident=incident).count() == 2


def test_a_rolled_back_update_notifies_nobody(smtp):
    district = factories.area()
    confirmed("x@example.com", district)
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.incident(district)
        raise RuntimeError("rolled back")
    run_worker()
    assert NotificationEvent.objects.count() == 0
    assert notices(smtp) == []


def test_planned_maintenance_is_announced_like_an_incident(smtp):
    district = factories.area("Old Town", time_zone="Europe/Budapest")
    confirmed("m@example.com", district)
    start = timezone.now() + timedelta(days=2)
    services.schedule_maintenance(
        title="Switch upgrade", areas=[district], scheduled_for=start, scheduled_until=start + timedelta(hours=4)
    )
    run_worker()
    [mail] = [m for m in notices(smtp) if m["To"] == "m@example.com"]
    assert "Planned maintenance in Old Town from" in text_part(mail)


def test_a_webhook_redirect_is_not_followed_and_is_recorded_as_failed(receiver):
    district = factories.area()
    subscriber = confirmed(receiver.url + "/hook", district, channel=Channel.WEBHOOK)
    assert subscriber.secret
    receiver.status, receiver.location = 302, "http://10.0.0.1/internal"
    factories.incident(district)
    run_worker()
    assert len(receiver.requests) == 1
    [delivery] = Delivery.objects.all()
    assert delivery.status == Delivery.Status.FAILED and "redirect" in delivery.last_error


def test_a_webhook_that_now_resolves_to_a_private_address_is_refused_at_connect_time(receiver, settings):
    district = factories.area()
    confirmed(f"http://localhost:{receiver.port}/hook", district, channel=Channel.WEBHOOK)
    settings.WEBHOOK_ALLOW_LOOPBACK = False  # as if DNS had changed after subscribing
    factories.incident(district)
    run_worker()
    assert receiver.requests == []
    [delivery] = Delivery.objects.all()
    assert delivery.status == Delivery.Status.FAILED and delivery.last_error.startswith("refused")


def test_a_failing_webhook_is_retried_with_backoff_then_delivered(receiver):
    district = factories.area()
    confirmed(receiver.url + "/hook", district, channel=Channel.WEBHOOK)
    receiver.status = 503
    factories.incident(district)
    run_worker()
    [delivery] = Delivery.objects.all()
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at > timezone.now()
    receiver.status = 200
    time_passes()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    ids = {request["headers"]["webhook-id"] for request in receiver.requests}
    assert len(receiver.requests) == 2 and len(ids) == 1  # a retry keeps its webhook-id


def test_sms_subscribers_get_a_confirmation_then_alerts_through_the_http_gateway(receiver, settings, tmp_path):
    settings.SMS_ALLOWED_REGIONS = ["HU"]
    settings.SMS_BACKEND = "outages.notify.sms.ConsoleBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    district = factories.area("Pécs")
    response = Client().post(
        "/subscribe/", {"channel": "sms", "phone": "+36 30 123 4567", "areas": [district.slug], "language": "en"}
    )
    assert response.status_code == 200
    run_worker()
    [record] = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert record["to"] == "+36301234567" and "/subscribe/confirm/" in record["text"]
    Client().post(path_of(record["text"].split()[-1]))

    settings.SMS_BACKEND = "outages.notify.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = receiver.url + "/send"
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    factories.incident(district)
    run_worker()
    [request] = receiver.requests
    assert request["headers"]["Authorization"] == "Bearer gateway-token"
    body = json.loads(request["body"])
    assert body["to"] == "+36301234567"
    assert body["text"].startswith("There is an outage in Pécs. We expect service to be restored by")


def test_each_subscriber_is_told_in_their_own_language(smtp, receiver):
    district = factories.area("Szeged", time_zone="Europe/Budapest")
    confirmed("hu@example.com", district, language="hu")
    confirmed("en@example.com", district, language="en")
    confirmed(receiver.url + "/hook", district, channel=Channel.WEBHOOK, language="hu")
    factories.incident(district, eta_in=timedelta(days=2))
    run_worker()
    eta = timezone.localtime(NotificationEvent.objects.get().update.eta, district.tzinfo)
    [hungarian] = [m for m in notices(smtp) if m["To"] == "hu@example.com"]
    [english] = [m for m in notices(smtp) if m["To"] == "en@example.com"]
    assert eta.strftime("%Y.%m.%d. %H:%M") in text_part(hungarian)  # Hungarian date format
    assert eta.strftime("%Y.%m.%d. %H:%M") not in text_part(english)
    assert receiver.json()["data"]["language"] == "hu"
