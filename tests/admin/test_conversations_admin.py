"""The console for conversations: provider accounts with masked secrets, the conversation log, counters."""

import json

import pytest
from django.test import Client

from outages.models import ChatChannelConfig, ChatCounter, Conversation
from outages.notify.chat import config
from outages.services import conversations
from tests import factories

pytestmark = pytest.mark.django_db
SECRET = "tg-very-secret-token-7f3a"


@pytest.fixture
def root(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    yield client
    for channel in ("sms", "telegram", "whatsapp"):
        config.forget(channel)


def test_a_channels_secrets_are_stored_once_and_only_shown_masked(root):
    response = root.post(
        "/admin/outages/chatchannelconfig/add/",
        {"channel": "telegram", "enabled": "on", "token": "123:bot-token-abcd", "secret": SECRET, "api_base": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ChatChannelConfig.objects.get()
    assert row.secret == SECRET
    listing = root.get("/admin/outages/chatchannelconfig/").content.decode()
    assert SECRET not in listing and "••••7f3a" in listing
    change = root.get(f"/admin/outages/chatchannelconfig/{row.pk}/change/").content.decode()
    assert SECRET not in change and "bot-token-abcd" not in change and "••••7f3a" in change
    # Saving with the secret fields blank keeps them.
    response = root.post(
        f"/admin/outages/chatchannelconfig/{row.pk}/change/",
        {"channel": "telegram", "enabled": "on", "account": "", "token": "", "secret": "", "api_base": ""},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.secret == SECRET and row.token == "123:bot-token-abcd"


def test_the_consoles_secret_is_what_the_webhook_checks(root, settings):
    settings.TELEGRAM_SECRET_TOKEN = "from-settings"
    root.post("/admin/outages/chatchannelconfig/add/", {"channel": "telegram", "enabled": "on", "secret": SECRET})
    update = json.dumps({"update_id": 1, "message": {"chat": {"id": 5}, "text": "help"}})
    old = Client().post(
        "/webhooks/telegram/",
        update,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "from-settings"},
    )
    assert old.status_code == 403
    row = ChatChannelConfig.objects.get()
    row.enabled = False
    conversations.save_channel_config(row)
    config.forget("telegram")
    disabled = Client().post(
        "/webhooks/telegram/",
        update,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert disabled.status_code == 404


def test_the_conversation_log_shows_outcomes_and_our_answers(root):
    factories.area("Érd", slug="erd", postcodes="2030")
    conversations.handle(channel="sms", sender="+36309999999", text="2030", message_id="m1")
    conversations.handle(channel="sms", sender="+36309999999", text="FOLLOW", message_id="m2")
    conversations.count("sms", "bad signature")
    conversation = Conversation.objects.get()
    page = root.get(f"/admin/outages/conversation/{conversation.pk}/change/").content.decode()
    assert "There are no known problems in Érd." in page and "followed" in page and "status" in page
    assert "Érd" in root.get("/admin/outages/conversation/").content.decode()
    counters = root.get("/admin/outages/chatcounter/").content.decode()
    assert "bad signature" in counters
    assert ChatCounter.objects.get(name="bad signature").count == 1
