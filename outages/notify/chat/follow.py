"""The delivery engine's sender for channel "chat": a follower's updates go
back into the conversation they came from, on its provider.

A follow lasts until it is fixed: once the "resolved" message is sent, the
areas with nothing else active are dropped, and a follow with no areas left
ends (the Subscriber row goes, so nothing more is sent). Like outcomes, this
writes its own bookkeeping rows directly: the conversation log and the end of
the follow are part of delivering, not a customer's write."""

from __future__ import annotations

from ...models import ChatChannel, ConversationMessage, Delivery, Subscriber
from ...queries import current
from .. import outcomes
from ..outcomes import PermanentFailure, TemporaryFailure
from .providers import PROVIDERS


def _end_fixed_follow(subscriber: Subscriber, area_ids) -> None:
    still_active = {pk for pk, incidents in current.area_incidents_now(area_ids).items() if incidents}
    done = [pk for pk in area_ids if pk not in still_active]
    if done:
        subscriber.areas.remove(*done)
    if not subscriber.areas.exists():
        Subscriber.objects.filter(pk=subscriber.pk).delete()


def send_chats(items: list[tuple[Delivery, dict]], on_progress) -> None:
    for delivery, rendered in items:
        subscriber = delivery.subscriber
        channel, _sep, sender = subscriber.address.partition(":")
        conversation = getattr(subscriber, "conversation", None)
        provider = PROVIDERS.get(channel)
        text = rendered["sms"]
        try:
            if provider is None:
                raise PermanentFailure(f"unknown chat channel {channel!r}")
            provider.send(sender, text)
        except PermanentFailure as error:
            outcomes.failed(delivery, str(error), permanent=True)
            outcome = "failed"
        except TemporaryFailure as error:
            outcomes.failed(delivery, str(error), permanent=False)
            outcome = "retrying"
        else:
            outcomes.sent(delivery)
            outcome = "update sent"
        if channel in ChatChannel.values:
            ConversationMessage.objects.create(
                conversation=conversation,
                channel=channel,
                direction=ConversationMessage.Direction.OUT,
                outcome=outcome,
                reply=text if outcome == "update sent" else "",
            )
        if outcome == "update sent" and rendered["notice"].kind.endswith(".resolved"):
            _end_fixed_follow(subscriber, list(rendered["area_ids"]))
        on_progress()
