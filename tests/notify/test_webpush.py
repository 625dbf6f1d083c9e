"""Browser notifications end to end: a browser's subscription (a real P-256 key
pair and auth secret made here), the JSON endpoint, the delivery engine run by
the real worker, and a local HTTP server standing in for the push service; the
payload is decrypted with the subscription's private key (http_ece)."""

import base64
import json
import os
from datetime import timedelta

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from py_vapid import Vapid02

from outages import services
from outages.models import Channel, Delivery, IncidentStatus, MaintenanceStatus, Subscriber
from outages.notify import compose, webpush
from tests import factories
from tests.receivers import HTTPReceiver, run_worker, time_passes

pytestmark = pytest.mark.django_db(transaction=True)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """What a browser keeps for one push subscription: its key pair and auth secret."""

    def __init__(self, endpoint: str):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


@pytest.fixture
def push_service(settings):
    """The push service: a local HTTP server; VAPID keys made for this test."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    keys = webpush.generate_keys()
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = keys["private_key"], keys["public_key"]
    settings.VAPID_SUBJECT = "mailto:ops@example.com"
    server = HTTPReceiver()
    server.status = 201
    yield server
    server.close()


def subscribe(client: Client, browser: Browser, area: str = "", **headers):
    return client.post(
        "/push/subscribe/",
        json.dumps({"subscription": browser.subscription(), "area": area}),
        content_type="application/json",
        headers=headers,
    )


def test_an_outage_reaches_the_browser_encrypted_with_the_sms_sentence_high_urgency_and_vapid(push_service, settings):
    district = factories.area("District 5", slug="district-5")
    browser = Browser(push_service.url + "/wpush/v2/abc123")
    response = subscribe(Client(), browser, "district-5")
    assert response.status_code == 201, response.content
    assert response.json() == {"following": True, "areas": ["district-5"]}
    subscriber = Subscriber.objects.get(channel=Channel.PUSH)
    # Only the endpoint and keys (and the areas and language) are kept.
    assert subscriber.address == browser.endpoint and subscriber.confirmed_at is not None
    assert subscriber.push_keys == browser.subscription()["keys"]

    incident = factories.incident(district, title="Fiber down")
    run_worker()
    [request] = push_service.requests
    assert request["path"] == "/wpush/v2/abc123"
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["urgency"] == "high"
    assert headers["ttl"] == str(settings.WEBPUSH_TTL)
    assert headers["topic"] == f"incident-{incident.pk}"
    assert Vapid02.verify(headers["authorization"])  # signed with our key (RFC 8292)
    assert headers["authorization"].endswith("k=" + settings.VAPID_PUBLIC_KEY)

    payload = browser.decrypt(request["body"])
    event = incident.notifications.get()
    with_sms = compose.Composer(event).for_subscriber(subscriber, {district.pk})
    assert payload["body"] == with_sms["notice"].sentence
    assert with_sms["sms"].startswith(payload["body"])  # the SMS says the same, then the link
    assert "District 5" in payload["body"] and "Fiber down" in payload["title"]
    assert payload["url"] == "http://127.0.0.1:8000/areas/district-5/"
    assert payload["lang"] == "en"
    assert Delivery.objects.get(channel=Channel.PUSH).status == Delivery.Status.SENT


def test_notifications_come_in_the_language_the_browser_subscribed_in(push_service):
    district = factories.area("District 5", slug="district-5")
    browser = Browser(push_service.url + "/wpush/hu")
    assert subscribe(Client(), browser, "district-5", **{"Accept-Language": "hu"}).status_code == 201
    assert Subscriber.objects.get(channel=Channel.PUSH).language == "hu"
    maintenance = services.schedule_maintenance(
        title="Cable swap",
        areas=[district],
        scheduled_for=timezone.now() + timedelta(days=1),
        scheduled_until=timezone.now() + timedelta(days=1, hours=2),
    )
    run_worker()
    [request] = push_service.requests
    payload = browser.decrypt(request["body"])
    assert payload["lang"] == "hu"
    assert payload["body"].startswith("Tervezett karbantartás")
    assert {k.lower(): v for k, v in request["headers"].items()}["urgency"] == "normal"  # planned, not an outage
    assert maintenance.status == MaintenanceStatus.SCHEDULED


def test_a_push_service_answering_410_deletes_the_subscription(push_service):
    district = factories.area("District 5")
    assert subscribe(Client(), Browser(push_service.url + "/gone"), district.slug).status_code == 201
    push_service.status = 410
    factories.incident(district)
    run_worker()
    assert len(push_service.requests) == 1
    assert not Subscriber.objects.filter(channel=Channel.PUSH).exists()
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == Delivery.Status.FAILED and delivery.subscriber is None
    assert "410" in delivery.last_error


def test_a_push_service_answering_503_is_retried_until_it_takes_the_message(push_service):
    district = factories.area("District 5")
    browser = Browser(push_service.url + "/busy")
    assert subscribe(Client(), browser, district.slug).status_code == 201
    push_service.status = 503
    incident = factories.incident(district)
    run_worker()
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert Subscriber.objects.filter(channel=Channel.PUSH).exists()
    push_service.status = 201
    time_passes()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert len(push_service.requests) == 2
    # The retry is encrypted afresh and still reads the same.
    assert browser.decrypt(push_service.requests[1]["body"])["tag"] == f"incident-{incident.pk}"


def test_a_resolution_and_an_update_reach_the_browser_too(push_service):
    district = factories.area("District 5")
    browser = Browser(push_service.url + "/all")
    assert subscribe(Client(), browser, district.slug).status_code == 201
    incident = factories.incident(district)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Cable cut found.")
    services.resolve(incident, message="Fixed.")
    run_worker()
    bodies = [browser.decrypt(request["body"])["body"] for request in push_service.requests]
    assert len(bodies) == 3
    assert bodies[-1] == "The outage in " + district.name + " is resolved."


def test_whole_service_subscription_follows_every_area_and_unsubscribe_deletes_it(push_service):
    first, second = factories.area("District 5"), factories.area("Érd")
    browser = Browser(push_service.url + "/everything")
    client = Client()
    response = subscribe(client, browser, "")
    assert response.json() == {"following": True, "areas": sorted([first.slug, second.slug])}
    state = client.post(
        "/push/state/", {"endpoint": browser.endpoint, "area": first.slug}, content_type="application/json"
    )
    assert state.json()["following"] is True
    # Turning one area off keeps the others; turning the whole service off deletes everything.
    client.post(
        "/push/unsubscribe/", {"endpoint": browser.endpoint, "area": first.slug}, content_type="application/json"
    )
    assert client.post(
        "/push/state/", {"endpoint": browser.endpoint, "area": ""}, content_type="application/json"
    ).json() == {"following": False, "areas": [second.slug]}
    response = client.post("/push/unsubscribe/", {"endpoint": browser.endpoint}, content_type="application/json")
    assert response.json() == {"following": False, "areas": []}
    assert not Subscriber.objects.filter(channel=Channel.PUSH).exists()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "JSON"),
        ("[1]", "JSON"),
        ({"area": ""}, "missing"),
        ({"subscription": {"endpoint": "http://127.0.0.1:1/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}}, "keys"),
        ({"subscription": {"endpoint": "http://127.0.0.1:1/x", "keys": "x"}}, "keys"),
        ({"subscription": {"endpoint": "ftp://example.com/x", "keys": {}}}, "https"),
        ({"subscription": {"endpoint": "http://10.0.0.1/x"}}, "private"),
        ({"subscription": {"endpoint": "http://169.254.169.254/latest"}}, "private"),
        ({"subscription": {"endpoint": 5}, "area": "atlantis"}, "area"),
    ],
)
def test_bad_subscriptions_are_refused_with_400(push_service, body, problem):
    factories.area("District 5")
    payload = body if isinstance(body, str) else json.dumps(body)
    response = Client().post("/push/subscribe/", payload, content_type="application/json")
    assert response.status_code == 400
    assert problem.lower() in response.json()["error"]["message"].lower()
    assert not Subscriber.objects.exists()


def test_a_post_from_another_site_is_refused_and_get_is_not_allowed(push_service):
    district = factories.area("District 5")
    browser = Browser(push_service.url + "/x")
    response = subscribe(Client(), browser, district.slug, **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert Client().get("/push/subscribe/").status_code == 405
    assert not Subscriber.objects.exists()


def test_without_vapid_keys_there_is_no_button_and_subscribing_answers_503(settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    factories.area("District 5", slug="district-5")
    assert 'id="push"' not in Client().get("/areas/district-5/").content.decode()
    assert Client().post("/push/subscribe/", "{}", content_type="application/json").status_code == 503


def test_the_button_is_on_area_and_home_pages_with_the_key_and_the_service_worker_is_at_the_root(
    push_service, settings
):
    factories.area("District 5", slug="district-5")
    area_page = Client().get("/areas/district-5/").content.decode()
    assert f'data-key="{settings.VAPID_PUBLIC_KEY}"' in area_page and 'data-area="district-5"' in area_page
    assert "Notify me in this browser" in area_page and "js/push.js" in area_page
    home = Client().get("/").content.decode()
    assert 'id="push"' in home and 'data-area=""' in home
    worker = Client().get("/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    source = worker.content.decode()
    assert "showNotification" in source and "notificationclick" in source
    assert "caches" not in source and "fetch" not in source  # shows notifications, nothing else


def test_an_endpoint_that_points_inside_the_network_is_refused_at_send_time(push_service):
    district = factories.area("District 5")
    # As if the name had resolved to a public address at subscription and to a private one now.
    subscriber = Subscriber.objects.create(
        channel=Channel.PUSH,
        address="http://10.1.2.3/push/x",
        confirmed_at=timezone.now(),
        push_keys=Browser("http://10.1.2.3/push/x").subscription()["keys"],
    )
    subscriber.areas.add(district)
    factories.incident(district)
    run_worker()
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == Delivery.Status.FAILED and delivery.last_error.startswith("refused")


def test_webpush_keys_writes_a_private_key_file_once_and_the_pair_signs(settings, tmp_path):
    settings.VAPID_KEY_FILE = tmp_path / "data" / "vapid.json"
    call_command("webpush_keys", stdout=open(os.devnull, "w"))
    keys = json.loads(settings.VAPID_KEY_FILE.read_text())
    assert settings.VAPID_KEY_FILE.stat().st_mode & 0o777 == 0o600
    signer = Vapid02.from_string(keys["private_key"])
    assert webpush.public_key_text(signer) == keys["public_key"]
    header = signer.sign({"sub": "mailto:ops@example.com", "aud": "https://push.example.net"})["Authorization"]
    assert Vapid02.verify(header) and header.endswith("k=" + keys["public_key"])
    call_command("webpush_keys", stdout=open(os.devnull, "w"))  # kept
    assert json.loads(settings.VAPID_KEY_FILE.read_text()) == keys
    call_command("webpush_keys", "--force", stdout=open(os.devnull, "w"))
    assert json.loads(settings.VAPID_KEY_FILE.read_text()) != keys


def test_the_subscribe_form_does_not_offer_browser_notifications(push_service):
    district = factories.area("District 5")
    assert 'value="push"' not in Client().get("/subscribe/").content.decode()
    response = Client().post("/subscribe/", {"channel": "push", "areas": [district.slug], "language": "en"})
    assert response.status_code == 400 and not Subscriber.objects.exists()
