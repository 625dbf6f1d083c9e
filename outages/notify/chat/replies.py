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

from django.tasks import task

from ...models import ConversationMessage
from ...services import conversations
from ..outcomes import try_sending
from .providers import PROVIDERS


@task()
def send_reply(message_id: int, attempt: int = 1) -> str:
    row = ConversationMessage.objects.select_related("conversation").filter(pk=message_id).first()
    if row is None or row.conversation is None or not row.reply or row.channel not in PROVIDERS:
        return "gone"  # pruned, or nothing to say
    conversation = row.conversation
    outcome, error = try_sending(
        lambda: PROVIDERS[row.channel].send(conversation.sender, row.reply),
        task=send_reply,
        args=(message_id,),
        attempt=attempt,
    )
    logged = {"sent": "reply sent", "retry": "reply retrying", "failed": f"reply failed: {error}"}
    conversations.log_outbound(conversation, row.channel, logged[outcome])
    return outcome


def enqueue_reply(message_id: int) -> None:
    send_reply.enqueue(message_id)
