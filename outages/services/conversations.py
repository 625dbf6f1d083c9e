"""Conversations, write side: a customer writes to our number or chat account
and gets the page's sentence back, in the language they wrote in.

One core for every provider (outages.notify.chat has one small module per
provider: verify, parse, send; outages.api.chat the webhooks):

- a postcode, town or area ("status 1051", "állapot 1051", "מצב 1051") -> the
  voice line's and the page's sentence (outages.queries.announcements), or a
  numbered list to pick from when several areas match;
- FOLLOW -> a Subscriber of channel "chat", so the delivery engine brings every
  update until the incident resolves (then one "fixed" message, then nothing);
- OUT / report / "nincs áram" -> a problem report through problem_reports'
  rules, the source a salted hash of the sender;
- STOP / help / "when?"; anything else -> a reply with two examples.

The conversation remembers the last area asked about. Replays of a provider
message id are answered once; senders are rate limited. The customer's text
is never stored; sender ids are deleted CHAT_KEEP_DAYS after the last message
unless a follow is active (prune_conversations, run by outages.jobs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .. import events
from ..models import (
    Channel,
    ChatCounter,
    Conversation,
    ConversationMessage,
    Incident,
    IncidentUpdate,
    Problem,
    Service,
    ServiceArea,
    Subscriber,
)
from ..queries import announcements, current
from ..queries.problem_reports import covering_incident
from . import limits, problem_reports
from .limits import RateLimited

# Longer texts are cut before parsing: nobody types a postcode in 1,000 characters.
MAX_TEXT = 1000
LIST_LIMIT = 5
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}

# Keywords as people type them, without accents, lower case: (intent, language or "" if shared).
KEYWORDS: dict[str, tuple[str, str]] = {
    "status": ("status", "en"),
    "state": ("status", "en"),
    "allapot": ("status", "hu"),
    "מצב": ("status", "he"),
    "follow": ("follow", "en"),
    "kovet": ("follow", "hu"),
    "kovetes": ("follow", "hu"),
    "koves": ("follow", "hu"),
    "עקוב": ("follow", "he"),
    "מעקב": ("follow", "he"),
    "out": ("report", "en"),
    "report": ("report", "en"),
    "outage": ("report", "en"),
    "nincs aram": ("report", "hu"),
    "nincs": ("report", "hu"),
    "hiba": ("report", "hu"),
    "bejelentes": ("report", "hu"),
    "אין חשמל": ("report", "he"),
    "תקלה": ("report", "he"),
    "דיווח": ("report", "he"),
    "stop": ("stop", ""),
    "leave": ("stop", "en"),
    "unsubscribe": ("stop", "en"),
    "leiratkozas": ("stop", "hu"),
    "kilepes": ("stop", "hu"),
    "הפסק": ("stop", "he"),
    "עצור": ("stop", "he"),
    "help": ("help", "en"),
    "segitseg": ("help", "hu"),
    "sugo": ("help", "hu"),
    "עזרה": ("help", "he"),
    "when": ("when", "en"),
    "mikor": ("when", "hu"),
    "מתי": ("when", "he"),
}
_LONGEST_FIRST = sorted(KEYWORDS, key=len, reverse=True)
_HEBREW = re.compile(r"[\u0590-\u05ff]")


def _fold(text: str) -> str:
    """Lower case, no accents ("Állapot" -> "allapot"), Hebrew left as it is."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@dataclass(frozen=True)
class Intent:
    kind: str  # status, follow, report, stop, help, when, pick, empty
    argument: str = ""
    language: str = ""  # the keyword's language, "" if it has none


def parse(text: str) -> Intent:
    """What a message asks for: its keyword (in any of our languages) and the rest."""
    cleaned = current.clean_query((text or "")[:MAX_TEXT])
    cleaned = cleaned.strip(" ?!.,;:")
    if not any(ch.isalnum() for ch in cleaned):
        return Intent("empty")
    folded = _fold(cleaned)
    for keyword in _LONGEST_FIRST:
        if folded == keyword or folded.startswith(keyword + " "):
            kind, language = KEYWORDS[keyword]
            argument = cleaned[len(keyword) :].strip(" ?!.,;:") if len(folded) == len(cleaned) else ""
            if len(folded) != len(cleaned):  # folding changed the length: cut by words instead
                argument = " ".join(cleaned.split()[len(keyword.split()) :])
            return Intent(kind, argument, language)
    if cleaned.isdigit() and len(cleaned) == 1:
        return Intent("pick", cleaned)
    return Intent("status", cleaned)


def language_of(intent: Intent, text: str, hint: str, conversation: Conversation | None) -> str:
    """The keyword's language, else Hebrew script, else the platform's hint, else what we spoke last."""
    if intent.language in LANGUAGE_CODES:
        return intent.language
    if _HEBREW.search(text or "") and "he" in LANGUAGE_CODES:
        return "he"
    hint = (hint or "").split("-")[0].lower()
    if hint in LANGUAGE_CODES:
        return hint
    if conversation is not None and conversation.language in LANGUAGE_CODES:
        return conversation.language
    return settings.LANGUAGE_CODE


# Counters and rate limits ---------------------------------------------------------------------------


def count(channel: str, name: str) -> None:
    """Add one to a counter (a refused signature leaves this and nothing else)."""
    if ChatCounter.objects.filter(channel=channel, name=name).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            ChatCounter.objects.create(channel=channel, name=name, count=1)
    except IntegrityError:
        ChatCounter.objects.filter(channel=channel, name=name).update(count=F("count") + 1)


def sender_hash(channel: str, sender: str, salt: str = "") -> str:
    return salted_hmac("outages.conversations.sender", f"{salt}|{channel}|{sender}", algorithm="sha256").hexdigest()[
        :32
    ]


def check_rate(channel: str, sender: str, now: datetime) -> str | None:
    """None if the sender may go on; else the "slow down" reply the first time over the limit, then ""."""
    minute = int(now.timestamp()) // 60
    hits = limits.hit(f"chat:rate:{sender_hash(channel, sender)}:{minute}", 61)
    limit = settings.CHAT_RATE_PER_MINUTE
    if hits <= limit:
        return None
    return check_rate_text() if hits == limit + 1 else ""


def check_rate_text() -> str:
    return _("You are sending messages very quickly. Please wait a minute, then try again.")


def slow_down(channel: str, sender: str, text: str, language_hint: str, now: datetime) -> None:
    """The one "slow down" a sender over the limit gets, logged and sent from the worker
    (the webhook answers 429 at once, so it cannot carry it)."""
    sender = (sender or "")[:200]
    conversation = Conversation.objects.filter(channel=channel, sender=sender).first()
    language = language_of(parse(text), text, language_hint, conversation)
    with translation.override(language):
        reply = check_rate_text()
    with transaction.atomic():
        if conversation is None:
            conversation, _created = Conversation.objects.get_or_create(
                channel=channel, sender=sender, defaults={"language": language, "created_at": now, "last_seen_at": now}
            )
        row = ConversationMessage.objects.create(
            conversation=conversation,
            channel=channel,
            direction=ConversationMessage.Direction.OUT,
            outcome="slow down",
            reply=reply,
            created_at=now,
        )
        events.reply_queued(row.pk)


# The answer -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    reply: str  # "" when nothing is to be said (a replay, a repeated STOP)
    outcome: str
    language: str
    conversation: Conversation | None = None
    message_id: int | None = None  # the inbound row, which holds the reply
    replay: bool = False
    rate_limited: bool = False
    extra: dict = field(default_factory=dict)


def area_sentence(area: ServiceArea, *, now: datetime | None = None, incidents=None) -> str:
    """The voice line's sentence about an area, as written (the same words as SMS and email)."""
    if incidents is None:
        incidents = current.area_incidents_now([area.pk]).get(area.pk, [])
    return announcements.announce(area, incidents, now=now).text(written=True)


# In a storm thousands ask about the same few postcodes: the areas a query finds are
# kept this long (an area renamed or given new postcodes answers so within it).
AREAS_SECONDS = 10


def _examples() -> tuple[str, str]:
    """A postcode and an area name to show in the help (kept AREAS_SECONDS, like the areas a query finds)."""
    cached = cache.get("chat:examples")
    if cached is None:
        area = ServiceArea.objects.exclude(postcodes="").order_by("name").first() or ServiceArea.objects.first()
        postcode = area.postcode_list[0] if area is not None and area.postcode_list else "1051"
        cached = (postcode, area.name if area is not None else "Budapest")
        cache.set("chat:examples", cached, AREAS_SECONDS)
    return cached


def help_text() -> str:
    postcode, name = _examples()
    return _(
        'Send your postcode or town to hear about problems there, for example "%(postcode)s" or "status %(name)s". '
        "Reply FOLLOW for updates, OUT to report a problem, STOP to end."
    ) % {"postcode": postcode, "name": name}


def find_areas(query: str) -> list[ServiceArea]:
    """Areas for a postcode (exactly) or a name (as people type it), best first."""
    query = current.clean_query(query)
    if not query:
        return []
    key = "chat:areas:" + salted_hmac("outages.conversations.areas", _fold(query), algorithm="sha256").hexdigest()
    found = cache.get(key)
    if found is None:
        found = current.areas_for_postcode(query) or [row.area for row in current.search_areas(query)]
        cache.set(key, found, AREAS_SECONDS)
    return found


def _list_text(areas: list[ServiceArea]) -> str:
    lines = [f"{number}. {announcements.spoken(area.name)}" for number, area in enumerate(areas, start=1)]
    return " ".join([_("Several areas match. Reply with a number:"), *lines])


# The sentence about an area is the same for everyone who asks in the same
# moment: kept this long, and never past a new update (its id is in the key).
ANSWER_SECONDS = 10


def _area_answer(area: ServiceArea, now: datetime) -> tuple[str, bool]:
    """(the sentence, whether anything is wrong), shared across a storm of customers asking."""
    latest = IncidentUpdate.objects.aggregate(latest=Max("id"))["latest"] or 0
    key = f"chat:answer:{area.pk}:{translation.get_language()}:{latest}:{int(now.timestamp()) // 60}"
    cached = cache.get(key)
    if cached is None:
        incidents = current.area_incidents_now([area.pk]).get(area.pk, [])
        cached = (area_sentence(area, now=now, incidents=incidents), bool(incidents))
        cache.set(key, cached, ANSWER_SECONDS)
    return cached


def _status_reply(conversation: Conversation, area: ServiceArea, now: datetime) -> str:
    sentence, affected = _area_answer(area, now)
    if affected and not (conversation.subscriber_id and conversation.subscriber.areas.filter(pk=area.pk).exists()):
        return f"{sentence} {_('Reply FOLLOW to get updates here until it is fixed.')}"
    return sentence


def _resolve_area(conversation: Conversation, argument: str) -> tuple[ServiceArea | None, str]:
    """(area, reply if there is no single area)."""
    if not argument:
        if conversation.last_area_id:
            return conversation.last_area, ""
        return None, help_text()
    areas = find_areas(argument)
    if not areas:
        # Not echoed back: the log keeps our words, never the customer's.
        return None, f"{_('We found no area with that name or postcode.')} {help_text()}"
    if len(areas) > 1:
        areas = areas[:LIST_LIMIT]
        conversation.choices = [area.pk for area in areas]
        return None, _list_text(areas)
    return areas[0], ""


@transaction.atomic
def _follow(conversation: Conversation, area: ServiceArea, now: datetime) -> str:
    subscriber = conversation.subscriber
    if subscriber is None:
        subscriber, _created = Subscriber.objects.get_or_create(
            channel=Channel.CHAT,
            address=f"{conversation.channel}:{conversation.sender}",
            defaults={"language": conversation.language, "confirmed_at": now},
        )
        conversation.subscriber = subscriber
    subscriber.language = conversation.language
    subscriber.confirmed_at = subscriber.confirmed_at or now
    subscriber.paused = False
    subscriber.save(update_fields=["language", "confirmed_at", "paused", "updated_at"])
    subscriber.areas.add(area)
    return _(
        "You are following %(area)s. We will write here when anything changes, until it is fixed. Reply STOP to end."
    ) % {"area": announcements.spoken(area.name)}


def _report_service(area: ServiceArea) -> Service | None:
    active = Incident.objects.active().filter(incident_areas__area=area).order_by("-started_at", "-id").first()
    if active is not None:
        service = active.services.order_by("id").first()
        if service is not None:
            return service
    return Service.objects.order_by("id").first()


def _report(conversation: Conversation, area: ServiceArea, now: datetime) -> tuple[str, str]:
    service = _report_service(area)
    if service is None:
        return help_text(), "no service"
    day = now.astimezone(UTC).date().isoformat()
    hashed = sender_hash(conversation.channel, conversation.sender, day)
    source = problem_reports.Source(client=hashed, browser=hashed)
    try:
        problem_reports.check_rate_limits(source, area, now)
        outcome = problem_reports.submit(area=area, service=service, problem=Problem.NO_SERVICE, source=source, now=now)
    except RateLimited as error:
        return error.message, "report limited"
    except ValidationError as error:
        return " ".join(error.messages), "report refused"
    place = announcements.spoken(area.name)
    if outcome.incident is not None or covering_incident(area, service) is not None:
        known = _("Thank you. We know about the problem in %(area)s.") % {"area": place}
        return f"{known} {area_sentence(area, now=now)}", "report known"
    return _("Thank you. We have passed your report for %(area)s to our team.") % {"area": place}, "report stored"


def _stop(conversation: Conversation) -> tuple[str, str]:
    already = conversation.stopped and conversation.subscriber_id is None
    if conversation.subscriber_id:
        conversation.subscriber.delete()
        conversation.subscriber = None
    conversation.stopped = True
    conversation.choices = []
    if already:
        return "", "stop repeated"  # confirmed once: a second STOP is not answered again
    return _("You will get no more messages from us. Write to us any time to ask again."), "stopped"


def _act(conversation: Conversation, intent: Intent, now: datetime) -> tuple[str, str]:
    if intent.kind == "stop":
        return _stop(conversation)
    conversation.stopped = False
    if intent.kind in ("empty", "help"):
        return help_text(), "help"
    if intent.kind == "pick":
        number = int(intent.argument)
        if conversation.choices and 1 <= number <= len(conversation.choices):
            area = ServiceArea.objects.filter(pk=conversation.choices[number - 1]).first()
            if area is not None:
                conversation.last_area, conversation.choices = area, []
                return _status_reply(conversation, area, now), "status"
        return help_text(), "help"
    argument = "" if intent.kind == "when" else intent.argument
    conversation.choices = []
    area, reply = _resolve_area(conversation, argument)
    if area is None:
        return reply, "list" if conversation.choices else "unknown area"
    conversation.last_area = area
    if intent.kind == "follow":
        return _follow(conversation, area, now), "followed"
    if intent.kind == "report":
        return _report(conversation, area, now)
    return _status_reply(conversation, area, now), "status"


# What these intents write besides the log (a report, a follow, the end of one) must happen once:
# their message id is claimed before acting. The others only read, so claiming and recording
# go in one transaction after the answer, and a replay's insert fails there.
WRITING_INTENTS = frozenset({"follow", "report", "stop"})
CONVERSATION_STATE = ("language", "last_seen_at", "last_area", "choices", "stopped")


class _Replay(Exception):
    pass


def _record(conversation: Conversation, inbound: ConversationMessage, send_later: bool) -> Conversation:
    """Save the conversation and the inbound row (with our answer) together.

    A sender's first two messages may race to create the conversation: the
    loser takes the winner's row and records onto it."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                conversation.save()
                inbound.conversation = conversation
                inbound.save()
                if send_later and inbound.reply:
                    events.reply_queued(inbound.pk)
            return conversation
        except IntegrityError:
            duplicate = inbound.pk is None and inbound.provider_message_id
            if (
                duplicate
                and ConversationMessage.objects.filter(
                    channel=inbound.channel, provider_message_id=inbound.provider_message_id
                ).exists()
            ):
                raise _Replay from None
            existing = Conversation.objects.filter(channel=conversation.channel, sender=conversation.sender).first()
            if existing is None or conversation.pk is not None:
                raise
            for name in CONVERSATION_STATE:
                setattr(existing, name, getattr(conversation, name))
            if conversation.subscriber_id:
                existing.subscriber = conversation.subscriber
            conversation = existing
    raise IntegrityError("conversation could not be recorded")


def handle(
    *,
    channel: str,
    sender: str,
    text: str,
    message_id: str = "",
    language_hint: str = "",
    now: datetime | None = None,
    send_later: bool = False,
) -> Answer:
    """Answer one inbound message (verified by its channel already): the reply to send, in the customer's language.

    send_later: the provider cannot carry the reply in the webhook's response,
    so on commit the worker sends it (outages.notify.chat.replies).

    Short transactions, never one around the area search (SQLite takes its
    write lock at BEGIN, so that would queue every other customer behind
    it): a status question costs one read of the conversation and one
    transaction recording it. A failure gives the message id back, so the
    provider's retry is answered."""
    now = now or timezone.now()
    sender = (sender or "")[:200]
    intent = parse(text)
    conversation = Conversation.objects.filter(channel=channel, sender=sender).select_related("last_area").first()
    language = language_of(intent, text, language_hint, conversation)
    existed = conversation is not None
    if conversation is None:
        conversation = Conversation(channel=channel, sender=sender, language=language, created_at=now)
    inbound = ConversationMessage(
        channel=channel,
        direction=ConversationMessage.Direction.IN,
        provider_message_id=message_id[:200] or None,
        intent=intent.kind,
        created_at=now,
    )

    def replay() -> Answer:
        count(channel, "replays")
        known = conversation if existed else None
        return Answer(reply="", outcome="replay", language=language, conversation=known, replay=True)

    if intent.kind in WRITING_INTENTS:
        try:
            with transaction.atomic():
                inbound.save()
        except IntegrityError:
            return replay()
    try:
        conversation.language = language
        conversation.last_seen_at = now
        with translation.override(language):
            inbound.reply, inbound.outcome = _act(conversation, intent, now)
        conversation = _record(conversation, inbound, send_later)
    except _Replay:
        return replay()
    except Exception:
        if inbound.pk is not None:
            ConversationMessage.objects.filter(pk=inbound.pk).delete()
        raise
    return Answer(
        reply=inbound.reply,
        outcome=inbound.outcome,
        language=language,
        conversation=conversation,
        message_id=inbound.pk,
    )


def log_outbound(conversation: Conversation | None, channel: str, outcome: str, text: str = "") -> None:
    """A message we sent on our own (a follow's update, a "slow down"): channel and outcome."""
    ConversationMessage.objects.create(
        conversation=conversation,
        channel=channel,
        direction=ConversationMessage.Direction.OUT,
        outcome=outcome[:40],
        reply=text,
    )


# Personal data ---------------------------------------------------------------------------------------


def prune_conversations(now: datetime) -> int:
    """Delete sender ids CHAT_KEEP_DAYS after the last message, unless a follow is active.

    The message log keeps its rows (channel, intent, outcome) without the person."""
    horizon = now - timedelta(days=settings.CHAT_KEEP_DAYS)
    stale = Conversation.objects.filter(last_seen_at__lt=horizon).filter(subscriber__isnull=True)
    deleted, _detail = stale.delete()
    return deleted


# The console -----------------------------------------------------------------------------------------


@transaction.atomic
def save_channel_config(config) -> None:
    """A provider's account as ops set it in the console (secrets the form left blank are kept)."""
    config.full_clean()
    config.save()
