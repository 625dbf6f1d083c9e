"""The providers' webhooks against a local fake of each provider's API (tests.receivers.HTTPReceiver
records what we sent and answers what a test tells it to: 200, 429, 5xx, 400).

SMS (TwiML) and Telegram (sendMessage in the response body) answer inline; WhatsApp, Viber,
Messenger and the SMS gateway acknowledge at once and the worker sends the reply."""

import html
import json
import time
import urllib.parse
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from outages import services
from outages.models import (
    Channel,
    ChatChannelConfig,
    ChatCounter,
    Conversation,
    ConversationMessage,
    Delivery,
    ProblemReport,
    Subscriber,
)
from outages.notify.chat import config as chat_config
from outages.notify.chat import gateway as gateway_module
from outages.notify.chat import sms, viber, whatsapp
from outages.queries import announcements, current
from outages.services import subscriptions
from tests import factories
from tests.receivers import HTTPReceiver, SMTPSink, run_worker, text_part, time_passes

pytestmark = pytest.mark.django_db(transaction=True)
SMS_URL = "http://testserver/webhooks/sms/"


@pytest.fixture
def provider(settings):
    """One fake API for every provider: each has its own base URL setting."""
    server = HTTPReceiver()
    server.status = 200
    settings.TWILIO_API_BASE = server.url + "/twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_NUMBER = "AC1", "twilio-token", "+3612"
    settings.TELEGRAM_API_BASE = server.url + "/telegram"
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_SECRET_TOKEN = "123:abc", "tg-secret"
    settings.WHATSAPP_API_BASE = server.url + "/whatsapp"
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_APP_SECRET = "wa-token", "wa-secret"
    settings.WHATSAPP_VERIFY_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "wa-verify", "555"
    settings.VIBER_API_BASE, settings.VIBER_AUTH_TOKEN = server.url + "/viber", "viber-token"
    settings.MESSENGER_API_BASE, settings.MESSENGER_PAGE_TOKEN = server.url + "/messenger", "page-token"
    settings.MESSENGER_APP_SECRET, settings.MESSENGER_VERIFY_TOKEN = "fb-secret", "fb-verify"
    settings.NOTIFY_RETRY_BASE_SECONDS = 1
    yield server
    server.close()


@pytest.fixture
def district():
    fiber = factories.service("Fiber internet", slug="fiber")
    area = factories.area("Budapest District 5", slug="budapest-district-5", postcodes="1051")
    quiet = factories.area("Érd", slug="erd", postcodes="2030")
    incident = factories.incident(area, services=[fiber], eta_in=None)
    services.post_update(incident, status="identified", eta=timezone.now() + timedelta(hours=3))
    run_worker()  # the opening's notices go out before anyone follows
    return {"area": area, "quiet": quiet, "incident": incident}


def sentence(area, language="en"):
    with translation.override(language):
        return announcements.announce(area, current.area_incidents_now([area.pk]).get(area.pk, [])).text(written=True)


def status_sentence(area, language="en"):
    """The sentence without the operators' latest word: what every notification carries."""
    incidents = current.area_incidents_now([area.pk]).get(area.pk, [])
    with translation.override(language):
        return announcements.announce_for(area.localized_name, area.tzinfo, incidents).text(written=True)


def twilio_post(body, sender="+36301234567", sid="SM1", token="twilio-token"):
    params = {"From": sender, "To": "+3612", "Body": body, "MessageSid": sid}
    signature = sms.signature(token, SMS_URL, params)
    return Client().post("/webhooks/sms/", params, headers={"X-Twilio-Signature": signature})


def telegram_post(text, chat_id=42, update_id=1, secret="tg-secret", language="en"):
    update = {
        "update_id": update_id,
        "message": {"message_id": 9, "chat": {"id": chat_id}, "from": {"language_code": language}, "text": text},
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return Client().post("/webhooks/telegram/", json.dumps(update), content_type="application/json", headers=headers)


def whatsapp_post(text, sender="36301111111", message_id="wamid.1", secret="wa-secret"):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {"messages": [{"from": sender, "id": message_id, "text": {"body": text}}]}}]}],
    }
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": whatsapp.body_signature(secret, body)}
    return Client().post("/webhooks/whatsapp/", body, content_type="application/json", headers=headers)


def telegram_reply(response):
    """The answer Telegram carries out of our webhook response (a sendMessage call), or None."""
    if not response["Content-Type"].startswith("application/json"):
        return None
    body = json.loads(response.content)
    assert body["method"] == "sendMessage"
    return body


def sent_texts(server, prefix):
    texts = []
    for request in server.requests:
        if not request["path"].startswith(prefix):
            continue
        if prefix == "/twilio":
            texts.append(urllib.parse.parse_qs(request["body"].decode())["Body"][0])
        elif prefix == "/telegram":
            texts.append(json.loads(request["body"])["text"])
        else:
            texts.append(json.loads(request["body"])["text"]["body"])
    return texts


# Signatures ---------------------------------------------------------------------------------------


def test_a_bad_twilio_signature_is_a_403_that_leaves_only_a_counter(provider, district):
    response = twilio_post("1051", token="wrong")
    assert response.status_code == 403
    assert not Conversation.objects.exists() and not ConversationMessage.objects.exists()
    assert ChatCounter.objects.get(channel="sms", name="bad signature").count == 1
    assert provider.requests == []


def test_telegram_without_or_with_a_wrong_secret_token_is_refused(provider, district):
    assert telegram_post("1051", secret="").status_code == 403
    assert telegram_post("1051", secret="nope").status_code == 403
    assert not ConversationMessage.objects.exists()
    assert ChatCounter.objects.get(channel="telegram", name="bad signature").count == 2


def test_whatsapp_bad_signature_and_the_verification_challenge(provider, district):
    assert whatsapp_post("1051", secret="wrong").status_code == 403
    ok = Client().get("/webhooks/whatsapp/?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=8675309")
    assert ok.status_code == 200 and ok.content == b"8675309"
    wrong = Client().get("/webhooks/whatsapp/?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert wrong.status_code == 403


# Answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "keyword"), [("en", "status"), ("hu", "állapot"), ("he", "מצב")])
def test_sms_answers_inline_with_twiml_for_affected_and_unaffected_areas(provider, district, language, keyword):
    response = twilio_post(f"{keyword} 1051", sid=f"A{language}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert sentence(district["area"], language) in body
    quiet = twilio_post(f"{keyword} 2030", sid=f"B{language}").content.decode()
    assert f"<Message>{sentence(district['quiet'], language)}</Message>" in quiet
    assert provider.requests == []  # inline: no API call


@pytest.mark.parametrize(("language", "keyword"), [("en", "status"), ("hu", "állapot"), ("he", "מצב")])
def test_telegram_answers_inline_with_send_message_in_the_response(provider, district, language, keyword):
    affected, quiet = telegram_post(f"{keyword} 1051", update_id=1), telegram_post(f"{keyword} 2030", update_id=2)
    assert affected.status_code == quiet.status_code == 200
    first, second = telegram_reply(affected), telegram_reply(quiet)
    assert first["chat_id"] == "42" and first["text"].startswith(sentence(district["area"], language))
    assert second["text"] == sentence(district["quiet"], language)
    assert provider.requests == []  # inline: no API call, nothing queued
    run_worker()
    assert provider.requests == []


def test_telegram_uses_the_platforms_language_without_a_keyword(provider, district):
    reply = telegram_reply(telegram_post("1051", language="hu"))
    assert reply["text"].startswith(sentence(district["area"], "hu"))


@pytest.mark.parametrize(("language", "keyword"), [("en", "status"), ("hu", "állapot"), ("he", "מצב")])
def test_whatsapp_replies_through_the_messages_endpoint(provider, district, language, keyword):
    response = whatsapp_post(f"{keyword} 1051", message_id="m1")
    assert response.status_code == 200 and response.content == b"ok"
    assert provider.requests == []  # acknowledged at once; the worker sends the reply
    run_worker()
    request = provider.requests[0]
    assert request["path"] == "/whatsapp/555/messages"
    assert request["headers"]["Authorization"] == "Bearer wa-token"
    body = json.loads(request["body"])
    assert body["to"] == "36301111111" and body["messaging_product"] == "whatsapp"
    assert body["text"]["body"].startswith(sentence(district["area"], language))


def test_a_replayed_message_is_answered_once(provider, district):
    first, again = telegram_post("1051", update_id=7), telegram_post("1051", update_id=7)
    assert telegram_reply(first) is not None and telegram_reply(again) is None and again.status_code == 200
    assert ChatCounter.objects.get(channel="telegram", name="replays").count == 1
    whatsapp_post("1051", message_id="wamid.dup")
    whatsapp_post("1051", message_id="wamid.dup")
    run_worker()
    whatsapp_post("1051", message_id="wamid.dup")  # a retry after the answer went out
    run_worker()
    assert len(sent_texts(provider, "/whatsapp")) == 1
    twiml = twilio_post("1051", sid="SMdup").content.decode()
    again = twilio_post("1051", sid="SMdup").content.decode()
    assert "<Message>" in twiml and "<Message>" not in again


def test_bad_input_gets_a_reply_never_a_500(provider, district):
    for index, text in enumerate(["", "🙂🙂🙂", "x" * 20000, "שלום hello Érd?", "\x00\x1f", "99999"]):
        response = twilio_post(text, sid=f"bad{index}")
        assert response.status_code == 200, text
        assert "<Message>" in response.content.decode(), text
    assert (
        Client()
        .post(
            "/webhooks/telegram/",
            "not json",
            content_type="application/json",
            headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
        )
        .status_code
        == 200
    )


def test_a_sender_over_the_rate_limit_gets_429_and_one_slow_down(provider, district, settings):
    settings.CHAT_RATE_PER_MINUTE = 2
    statuses = [twilio_post("1051", sid=f"r{n}").status_code for n in range(5)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429, 429]
    run_worker()  # the 429 cannot carry it: the worker sends the one "slow down"
    slow = sent_texts(provider, "/twilio")
    assert len(slow) == 1 and "quickly" in slow[0]


def test_report_by_sms_is_counted_on_the_known_incident(provider, district):
    body = twilio_post("OUT 1051").content.decode()
    assert "We know about the problem in Budapest District 5." in body
    assert ProblemReport.objects.get().incident == district["incident"]


def test_stop_by_telegram_is_confirmed_once(provider, district):
    follow = telegram_reply(telegram_post("FOLLOW 1051", update_id=1))
    stop = telegram_reply(telegram_post("STOP", update_id=2))
    assert "You are following" in follow["text"] and "no more messages" in stop["text"]
    assert telegram_reply(telegram_post("STOP", update_id=3)) is None
    assert not Subscriber.objects.filter(channel=Channel.CHAT).exists()


# Following through the delivery engine -------------------------------------------------------------------


def test_follow_brings_updates_through_the_worker_then_one_fixed_message_then_nothing(provider, district):
    telegram_post("1051", update_id=1)
    telegram_post("FOLLOW", update_id=2)
    provider.requests.clear()
    incident = district["incident"]
    # The provider is busy first: the engine retries.
    provider.status = 503
    services.post_update(incident, status="monitoring", eta=timezone.now() + timedelta(hours=1))
    run_worker()
    delivery = Delivery.objects.get(channel=Channel.CHAT)
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    provider.status = 200
    time_passes()
    run_worker()
    texts = sent_texts(provider, "/telegram")
    assert texts[-1].startswith("There is a fiber internet outage in Budapest District 5.")
    assert Delivery.objects.get(channel=Channel.CHAT).status == Delivery.Status.SENT
    services.resolve(incident, message="Fixed.")
    run_worker()
    texts = sent_texts(provider, "/telegram")
    assert texts[-1].startswith("The outage in Budapest District 5 is resolved.")
    assert not Subscriber.objects.filter(channel=Channel.CHAT).exists()
    count = len(provider.requests)
    factories.incident(district["area"], title="Another")
    run_worker()
    assert len(provider.requests) == count
    log = list(Conversation.objects.get().messages.filter(direction="out").values_list("outcome", flat=True))
    assert log.count("update sent") == 2 and "retrying" in log


def test_an_invalid_recipient_fails_for_good(provider, district):
    whatsapp_post("FOLLOW 1051")
    provider.status = 400
    services.post_update(district["incident"], status="monitoring")
    run_worker()
    assert Delivery.objects.get(channel=Channel.CHAT).status == Delivery.Status.FAILED


def test_page_ivr_and_chat_say_the_same_sentence(provider, district):
    ivr = Client().get("/areas/budapest-district-5/announcement.txt").content.decode().strip()
    chat = twilio_post("1051").content.decode()
    written = sentence(district["area"])
    assert written in chat
    # The voice line says the same sentences, the time for the ear instead of written.
    first = written.split(". ")[0] + "."
    assert ivr.startswith(first) and chat.count(first) == 1
    page = Client().get("/areas/budapest-district-5/").content.decode()
    eta = current.area_incidents_now([district["area"].pk])[district["area"].pk][0].eta
    when = announcements._when(eta, district["area"].tzinfo, timezone.now())
    assert when.written_clock() in page and when.written_clock() in chat


def test_one_update_reaches_page_email_sms_and_chat_followers_with_the_same_sentence(gateway, district, settings):
    """An SMS subscriber from the web form (through the SMS gateway), SMS followers by Twilio and by the
    gateway, Telegram and WhatsApp followers, an email subscriber and the page: one update, one sentence."""
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    try:
        area = district["area"]
        for channel, address in [(Channel.EMAIL, "anna@example.com"), (Channel.SMS, "+36301234567")]:
            outcome = subscriptions.subscribe(channel=channel, address=address, areas=[area], language="en")
            subscriptions.confirm(outcome.subscriber)
        twilio_post("FOLLOW 1051", sender="+36309999999", sid="SMf")
        gateway_post("FOLLOW 1051", sender="+36305555555", message_id="gwf")
        telegram_post("FOLLOW 1051", update_id=1)
        whatsapp_post("FOLLOW 1051")
        run_worker()
        gateway.requests.clear()
        services.post_update(district["incident"], status="monitoring", eta=timezone.now() + timedelta(hours=2))
        run_worker()
        said = status_sentence(area)  # what the area's sentence is now, as written
        assert said.startswith("There is a fiber internet outage in Budapest District 5. We expect service")
        by_number = {sent["to"]: sent["text"] for sent in gateway_texts(gateway)}
        assert len(gateway_texts(gateway)) == 2
        [twilio_text] = sent_texts(gateway, "/twilio")
        [telegram] = sent_texts(gateway, "/telegram")
        [whatsapp_text] = sent_texts(gateway, "/whatsapp")
        mail = [m for m in sink.messages if m["Message-ID"].startswith("<notice.")][-1]
        texts = [by_number["+36301234567"], by_number["+36305555555"], twilio_text, telegram, whatsapp_text]
        for text in [*texts, " ".join(text_part(mail).split())]:
            assert said in text, text
        page = Client().get("/areas/budapest-district-5/").content.decode()
        eta = current.area_incidents_now([area.pk])[area.pk][0].eta
        clock = announcements._when(eta, area.tzinfo, timezone.now()).written_clock()
        assert clock in page and all(clock in text for text in texts)
    finally:
        sink.stop()


# Viber and Messenger: the same pattern --------------------------------------------------------------


def viber_post(text, sender="vb-user", token="vb1", secret="viber-token", language="hu"):
    event = {
        "event": "message",
        "message_token": token,
        "sender": {"id": sender, "language": language},
        "message": {"type": "text", "text": text},
    }
    body = json.dumps(event).encode()
    headers = {"X-Viber-Content-Signature": viber.body_signature(secret, body)}
    return Client().post("/webhooks/viber/", body, content_type="application/json", headers=headers)


def messenger_post(text, sender="psid-1", mid="mid.1", secret="fb-secret"):
    payload = {
        "object": "page",
        "entry": [{"messaging": [{"sender": {"id": sender}, "message": {"mid": mid, "text": text}}]}],
    }
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": whatsapp.body_signature(secret, body)}
    return Client().post("/webhooks/messenger/", body, content_type="application/json", headers=headers)


def test_viber_checks_its_signature_and_answers_in_the_senders_language(provider, district):
    assert viber_post("1051", secret="wrong").status_code == 403
    assert provider.requests == []
    assert viber_post("1051").status_code == 200
    run_worker()
    [request] = provider.requests
    assert request["path"] == "/viber/send_message" and request["headers"]["X-Viber-Auth-Token"] == "viber-token"
    body = json.loads(request["body"])
    assert body["receiver"] == "vb-user" and body["text"].startswith(sentence(district["area"], "hu"))


def test_messenger_challenge_signature_and_reply(provider, district):
    ok = Client().get("/webhooks/messenger/?hub.mode=subscribe&hub.verify_token=fb-verify&hub.challenge=42")
    assert ok.status_code == 200 and ok.content == b"42"
    assert Client().get("/webhooks/messenger/?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1").status_code == 403
    assert messenger_post("מצב 1051", secret="wrong").status_code == 403
    assert messenger_post("מצב 1051").status_code == 200
    run_worker()
    [request] = provider.requests
    assert request["path"] == "/messenger/me/messages?access_token=page-token"
    body = json.loads(request["body"])
    assert body["recipient"] == {"id": "psid-1"}
    assert body["message"]["text"].startswith(sentence(district["area"], "he"))


def test_viber_and_messenger_followers_get_the_update(provider, district):
    viber_post("FOLLOW 1051", language="en")
    messenger_post("FOLLOW 1051")
    run_worker()
    provider.requests.clear()
    services.post_update(district["incident"], status="monitoring")
    run_worker()
    viber_texts = [json.loads(r["body"])["text"] for r in provider.requests if r["path"].startswith("/viber")]
    messenger_texts = [
        json.loads(r["body"])["message"]["text"] for r in provider.requests if r["path"].startswith("/messenger")
    ]
    assert len(viber_texts) == len(messenger_texts) == 1
    assert viber_texts[0] == messenger_texts[0]
    assert viber_texts[0].startswith("There is a fiber internet outage in Budapest District 5.")


# Replies from the worker: the webhook never waits for the provider's API ----------------------------


def test_the_webhook_answers_at_once_while_the_providers_api_is_slow(provider, district, settings):
    provider.delay = 2.0
    started = time.monotonic()
    assert whatsapp_post("1051", message_id="slow1").status_code == 200
    assert viber_post("1051", token="slow2").status_code == 200
    assert messenger_post("1051", mid="slow3").status_code == 200
    assert time.monotonic() - started < 1.0  # the provider's API would take 6 s
    assert provider.requests == []
    run_worker()
    assert sorted(r["path"].split("/")[1] for r in provider.requests) == ["messenger", "viber", "whatsapp"]
    log = set(ConversationMessage.objects.filter(direction="out").values_list("outcome", flat=True))
    assert log == {"reply sent"}


def test_a_reply_is_retried_on_429_and_5xx_then_sent(provider, district):
    provider.status = 429
    whatsapp_post("1051", message_id="busy")
    run_worker()
    provider.status = 503
    time_passes()
    run_worker()
    assert len(provider.requests) == 2
    provider.status = 200
    time_passes()
    run_worker()
    texts = sent_texts(provider, "/whatsapp")
    assert len(texts) == 3 and texts[0] == texts[2] and texts[2].startswith(sentence(district["area"]))
    log = list(
        Conversation.objects.get().messages.filter(direction="out").order_by("id").values_list("outcome", flat=True)
    )
    assert log == ["reply retrying", "reply retrying", "reply sent"]
    time_passes()
    run_worker()
    assert len(provider.requests) == 3  # sent once it went through, never again


def test_a_reply_to_an_invalid_recipient_fails_for_good(provider, district):
    provider.status = 400
    whatsapp_post("1051", message_id="gone")
    run_worker()
    time_passes()
    run_worker()
    assert len(provider.requests) == 1
    assert (
        Conversation.objects.get().messages.filter(direction="out").get().outcome
        == "reply failed: provider answered 400"
    )


# The generic SMS gateway (SMS_GATEWAY_URL): signed JSON in, answers through the SMS backend --------------


@pytest.fixture
def gateway(provider, settings):
    """The fake gateway records what the SMS backend sent it: {"to", "from", "text"} with the bearer token."""
    settings.SMS_BACKEND = "outages.notify.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = provider.url + "/gateway/send"
    settings.SMS_GATEWAY_TOKEN = "gw-token"
    settings.SMS_SENDER = "Status"
    settings.SMS_GATEWAY_WEBHOOK_SECRET = "gw-secret"
    return provider


def gateway_post(text, sender="+36305555555", message_id="gw1", secret="gw-secret", raw=None):
    body = (
        raw
        if raw is not None
        else json.dumps({"id": message_id, "from": sender, "to": "Status", "text": text}).encode()
    )
    headers = {gateway_module.SIGNATURE_HEADER: gateway_module.body_signature(secret, body)} if secret else {}
    return Client().post("/webhooks/sms-gateway/", body, content_type="application/json", headers=headers)


def gateway_texts(server):
    return [json.loads(r["body"]) for r in server.requests if r["path"] == "/gateway/send"]


def test_the_gateway_refuses_a_missing_or_wrong_signature_and_leaves_only_a_counter(gateway, district):
    assert gateway_post("1051", secret="").status_code == 403
    assert gateway_post("1051", secret="wrong").status_code == 403
    # A body changed after signing is refused too.
    body = json.dumps({"id": "x", "from": "+3630", "text": "1051"}).encode()
    signed = gateway_module.body_signature("gw-secret", body)
    tampered = Client().post(
        "/webhooks/sms-gateway/",
        body.replace(b"1051", b"2030"),
        content_type="application/json",
        headers={gateway_module.SIGNATURE_HEADER: signed},
    )
    assert tampered.status_code == 403
    run_worker()
    assert not Conversation.objects.exists() and not ConversationMessage.objects.exists()
    assert ChatCounter.objects.get(channel="gateway", name="bad signature").count == 3
    assert gateway.requests == []


@pytest.mark.parametrize(("language", "keyword"), [("en", "status"), ("hu", "állapot"), ("he", "מצב")])
def test_the_gateway_answers_through_the_sms_backend_in_the_senders_language(gateway, district, language, keyword):
    assert gateway_post(f"{keyword} 1051", message_id=f"a{language}").status_code == 200
    assert gateway_post(f"{keyword} 2030", message_id=f"b{language}").status_code == 200
    assert gateway.requests == []
    run_worker()
    affected, quiet = gateway_texts(gateway)
    assert affected["to"] == "+36305555555" and affected["from"] == "Status"
    assert affected["text"].startswith(sentence(district["area"], language))
    assert "FOLLOW" in affected["text"] or language != "en"
    assert quiet["text"] == sentence(district["quiet"], language)
    assert gateway.requests[0]["headers"]["Authorization"] == "Bearer gw-token"


def test_the_gateway_replay_is_answered_once_and_bad_input_still_gets_a_reply(gateway, district):
    for _attempt in range(3):
        assert gateway_post("1051", message_id="same").status_code == 200
    run_worker()
    assert len(gateway_texts(gateway)) == 1
    assert ChatCounter.objects.get(channel="gateway", name="replays").count == 2
    for index, text in enumerate(["", "🙂", "x" * 20000, "\x00"]):
        assert gateway_post(text, message_id=f"bad{index}", sender=f"+3630{index}").status_code == 200
    run_worker()
    assert len(gateway_texts(gateway)) == 5
    # Signed but not a message: acknowledged, nothing to answer, never a 500.
    for raw in (b"not json", b"[]", b'{"text": "1051"}', b'{"from": 5, "text": "1051"}'):
        assert gateway_post("", raw=raw).status_code == 200
    run_worker()
    assert len(gateway_texts(gateway)) == 5


def test_the_gateway_rate_limits_a_sender_with_429_and_one_slow_down(gateway, district, settings):
    settings.CHAT_RATE_PER_MINUTE = 2
    statuses = [gateway_post("1051", message_id=f"r{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 429, 429, 429]
    run_worker()
    texts = [sent["text"] for sent in gateway_texts(gateway)]
    assert len(texts) == 3 and "quickly" in texts[2]


def test_a_gateway_follow_gets_updates_then_one_fixed_message_then_nothing(gateway, district):
    gateway_post("FOLLOW 1051", message_id="f1")
    run_worker()
    gateway.requests.clear()
    incident = district["incident"]
    gateway.status = 503  # the gateway is busy first: the engine retries
    services.post_update(incident, status="monitoring", eta=timezone.now() + timedelta(hours=1))
    run_worker()
    gateway.status = 200
    time_passes()
    run_worker()
    texts = [sent["text"] for sent in gateway_texts(gateway)]
    assert texts[-1].startswith(status_sentence(district["area"])) and len(texts) == 2
    services.resolve(incident, message="Fixed.")
    run_worker()
    assert gateway_texts(gateway)[-1]["text"].startswith("The outage in Budapest District 5 is resolved.")
    count = len(gateway.requests)
    factories.incident(district["area"], title="Another")
    run_worker()
    assert len(gateway.requests) == count
    assert not Subscriber.objects.filter(channel=Channel.CHAT).exists()


def test_a_gateway_report_is_counted_on_the_known_incident(gateway, district):
    gateway_post("OUT 1051", message_id="o1")
    run_worker()
    [sent] = gateway_texts(gateway)
    assert "We know about the problem in Budapest District 5." in sent["text"]
    assert ProblemReport.objects.get().incident == district["incident"]


# Every channel, the same conversation -------------------------------------------------------------------

CHANNELS = ["sms", "gateway", "telegram", "whatsapp", "viber", "messenger"]
API_PREFIX = {
    "sms": "/twilio",
    "gateway": "/gateway/send",
    "telegram": "/telegram",
    "whatsapp": "/whatsapp",
    "viber": "/viber",
    "messenger": "/messenger",
}


def _api_text(request) -> str:
    path, body = request["path"], request["body"]
    if path.startswith("/twilio"):
        return urllib.parse.parse_qs(body.decode())["Body"][0]
    payload = json.loads(body)
    if path.startswith("/whatsapp"):
        return payload["text"]["body"]
    if path.startswith("/messenger"):
        return payload["message"]["text"]
    return payload["text"]


class Customer:
    """One customer on one channel: what they write, and every message we sent them (inline or from the worker)."""

    def __init__(self, channel, server):
        self.channel, self.server, self.count = channel, server, 0

    def say(self, text) -> list[str]:
        self.count += 1
        n = f"{self.channel}-{self.count}"
        before = len(self.server.requests)
        if self.channel == "sms":
            response = twilio_post(text, sid=n)
        elif self.channel == "gateway":
            response = gateway_post(text, message_id=n)
        elif self.channel == "telegram":
            response = telegram_post(text, update_id=self.count)
        elif self.channel == "whatsapp":
            response = whatsapp_post(text, message_id=n)
        elif self.channel == "viber":
            response = viber_post(text, token=n, language="")
        else:
            response = messenger_post(text, mid=n)
        assert response.status_code == 200, (self.channel, text)
        if self.channel == "sms":
            body = response.content.decode()
            return [html.unescape(part.split("</Message>")[0]) for part in body.split("<Message>")[1:]]
        if self.channel == "telegram":
            reply = telegram_reply(response)
            return [reply["text"]] if reply else []
        run_worker()
        return self.sent_since(before)

    def mark(self) -> int:
        return len(self.server.requests)

    def sent_since(self, mark) -> list[str]:
        prefix = API_PREFIX[self.channel]
        return [_api_text(r) for r in self.server.requests[mark:] if r["path"].startswith(prefix)]


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_answers_status_in_each_language(gateway, district, channel):
    customer = Customer(channel, gateway)
    for language, keyword in [("en", "status"), ("hu", "állapot"), ("he", "מצב")]:
        [affected] = customer.say(f"{keyword} 1051")
        assert affected.startswith(sentence(district["area"], language)), (language, affected)
        assert customer.say(f"{keyword} 2030") == [sentence(district["quiet"], language)]


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_follows_until_fixed_reports_and_stops(gateway, district, channel):
    customer = Customer(channel, gateway)
    [followed] = customer.say("FOLLOW 1051")
    assert followed.startswith("You are following Budapest District 5.")
    mark = customer.mark()
    services.post_update(district["incident"], status="monitoring", eta=timezone.now() + timedelta(hours=1))
    run_worker()
    [update] = customer.sent_since(mark)
    assert update.startswith(status_sentence(district["area"]))
    [report] = customer.say("OUT")  # the conversation remembers the area
    assert report.startswith("Thank you. We know about the problem in Budapest District 5.")
    assert ProblemReport.objects.get().incident == district["incident"]
    mark = customer.mark()
    services.resolve(district["incident"], message="Fixed.")
    run_worker()
    [fixed] = customer.sent_since(mark)
    assert fixed.startswith("The outage in Budapest District 5 is resolved.")
    mark = customer.mark()
    factories.incident(district["area"], title="Another")
    run_worker()
    assert customer.sent_since(mark) == []  # the follow ended with the fix
    customer.say("FOLLOW 1051")
    [stopped] = customer.say("STOP")
    assert stopped == "You will get no more messages from us. Write to us any time to ask again."
    assert customer.say("STOP") == []  # confirmed once
    assert not Subscriber.objects.filter(channel=Channel.CHAT).exists()


def test_the_gateways_secret_set_in_the_console_wins_and_a_disabled_gateway_is_a_404(gateway, district):
    row = ChatChannelConfig.objects.create(channel="gateway", secret="console-secret")
    chat_config.forget("gateway")
    assert gateway_post("1051", message_id="c1").status_code == 403  # the setting's secret no longer counts
    assert gateway_post("1051", message_id="c2", secret="console-secret").status_code == 200
    row.enabled = False
    row.save()
    chat_config.forget("gateway")
    assert gateway_post("1051", message_id="c3", secret="console-secret").status_code == 404
