"""Planned maintenance as calendars (RFC 5545, the icalendar package), for the
whole site (/maintenance.ics) and per area (/areas/<slug>/maintenance.ics).

- One event per window, with a stable UID (the window's id and the site's
  host), so a calendar that subscribed updates the event instead of adding a
  second one.
- SEQUENCE is the window's version: every write to it (an edit of the window,
  an update posted, its start and end) bumps that counter, so it only ever
  grows, and a moved window always comes with a higher SEQUENCE.
- A window completed before it began is STATUS:CANCELLED.
- Times are UTC; the area's time zone is named (X-WR-TIMEZONE, and in the
  description's sentence, which gives the local times with the zone).
- The description is in ?lang=, else the first language of Accept-Language
  that we offer, and ends with the link to the window's page.
- Cached like the feeds: rendered once per change, ETag and Last-Modified
  with 304 answers.
"""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import i18n
from ..models import Incident, MaintenanceStatus, ServiceArea
from ..notify.compose import customer_sentence
from ..queries import maintenance_calendar
from ..site import absolute, site_name
from .http import json_error, public_get

CALENDAR_MAX_AGE = 60
CONTENT_TYPE = "text/calendar; charset=utf-8"
# How often a subscribed calendar should look again (RFC 7986, and Outlook's name for it).
REFRESH = "PT1H"


def _language(request: HttpRequest) -> str:
    """?lang= if given (checked by the view), else the browser's or calendar app's language."""
    if "lang" in request.GET:
        return request.GET["lang"]
    return i18n.accepted_language(request.headers.get("Accept-Language", ""))


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def uid(window: Incident) -> str:
    return f"maintenance-{window.pk}@{_host()}"


def _description(window: Incident, areas: list[ServiceArea], cancelled: bool) -> str:
    tz = areas[0].tzinfo if areas else timezone.get_default_timezone()
    names = ", ".join(area.localized_name for area in areas) or _("your area")
    lines = []
    if cancelled:
        lines.append(_("This planned maintenance was cancelled."))
    lines.append(customer_sentence(window, MaintenanceStatus.SCHEDULED, None, names, tz))
    services = [service.localized_name for service in window.services.all()]
    if services:
        lines.append(_("Services: %(services)s") % {"services": ", ".join(services)})
    if message := window.latest_localized_message:
        lines.append(message)
    lines.append(_("Details and updates: %(url)s") % {"url": absolute(window.get_absolute_url())})
    return "\n\n".join(lines)


def event(window: Incident) -> icalendar.Event:
    areas = list(window.areas.all())
    cancelled = maintenance_calendar.is_cancelled(window)
    item = icalendar.Event()
    item.add("uid", uid(window))
    item.add("sequence", window.version)
    item.add("dtstamp", window.updated_at.astimezone(UTC))
    item.add("created", window.created_at.astimezone(UTC))
    item.add("last-modified", window.updated_at.astimezone(UTC))
    item.add("dtstart", window.scheduled_for.astimezone(UTC))
    item.add("dtend", window.scheduled_until.astimezone(UTC))
    item.add("summary", _("Planned maintenance: %(title)s") % {"title": window.localized_title})
    item.add("description", _description(window, areas, cancelled))
    item.add("location", ", ".join(area.localized_name for area in areas))
    item.add("url", absolute(window.get_absolute_url()))
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Planned work does not make anyone busy.
    item.add("transp", "TRANSPARENT")
    item.add("categories", [_("Planned maintenance")])
    return item


def calendar(windows: list[Incident], *, name: str, zone: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//Planned maintenance//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", zone)
    cal.add("refresh-interval", icalendar.vDuration.from_ical(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    for window in windows:
        cal.add_component(event(window))
    return cal.to_ical()


def _answer(windows: list[Incident], name: str, zone: str, lang: str) -> HttpResponse:
    response = HttpResponse(calendar(windows, name=name, zone=zone), content_type=CONTENT_TYPE)
    response["Content-Language"] = lang
    if windows:
        response.last_modified = max(window.updated_at for window in windows)
    return response


def _bad_language() -> HttpResponse:
    codes = ", ".join(i18n.languages())
    return json_error(400, _("Unknown language; use one of: %(codes)s.") % {"codes": codes}, parameters=["lang"])


@public_get(params=["lang"], cors=False, max_age=CALENDAR_MAX_AGE, language=_language)
def maintenance_ics(request: HttpRequest) -> HttpResponse:
    lang = _language(request)
    if lang not in i18n.languages():
        return _bad_language()
    with translation.override(lang):
        name = _("%(site)s: planned maintenance") % {"site": site_name()}
        return _answer(maintenance_calendar.calendar_windows(), name, settings.TIME_ZONE, lang)


@public_get(params=["lang"], cors=False, max_age=CALENDAR_MAX_AGE, language=_language)
def area_maintenance_ics(request: HttpRequest, slug: str) -> HttpResponse:
    lang = _language(request)
    if lang not in i18n.languages():
        return _bad_language()
    area = ServiceArea.objects.filter(slug=slug).first()
    if area is None:
        return json_error(404, _("No area with this slug."))
    with translation.override(lang):
        name = _("%(site)s: planned maintenance in %(area)s") % {"site": site_name(), "area": area.localized_name}
        return _answer(maintenance_calendar.calendar_windows(area), name, area.time_zone, lang)
