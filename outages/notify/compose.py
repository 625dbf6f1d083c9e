"""What a subscriber is told: one event, in one language, for one set of areas.

The sentence is the page's and the voice line's (outages.queries.announcements),
so every channel says the same words; the Composer renders each
(language, areas) combination once per task run, not once per subscriber.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import i18n
from ..models import (
    CLOSED_STATUSES,
    AreaStatus,
    Incident,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    NotificationEvent,
    ServiceArea,
    Subscriber,
    area_status_for,
)
from ..queries import announcements, credits
from ..site import absolute, site_name

MANAGE_PLACEHOLDER = "__MANAGE_URL__"
UNSUBSCRIBE_PLACEHOLDER = "__UNSUBSCRIBE_URL__"


def local_time_text(value: datetime | None, tz) -> str:
    """ "16:30 CET", or with the date when not today, in the active language."""
    if value is None:
        return ""
    return announcements.When(
        local=timezone.localtime(value, tz), today=timezone.localtime(timezone.now(), tz)
    ).written()


def customer_sentence(incident: Incident, status: str, eta: datetime | None, area_names: str, tz) -> str:
    """What is wrong and when it will be fixed, as of this update, in the active
    language: the voice line's words (outages.announcements), plus the sentences
    only a message needs (announced and finished maintenance, resolution)."""
    params = {"area": i18n.isolate(area_names)}
    if incident.kind == Kind.MAINTENANCE and status == MaintenanceStatus.SCHEDULED:
        params["start"] = i18n.isolate(local_time_text(incident.scheduled_for, tz))
        params["end"] = i18n.isolate(local_time_text(incident.scheduled_until, tz))
        return _("Planned maintenance in %(area)s from %(start)s to %(end)s.") % params
    if status == MaintenanceStatus.COMPLETED:
        return _("Planned maintenance in %(area)s is complete.") % params
    if status in CLOSED_STATUSES:
        return _("The outage in %(area)s is resolved.") % params
    # The incident as it stood at this update (a later one may have moved on).
    as_posted = copy.copy(incident)
    as_posted.status, as_posted.eta = status, eta
    return announcements.announce_for(area_names, tz, [as_posted]).text(written=True)


@dataclass
class Message:
    """One event as told in one language for one set of areas."""

    kind: str
    subject: str
    sentence: str
    status: str
    status_label: str
    area_status_label: str
    title: str
    message: str
    eta: datetime | None
    eta_text: str
    url: str
    area_names: str
    credits: list[str] = field(default_factory=list)  # the credit sentences the page shows, if any


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def compose(event: NotificationEvent, areas: list[ServiceArea]) -> Message:
    """What the page says about this event, for these areas, in the active language."""
    incident, update = event.incident, event.update
    areas = sorted(areas, key=lambda area: area.localized_name) or [ServiceArea(name=_("your area"))]
    tz = areas[0].tzinfo if areas[0].time_zone else timezone.get_default_timezone()
    area_names = ", ".join(area.localized_name for area in areas)
    eta = None if update.status in CLOSED_STATUSES else update.eta
    status_label = str(dict(Incident._meta.get_field("status").choices).get(update.status, update.status))
    return Message(
        kind=event_kind(update),
        subject=_one_line(f"{status_label}: {i18n.isolate(incident.localized_title)} · {i18n.isolate(area_names)}")[
            :200
        ],
        sentence=customer_sentence(incident, update.status, eta, area_names, tz),
        status=update.status,
        status_label=status_label,
        area_status_label=str(AreaStatus(area_status_for(incident.kind, update.status, incident.impact)).label),
        title=_one_line(incident.localized_title),
        message=update.localized_message,
        eta=eta,
        eta_text=local_time_text(eta, tz),
        url=absolute(incident.get_absolute_url()),
        area_names=area_names,
        credits=_credit_sentences(incident, areas),
    )


def _credit_sentences(incident: Incident, areas: list[ServiceArea]) -> list[str]:
    """The service-credit notices of these areas, as the incident card words them."""
    wanted = {area.pk for area in areas}
    return [notice.text() for notice in credits.notices_for(incident) if wanted & {area.pk for area in notice.areas}]


def event_kind(update: IncidentUpdate) -> str:
    """incident.opened / incident.updated / incident.resolved (maintenance.* likewise)."""
    prefix = "maintenance" if update.incident.kind == Kind.MAINTENANCE else "incident"
    if update.status in CLOSED_STATUSES:
        return f"{prefix}.resolved"
    first = update.incident.updates.order_by("created_at", "id").values_list("pk", flat=True).first()
    return f"{prefix}.opened" if first == update.pk else f"{prefix}.updated"


class Composer:
    """Renders each (language, areas) combination once per task run, not once per subscriber."""

    def __init__(self, event: NotificationEvent):
        self.event = event
        self.areas = {area.pk: area for area in ServiceArea.objects.filter(pk__in=event.area_ids)}
        self.cache: dict[tuple, dict] = {}

    def for_subscriber(self, subscriber: Subscriber, area_ids: set[int]) -> dict:
        affected = sorted(pk for pk in area_ids if pk in self.areas)
        key = (subscriber.language, tuple(affected))
        if key not in self.cache:
            with translation.override(subscriber.language):
                notice = compose(self.event, [self.areas[pk] for pk in affected])
                context = {
                    "notice": notice,
                    "site_name": site_name(),
                    "manage_url": MANAGE_PLACEHOLDER,
                    "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
                }
                self.cache[key] = {
                    "notice": notice,
                    "text": render_to_string("emails/notice.txt", context),
                    "html": render_to_string("emails/notice.html", context),
                    "sms": sms_text(notice),
                    "payload": webhook_payload(self.event, notice, [self.areas[pk] for pk in affected]),
                    "push": push_payload(self.event, notice, [self.areas[pk] for pk in affected]),
                    "push_kind": self.event.incident.kind,
                    "push_topic": f"incident-{self.event.incident_id}",
                    "area_ids": affected,
                }
        return self.cache[key]


def sms_text(notice: Message) -> str:
    """In the subscriber's language (active): a right-to-left one isolates the link."""
    return " ".join([notice.sentence, *notice.credits, i18n.isolate(notice.url)])


def push_text(notice: Message) -> str:
    """A browser notification's text: the SMS's sentence and credits (a click opens the page)."""
    return " ".join([notice.sentence, *notice.credits])


def push_payload(event: NotificationEvent, notice: Message, areas: list[ServiceArea]) -> dict:
    """What the service worker shows: the area's page opens on a click (the
    incident's page when several of the browser's areas are affected)."""
    url = absolute(reverse("area", args=[areas[0].slug])) if len(areas) == 1 else notice.url
    return {
        "title": notice.subject,
        "body": push_text(notice),
        "url": url,
        "tag": f"incident-{event.incident_id}",
        "lang": translation.get_language(),
        "dir": "rtl" if translation.get_language_bidi() else "ltr",
    }


def webhook_payload(event: NotificationEvent, notice: Message, areas: list[ServiceArea]) -> dict:
    incident, update = event.incident, event.update
    return {
        "type": notice.kind,
        "timestamp": update.created_at.isoformat(),
        "data": {
            "incident": {
                "id": incident.pk,
                "kind": incident.kind,
                "title": incident.localized_title,
                "status": update.status,
                "impact": incident.impact,
                "eta": notice.eta.isoformat() if notice.eta else None,
                "url": notice.url,
            },
            "update": {
                "id": update.pk,
                "message": update.localized_message,
                "created_at": update.created_at.isoformat(),
            },
            "areas": [{"slug": area.slug, "name": area.localized_name} for area in areas],
            "text": notice.sentence,
            "credits": notice.credits,
            "language": translation.get_language(),
        },
    }
