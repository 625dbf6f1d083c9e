"""Subscribing: the form, signed links that never act on GET, the manage page,
abuse limits, phone numbers and the SSRF table for webhook URLs."""

import pytest
from django.test import Client

from outages import ssrf
from outages.models import Channel, Subscriber
from outages.notify import engine
from outages.notify import links as notify_links
from outages.services import subscriptions
from tests import factories

pytestmark = pytest.mark.django_db


def post_subscribe(client, area, **fields):
    data = {"channel": "email", "areas": [area.slug], "language": "en", **fields}
    return client.post("/subscribe/", data)


def path_of(url: str) -> str:
    from django.conf import settings

    return url.removeprefix(settings.SITE_URL)


def test_home_and_area_pages_invite_to_subscribe_and_the_form_preselects_the_area(client):
    district = factories.area("District 5")
    assert 'href="/subscribe/"' in client.get("/").content.decode()
    page = client.get(f"/areas/{district.slug}/").content.decode()
    assert f'href="/subscribe/?area={district.slug}"' in page
    form = client.get(f"/subscribe/?area={district.slug}").content.decode()
    assert f'<input type="checkbox" name="areas" value="{district.slug}" id="id_areas_0" checked>' in form


def test_subscribing_by_email_stores_an_unconfirmed_subscriber_and_says_check_your_inbox(
    client, django_capture_on_commit_callbacks
):
    district = factories.area()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_subscribe(client, district, email="  Someone@Example.COM ", language="hu")
    assert response.status_code == 200
    assert "confirmation link" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.language, subscriber.confirmed_at) == ("someone@example.com", "hu", None)
    assert list(subscriber.areas.all()) == [district]


def test_bad_input_is_a_clear_400(client):
    district = factories.area()
    for fields, message in [
        ({"email": "not-an-address"}, "valid email"),
        ({"email": ""}, "required"),
        ({"channel": "sms", "phone": "12"}, "phone number"),
        ({"channel": "webhook", "url": "ftp://example.com/"}, "http"),
        ({"channel": "carrier-pigeon"}, "valid choice"),
    ]:
        response = post_subscribe(client, district, **fields)
        assert response.status_code == 400, fields
        assert message in response.content.decode(), fields
    response = client.post("/subscribe/", {"channel": "email", "email": "a@example.com", "language": "en"})
    assert response.status_code == 400 and "Choose at least one area" in response.content.decode()


def test_phone_numbers_are_validated_and_only_configured_countries_accepted(settings):
    settings.SMS_ALLOWED_REGIONS = ["HU"]
    assert subscriptions.normalize_phone("06 30 123 4567") == "+36301234567"
    assert subscriptions.normalize_phone("+36 30 123 4567") == "+36301234567"
    for bad in ["+36 1 234 5678", "+44 7400 123456", "+36 30 12", "hello"]:  # landline, UK, short, text
        with pytest.raises(Exception):
            subscriptions.normalize_phone(bad)
    settings.SMS_ALLOWED_REGIONS = ["HU", "GB"]
    assert subscriptions.normalize_phone("+44 7400 123456") == "+447400123456"


def test_signed_links_never_change_anything_on_get(client):
    district = factories.area()
    subscriber = subscriptions.subscribe(
        channel=Channel.EMAIL, address="g@example.com", areas=[district], language="en"
    ).subscriber
    for purpose in ["confirm", "unsubscribe", "manage"]:
        response = client.get(path_of(notify_links.link(subscriber, purpose)))
        assert response.status_code == 200
        assert "<form" in response.content.decode() and 'method="post"' in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None and Subscriber.objects.count() == 1


def test_forged_expired_or_revoked_links_are_refused_with_400(client):
    district = factories.area()
    subscriber = subscriptions.subscribe(
        channel=Channel.EMAIL, address="r@example.com", areas=[district], language="en"
    ).subscriber
    good = notify_links.make_token(subscriber, "manage")
    assert client.get(f"/subscribe/manage/{good}x/").status_code == 400
    # A token for one purpose does not work for another.
    assert client.post(f"/subscribe/confirm/{good}/").status_code == 400
    subscriber.link_key = "rotated"
    subscriber.save()
    assert client.get(f"/subscribe/manage/{good}/").status_code == 400


def test_the_manage_page_changes_areas_and_language_pauses_and_deletes(client):
    north, south = factories.area("North"), factories.area("South")
    subscriber = subscriptions.subscribe(
        channel=Channel.EMAIL, address="m@example.com", areas=[north], language="en"
    ).subscriber
    subscriptions.confirm(subscriber)
    url = path_of(notify_links.link(subscriber, "manage"))
    page = client.get(url).content.decode()
    assert "m@example.com" not in page and "m…@example.com" in page
    response = client.post(url, {"action": "save", "areas": [south.slug], "language": "hu", "paused": "on"})
    assert response.status_code == 200 and "saved" in response.content.decode()
    subscriber.refresh_from_db()
    assert (list(subscriber.areas.all()), subscriber.language, subscriber.paused) == ([south], "hu", True)
    assert client.post(url, {"action": "save", "language": "en"}).status_code == 400
    response = client.post(url, {"action": "delete"})
    assert response.status_code == 200
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert client.get(url).status_code == 400


def test_subscribing_a_confirmed_address_again_changes_nothing(client, django_capture_on_commit_callbacks):
    north, south = factories.area("North"), factories.area("South")
    subscriber = subscriptions.confirm(
        subscriptions.subscribe(channel=Channel.EMAIL, address="c@example.com", areas=[north], language="en").subscriber
    )
    assert post_subscribe(client, south, email="c@example.com").status_code == 200
    assert list(subscriber.areas.all()) == [north]


def test_confirmation_messages_per_address_are_limited_with_a_clear_429(client, settings):
    settings.SUBSCRIBE_LIMIT_PER_ADDRESS = 3
    district = factories.area()
    statuses = [post_subscribe(client, district, email="same@example.com").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = post_subscribe(client, district, email="same@example.com")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert "try again in an hour" in response.content.decode()
    assert post_subscribe(client, district, email="other@example.com").status_code == 200


def test_subscribe_requests_per_ip_are_limited(client, settings):
    settings.SUBSCRIBE_LIMIT_PER_IP = 2
    district = factories.area()
    assert post_subscribe(client, district, email="a@example.com").status_code == 200
    assert post_subscribe(client, district, email="b@example.com").status_code == 200
    response = post_subscribe(client, district, email="c@example.com")
    assert response.status_code == 429 and "Too many" in response.content.decode()
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert post_subscribe(other, district, email="c@example.com").status_code == 200


def test_a_webhook_subscription_shows_its_secret_once(client, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    district = factories.area()
    response = post_subscribe(client, district, channel="webhook", url="http://127.0.0.1:9/hook")
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is not None
    assert subscriber.secret in response.content.decode()
    manage = client.get(path_of(notify_links.link(subscriber, "manage"))).content.decode()
    assert subscriber.secret not in manage
    again = post_subscribe(client, district, channel="webhook", url="http://127.0.0.1:9/hook")
    assert again.status_code == 400 and "already subscribed" in again.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/hook",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://172.31.255.254/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[64:ff9b::10.0.0.1]/",
        "http://2130706433/",  # 127.0.0.1 in decimal
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",  # hexadecimal
        "http://017700000001/",  # octal, one number
        "http://127.1/",  # short form
        "http://0.0.0.0/",
        "http://localhost/",
        "http://224.0.0.1/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://user:pass@example.com/",
        "http:///nohost",
    ],
)
def test_webhook_urls_to_private_or_reserved_addresses_are_refused(url, settings, client):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check(url)
    district = factories.area()
    response = post_subscribe(client, district, channel="webhook", url=url)
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


def test_allowing_loopback_for_tests_still_refuses_private_and_metadata_addresses(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    ssrf.check("http://127.0.0.1:8080/hook")
    ssrf.check("http://[::1]/")
    for url in ["http://10.0.0.1/", "http://169.254.169.254/", "http://192.168.1.1/", "http://[fc00::1]/"]:
        with pytest.raises(ssrf.UnsafeURL):
            ssrf.check(url)


def test_public_addresses_are_accepted(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    assert ssrf.check("https://93.184.216.34/hooks?x=1").path == "/hooks?x=1"
    assert ssrf.check("http://[2606:4700:4700::1111]/").port == 80


def test_subscriber_data_never_appears_on_public_pages(client):
    district = factories.area()
    subscriptions.confirm(
        subscriptions.subscribe(
            channel=Channel.EMAIL, address="secret-person@example.com", areas=[district], language="en"
        ).subscriber
    )
    factories.incident(district)
    for url in ["/", f"/areas/{district.slug}/", "/subscribe/", f"/search/?q={district.name}"]:
        assert "secret-person" not in client.get(url).content.decode()


def test_ops_see_subscribers_and_the_delivery_log_in_the_admin(admin_client, django_capture_on_commit_callbacks):
    district = factories.area()
    subscriptions.confirm(
        subscriptions.subscribe(
            channel=Channel.EMAIL, address="ops-visible@example.com", areas=[district], language="en"
        ).subscriber
    )
    with django_capture_on_commit_callbacks(execute=False):
        incident = factories.incident(district)
    event = incident.notifications.get()
    engine.plan(event)
    assert "ops-visible@example.com" in admin_client.get("/admin/outages/subscriber/").content.decode()
    events_page = admin_client.get("/admin/outages/notificationevent/")
    assert events_page.status_code == 200 and f"?event__id__exact={event.pk}" in events_page.content.decode()
    log = admin_client.get(f"/admin/outages/delivery/?event__id__exact={event.pk}")
    assert log.status_code == 200 and "Pending" in log.content.decode()
    assert (
        "whsec_"
        not in admin_client.get(
            f"/admin/outages/subscriber/{event.deliveries.get().subscriber_id}/change/"
        ).content.decode()
    )
