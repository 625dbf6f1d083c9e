"""Atom and RSS: one entry per incident (or maintenance window) with its updates,
for the whole site (/history.atom, /history.rss) and per area."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..models import Incident, ServiceArea
from ..queries import current
from ..site import site_name
from .http import json_error, public_get

FEED_MAX_AGE = 60


def _when(value, tz_name: str | None = None) -> str:
    """A time in the areas' zone (the site's if they differ), with the zone named."""
    local = timezone.localtime(value, zoneinfo.ZoneInfo(tz_name or settings.TIME_ZONE))
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} {local.strftime('%Z')}"


class HistoryFeed(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request, area: ServiceArea | None = None):
        return area

    def title(self, area):
        if area is None:
            return _("%(site)s: incident history") % {"site": site_name()}
        return _("%(site)s: incident history for %(area)s") % {"site": site_name(), "area": area.localized_name}

    def link(self, area):
        return reverse("area", args=[area.slug]) if area else reverse("home")

    def description(self, area):
        if area is None:
            return _("Outages and planned maintenance, with every update.")
        return _("Outages and planned maintenance in %(area)s, with every update.") % {"area": area.localized_name}

    def feed_url(self, area):
        suffix = "atom" if self.feed_type is Atom1Feed else "rss"
        return reverse(f"area-history-{suffix}", args=[area.slug]) if area else reverse(f"history-{suffix}")

    def author_name(self):
        return site_name()

    def items(self, area):
        return current.area_incident_history(area)

    def item_title(self, incident: Incident) -> str:
        return f"{incident.localized_title} ({incident.get_status_display()})"

    def item_description(self, incident: Incident) -> str:
        """HTML built from escaped operator text: never trusted as markup."""
        areas = list(incident.areas.all())
        zone = areas[0].time_zone if len({area.time_zone for area in areas}) == 1 else None
        facts = [
            (_("Status"), incident.get_status_display()),
            (_("Impact"), incident.get_impact_display()),
            (_("Areas"), ", ".join(area.localized_name for area in areas)),
        ]
        if incident.cause_text:
            facts.append((_("Cause"), incident.cause_text))
        if incident.eta and incident.is_active:
            facts.append((_("Estimated restoration"), _when(incident.eta, zone)))
        if incident.scheduled_for and incident.scheduled_until:
            facts.append(
                (_("Scheduled"), f"{_when(incident.scheduled_for, zone)} – {_when(incident.scheduled_until, zone)}")
            )
        updates = format_html_join(
            "",
            "<li><strong>{}</strong> · {}{}<br>{}</li>",
            (
                (
                    update.get_status_display(),
                    _when(update.created_at, zone),
                    format_html(" · {} {}", _("ETA"), _when(update.eta, zone)) if update.eta else "",
                    update.localized_message,
                )
                for update in incident.updates.all()
            ),
        )
        return format_html(
            # The separator is markup: a plain "<br>" would be escaped (readers showed "&lt;br&gt;").
            "<p>{}</p><ol>{}</ol>",
            format_html_join(mark_safe("<br>"), "{}: {}", facts),
            updates,
        )

    def item_link(self, incident: Incident) -> str:
        return incident.get_absolute_url()

    def item_pubdate(self, incident: Incident):
        return incident.started_at

    def item_updateddate(self, incident: Incident):
        return incident.updated_at

    def item_categories(self, incident: Incident):
        return [area.localized_name for area in incident.areas.all()]


class HistoryRss(HistoryFeed):
    def item_title(self, incident: Incident) -> str:
        # RSS readers may read a title as HTML: escape operator text once more
        # (Django's default). Atom titles are text, escaped once by the writer.
        return escape(super().item_title(incident))


class HistoryAtom(HistoryFeed):
    feed_type = Atom1Feed
    subtitle = HistoryFeed.description


_rss = HistoryRss()
_atom = HistoryAtom()


def _area(slug: str) -> ServiceArea | None:
    return ServiceArea.objects.select_related("region").filter(slug=slug).first()


@public_get(cors=False, max_age=FEED_MAX_AGE)
def history_rss(request: HttpRequest) -> HttpResponse:
    return _rss(request)


@public_get(cors=False, max_age=FEED_MAX_AGE)
def history_atom(request: HttpRequest) -> HttpResponse:
    return _atom(request)


@public_get(cors=False, max_age=FEED_MAX_AGE)
def area_history_rss(request: HttpRequest, slug: str) -> HttpResponse:
    area = _area(slug)
    return _rss(request, area=area) if area else json_error(404, _("No area with this slug."))


@public_get(cors=False, max_age=FEED_MAX_AGE)
def area_history_atom(request: HttpRequest, slug: str) -> HttpResponse:
    area = _area(slug)
    return _atom(request, area=area) if area else json_error(404, _("No area with this slug."))
