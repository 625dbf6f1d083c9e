"""What the console says after an update is posted: who sees it now, who is being told.

"Update posted. Showing now on 312 open pages; 1,204 subscribers are being
told (email 900, SMS 250, webhooks 54); next update promised by 15:00."

Open pages: the live census (outages/live/census.py), the clients every server
process has connected to the groups the change reaches (the status page and
widget, the incident's area pages, the incident page). Subscribers: the
delivery engine's deliveries for the update's event once it has planned them,
until then the same query it plans them from (notify.engine.recipients).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..live import census as live_census
from ..live import groups as live
from ..models import ACTIVE_STATUSES, Channel, Delivery, Incident, IncidentUpdate, NotificationEvent
from ..notify import engine as notifications
from . import quick_eta


def groups_for(incident: Incident) -> list[str]:
    """The live groups a change of this incident is pushed to."""
    slugs = incident.areas.values_list("slug", flat=True)
    return [live.STATUS_GROUP, live.incident_group(incident.pk), *(live.area_group(slug) for slug in slugs)]


def audience(update: IncidentUpdate) -> tuple[NotificationEvent | None, Counter]:
    """The update's notification event and its subscribers by channel."""
    event = NotificationEvent.objects.filter(update=update).first()
    if event is None:
        return None, Counter()
    if event.planned_at:
        rows = Delivery.objects.filter(event=event).values_list("channel").annotate(n=Count("id"))
    else:
        rows = notifications.recipients(event.area_ids).values_list("channel").annotate(n=Count("id", distinct=True))
    return event, Counter(dict(rows))


@dataclass
class Summary:
    open_pages: int
    by_channel: Counter = field(default_factory=Counter)
    event_id: int | None = None
    next_update_at: object = None
    about_promise: bool = True

    @property
    def subscribers(self) -> int:
        return sum(self.by_channel.values())

    def text(self) -> str:
        n = lambda value: number_format(value, force_grouping=True)  # noqa: E731
        parts = [
            ngettext(
                "Update posted. Showing now on %(pages)s open page",
                "Update posted. Showing now on %(pages)s open pages",
                self.open_pages,
            )
            % {"pages": n(self.open_pages)}
        ]
        if self.subscribers:
            parts.append(
                ngettext(
                    "%(count)s subscriber is being told (email %(email)s, SMS %(sms)s, webhooks %(webhooks)s)",
                    "%(count)s subscribers are being told (email %(email)s, SMS %(sms)s, webhooks %(webhooks)s)",
                    self.subscribers,
                )
                % {
                    "count": n(self.subscribers),
                    "email": n(self.by_channel[Channel.EMAIL]),
                    "sms": n(self.by_channel[Channel.SMS]),
                    "webhooks": n(self.by_channel[Channel.WEBHOOK]),
                }
            )
        else:
            parts.append(_("no subscribers to tell"))
        if not self.about_promise:
            pass
        elif self.next_update_at:
            parts.append(_("next update promised by %(time)s") % {"time": quick_eta.clock(self.next_update_at)})
        else:
            parts.append(_("no next update promised"))
        return "; ".join(parts) + "."

    def html(self) -> SafeString:
        if self.event_id is None:
            return format_html("{}", self.text())
        url = reverse("admin:outages_delivery_changelist") + f"?event__id__exact={self.event_id}"
        return format_html('{} <a href="{}">{}</a>', self.text(), url, _("Delivery log"))


def summarise(incident: Incident, update: IncidentUpdate) -> Summary:
    event, by_channel = audience(update)
    incident.refresh_from_db(fields=["status", "next_update_at"])
    promise = incident.next_update_at if incident.status in ACTIVE_STATUSES else None
    return Summary(
        open_pages=live_census.open_pages(groups_for(incident)),
        by_channel=by_channel,
        event_id=event.pk if event else None,
        next_update_at=promise,
    )
