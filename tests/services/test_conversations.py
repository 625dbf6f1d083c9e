"""The conversation core: what a customer writes, in en/hu/he, and what we answer."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from outages import services
from outages.models import Channel, ChatCounter, Conversation, ConversationMessage, ProblemReport, Subscriber
from outages.queries import announcements, current
from outages.services import conversations
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    fiber = factories.service("Fiber internet", slug="fiber")
    area = factories.area("Budapest District 5", slug="budapest-district-5", postcodes="1051,1052")
    quiet = factories.area("Érd", slug="erd", postcodes="2030")
    incident = factories.incident(area, services=[fiber], eta_in=None)
    services.post_update(incident, status="identified", eta=timezone.now() + timedelta(hours=3))
    return {"area": area, "quiet": quiet, "incident": incident, "fiber": fiber}


def ask(text, sender="+36301234567", channel="sms", **kwargs):
    return conversations.handle(channel=channel, sender=sender, text=text, **kwargs)


def sentence(area, language):
    with translation.override(language):
        return announcements.announce(area, current.area_incidents_now([area.pk]).get(area.pk, [])).text(written=True)


@pytest.mark.parametrize(
    ("text", "intent", "argument", "language"),
    [
        ("status 1051", "status", "1051", "en"),
        ("Állapot 1051", "status", "1051", "hu"),
        ("allapot 1051", "status", "1051", "hu"),
        ("מצב 1051", "status", "1051", "he"),
        ("FOLLOW", "follow", "", "en"),
        ("követés 1051", "follow", "1051", "hu"),
        ("עקוב", "follow", "", "he"),
        ("OUT 1051", "report", "1051", "en"),
        ("nincs áram 1051", "report", "1051", "hu"),
        ("report no internet", "report", "no internet", "en"),
        ("תקלה 1051", "report", "1051", "he"),
        ("STOP", "stop", "", ""),
        ("leiratkozás", "stop", "", "hu"),
        ("הפסק", "stop", "", "he"),
        ("help", "help", "", "en"),
        ("segítség", "help", "", "hu"),
        ("עזרה", "help", "", "he"),
        ("when?", "when", "", "en"),
        ("mikor?", "when", "", "hu"),
        ("2", "pick", "2", ""),
        ("1051", "status", "1051", ""),
        ("Budapest District 5", "status", "Budapest District 5", ""),
        ("🙂🙂", "empty", "", ""),
        ("", "empty", "", ""),
    ],
)
def test_parse_reads_keywords_in_every_language(text, intent, argument, language):
    parsed = conversations.parse(text)
    assert (parsed.kind, parsed.argument, parsed.language) == (intent, argument, language)


def test_status_by_postcode_answers_with_the_voice_lines_sentence_and_offers_follow(district):
    answer = ask("status 1051")
    expected = sentence(district["area"], "en")
    assert answer.reply == f"{expected} Reply FOLLOW to get updates here until it is fixed."
    assert expected.startswith("There is a fiber internet outage in Budapest District 5. We expect service")
    assert answer.conversation.last_area == district["area"]


@pytest.mark.parametrize("language", ["en", "hu", "he"])
def test_affected_and_unaffected_areas_in_each_language(district, language):
    keyword = {"en": "status", "hu": "állapot", "he": "מצב"}[language]
    affected = ask(f"{keyword} 1051", sender=f"a-{language}")
    assert affected.language == language
    assert affected.reply.startswith(sentence(district["area"], language))
    quiet = ask(f"{keyword} 2030", sender=f"b-{language}")
    assert quiet.reply == sentence(district["quiet"], language)
    with translation.override(language):
        assert quiet.reply == announcements.announce(district["quiet"], []).text(written=True)
    if language != "en":
        assert "There are no known problems" not in quiet.reply


def test_the_platforms_language_hint_is_used_without_a_keyword(district):
    assert ask("1051", language_hint="hu-HU").language == "hu"
    assert ask("2030", sender="other").language == "en"


def test_several_matches_give_a_numbered_list_and_a_number_picks(district):
    factories.area("Budapest District 6", slug="budapest-district-6", postcodes="1061")
    answer = ask("Budapest District")
    assert "1. Budapest District 5" in answer.reply and "2. Budapest District 6" in answer.reply
    assert answer.outcome == "list"
    picked = ask("1")
    assert picked.reply.startswith(sentence(district["area"], "en"))
    assert Conversation.objects.get().last_area == district["area"]


def test_when_and_follow_remember_the_last_area(district):
    ask("1051")
    assert ask("when?").reply.startswith(sentence(district["area"], "en"))
    follow = ask("FOLLOW")
    assert follow.outcome == "followed"
    assert "You are following Budapest District 5" in follow.reply
    subscriber = Subscriber.objects.get(channel=Channel.CHAT)
    assert subscriber.address == "sms:+36301234567" and subscriber.is_active
    assert list(subscriber.areas.all()) == [district["area"]]
    # Already following: no offer to follow again.
    assert "FOLLOW" not in ask("1051").reply


def test_anything_else_gets_help_with_two_examples_never_silence(district):
    for text in ["", "🙂", "x" * 50_000, "asdfgh qwerty", "שלום abc ❤", "<script>alert(1)</script>"]:
        answer = ask(text, sender=f"s{len(text)}{text[:3]}")
        assert answer.reply, text
        assert '"1051"' in answer.reply and "status " in answer.reply or "1051" in answer.reply, answer.reply
    unknown = ask("Atlantis")
    assert unknown.outcome == "unknown area" and unknown.reply.startswith("We found no area")
    assert "Atlantis" not in unknown.reply


def test_help_in_hungarian_and_hebrew(district):
    assert ask("segítség").reply != ask("help", sender="en").reply
    hebrew = ask("עזרה", sender="he")
    assert hebrew.language == "he" and hebrew.reply


def test_report_is_counted_on_the_known_incident_with_a_hashed_source(district):
    ask("1051")
    answer = ask("OUT")
    assert answer.outcome == "report known"
    assert answer.reply.startswith("Thank you. We know about the problem in Budapest District 5.")
    assert sentence(district["area"], "en") in answer.reply
    report = ProblemReport.objects.get()
    assert report.incident == district["incident"] and report.area == district["area"]
    assert "+3630" not in report.client and len(report.client) == 32


def test_report_in_hungarian_for_an_unaffected_area_is_stored_for_ops(district):
    answer = ask("nincs áram 2030")
    assert answer.language == "hu" and answer.outcome == "report stored"
    report = ProblemReport.objects.get()
    assert report.incident is None and report.area == district["quiet"]


def test_a_second_report_folds_like_the_web_forms(district):
    ask("OUT 1051")
    ask("OUT 1051")
    assert ProblemReport.objects.count() == 1


def test_stop_ends_the_follow_and_is_confirmed_once(district):
    ask("FOLLOW 1051")
    stop = ask("STOP")
    assert stop.outcome == "stopped" and "no more messages" in stop.reply
    assert not Subscriber.objects.filter(channel=Channel.CHAT).exists()
    assert ask("STOP").reply == ""
    # Writing again starts over.
    assert ask("1051").reply.startswith(sentence(district["area"], "en"))


def test_stop_in_hebrew_is_answered_in_hebrew(district):
    ask("FOLLOW 1051")
    answer = ask("הפסק")
    with translation.override("he"):
        expected = conversations._("You will get no more messages from us. Write to us any time to ask again.")
    assert answer.language == "he" and answer.reply == expected


def test_a_replayed_provider_message_is_answered_once(district):
    first = ask("1051", message_id="SM1")
    again = ask("1051", message_id="SM1")
    assert first.reply and again.replay and again.reply == ""
    assert ConversationMessage.objects.filter(provider_message_id="SM1").count() == 1
    assert ChatCounter.objects.get(channel="sms", name="replays").count == 1


def test_the_log_keeps_outcomes_not_the_customers_text(district):
    ask("status 1051 my name is Anna", message_id="x1")
    row = ConversationMessage.objects.get()
    assert row.intent == "status" and "Anna" not in row.reply


def test_rate_limit_says_slow_down_once(settings, district):
    settings.CHAT_RATE_PER_MINUTE = 3
    now = timezone.now().replace(second=1)
    results = [conversations.check_rate("sms", "+3610", now) for _ in range(6)]
    assert results[:3] == [None, None, None]
    assert results[3] and "quickly" in results[3]
    assert results[4:] == ["", ""]


def test_personal_data_is_deleted_after_the_setting_unless_following(settings, district):
    settings.CHAT_KEEP_DAYS = 7
    ask("1051", sender="gone", message_id="g1")
    ask("FOLLOW 1051", sender="kept", message_id="k1")
    later = timezone.now() + timedelta(days=8)
    assert conversations.prune_conversations(later) == 1
    assert list(Conversation.objects.values_list("sender", flat=True)) == ["kept"]
    # The log keeps its row, without the person.
    assert ConversationMessage.objects.get(provider_message_id="g1").conversation is None


def test_a_status_question_costs_one_read_and_one_transaction(district, django_assert_max_num_queries):
    ask("status 1051", sender="+36300000001")  # the areas and the sentence are cached for the storm
    with django_assert_max_num_queries(6):  # conversation, latest update id, savepoint, 2 inserts, release
        answer = ask("status 1051", sender="+36300000002", message_id="q2")
    assert answer.reply.startswith(sentence(district["area"], "en"))
    assert ConversationMessage.objects.get(provider_message_id="q2").conversation == answer.conversation


def test_a_senders_first_two_messages_racing_land_on_one_conversation(district):
    now = timezone.now()
    winner = Conversation.objects.create(channel="sms", sender="+36300000009", language="en")
    # The loser read no conversation, answered, and records after the winner created it.
    loser = Conversation(
        channel="sms", sender="+36300000009", language="hu", last_area=district["area"], created_at=now
    )
    inbound = ConversationMessage(channel="sms", direction="in", provider_message_id="race", intent="status")
    recorded = conversations._record(loser, inbound, send_later=False)
    assert recorded.pk == winner.pk and Conversation.objects.count() == 1
    winner.refresh_from_db()
    assert winner.language == "hu" and winner.last_area == district["area"]
    assert ConversationMessage.objects.get(provider_message_id="race").conversation_id == winner.pk


def test_a_replay_is_answered_once_even_when_both_answer_before_recording(district):
    first = ask("status 1051", message_id="same")
    again = ask("status 1051", message_id="same")
    assert first.reply and again.replay and again.reply == ""
    assert ConversationMessage.objects.filter(provider_message_id="same").count() == 1
    assert ChatCounter.objects.get(channel="sms", name="replays").count == 1
