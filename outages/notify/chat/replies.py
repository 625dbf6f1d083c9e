"""Answers that cannot ride in the webhook's response (WhatsApp, Viber,
Messenger, the SMS gateway) and every "slow down": the webhook acknowledges at
once and this task sends our words from the worker, so a slow provider API
never holds the provider's webhook call. 429, 5xx or no answer are retried
with the delivery engine's backoff, up to NOTIFY_MAX_ATTEMPTS, like a
confirmation message; an invalid recipient fails for good. The outcome goes
into the conversation's log.

The task carries only the id of the conversation message that holds our
words, never the sender or the text, so nothing personal waits in the queue."""

from __future__ import annotations

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from ...models import ConversationMessage
from ...services import conversations
from ..outcomes import PermanentFailure, TemporaryFailure, backoff
from .providers import PROVIDERS


@task()
def send_reply(message_id: int, attempt: int = 1) -> str:
    row = ConversationMessage.objects.select_related("conversation").filter(pk=message_id).first()
    if row is None or row.conversation is None or not row.reply or row.channel not in PROVIDERS:
        return "gone"  # pruned, or nothing to say
    conversation = row.conversation
    try:
        PROVIDERS[row.channel].send(conversation.sender, row.reply)
    except PermanentFailure as error:
        conversations.log_outbound(conversation, row.channel, f"reply failed: {error}")
        return "failed"
    except TemporaryFailure as error:
        if attempt >= settings.NOTIFY_MAX_ATTEMPTS:
            conversations.log_outbound(conversation, row.channel, f"reply failed: {error}")
            return "failed"
        conversations.log_outbound(conversation, row.channel, "reply retrying")
        send_reply.using(run_after=timezone.now() + backoff(attempt)).enqueue(message_id, attempt + 1)
        return "retry"
    conversations.log_outbound(conversation, row.channel, "reply sent")
    return "sent"


def enqueue_reply(message_id: int) -> None:
    send_reply.enqueue(message_id)
