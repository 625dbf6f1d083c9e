"""The answer to "when is it back?" in one line: the headline of the area
page's banner, the home banner, each incident card and the widget.

One function per fact, so every page says the same words:
- answer(incident): "Back by 05:07 — in 4 hours", "No estimate yet — next
  update by 01:30", "Fixed at 06:10 — lasted 2 hours 5 minutes", ...
- eta_moved(incident): "ETA moved from 05:07 to 06:30" while the moved ETA stands.
- lasted(start, end): "2 hours 5 minutes".
- relative(when): "in 4 hours" / "5 minutes ago", worded as status.js words it
  (Intl.RelativeTimeFormat), which keeps it current in the browser.

Times are HTML <time> elements (local_time, also the pages' template tag); the sentences are
format_html templates, so operator text never reaches them unescaped. Each <time> has
dir="auto", which isolates it: "21:55 CET" reads left to right inside Hebrew, and the
parentheses and dashes around "in 2 hours" stay where the sentence puts them.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Incident, IncidentStatus
from .announcements import When
from .current import promise_open


def zone(tz_name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz_name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_time(value: datetime | None, tz_name: str | None = None) -> SafeString:
    """A time in the area's zone with the zone named: "14:30 CET", or with the
    date if not today (the template tag status_tags.local_time is this)."""
    if value is None:
        return SafeString("")
    where = zone(tz_name)
    when = When(local=timezone.localtime(value, where), today=timezone.localtime(timezone.now(), where))
    return format_html(
        '<time datetime="{}" dir="auto">{} <abbr class="tz" title="{}">{}</abbr></time>',
        value.isoformat(),
        when.written_clock(),
        where.key,
        when.local.strftime("%Z"),
    )


def _round(seconds: float, unit: int) -> int:
    return int(abs(seconds) / unit + 0.5)


def relative_words(seconds: float) -> str:
    """ "in 4 hours" / "20 minutes ago", rounded as status.js rounds them."""
    future = seconds >= 0
    if abs(seconds) >= 86400:
        count = _round(seconds, 86400)
        return (
            ngettext("in %(count)d day", "in %(count)d days", count)
            if future
            else ngettext("%(count)d day ago", "%(count)d days ago", count)
        ) % {"count": count}
    if abs(seconds) >= 3600:
        count = _round(seconds, 3600)
        return (
            ngettext("in %(count)d hour", "in %(count)d hours", count)
            if future
            else ngettext("%(count)d hour ago", "%(count)d hours ago", count)
        ) % {"count": count}
    count = _round(seconds, 60)
    return (
        ngettext("in %(count)d minute", "in %(count)d minutes", count)
        if future
        else ngettext("%(count)d minute ago", "%(count)d minutes ago", count)
    ) % {"count": count}


def relative(when: datetime, now: datetime | None = None) -> SafeString:
    seconds = (when - (now or timezone.now())).total_seconds()
    return format_html(
        '<time datetime="{}" dir="auto" data-relative>{}</time>', when.isoformat(), relative_words(seconds)
    )


def lasted(start: datetime, end: datetime) -> str:
    """How long something lasted, to the minute: "2 hours 5 minutes", "3 days 4 hours"."""
    minutes = max(0, int((end - start) / timedelta(minutes=1)))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes and not days:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    if not parts:
        return _("less than a minute")
    return " ".join(parts)


def answer(incident: Incident | None, tz: str | None = None, now: datetime | None = None) -> SafeString:
    """The headline for one incident (None: nothing is wrong)."""
    now = now or timezone.now()
    if incident is None:
        return format_html("{}", _("Working normally"))
    if not incident.is_active:
        if incident.resolved_at:
            return format_html(
                _("Fixed at {time} — lasted {duration}"),
                time=local_time(incident.resolved_at, tz),
                duration=lasted(incident.started_at, incident.resolved_at),
            )
        return format_html("{}", _("Fixed"))
    if incident.is_maintenance and incident.scheduled_until and incident.scheduled_until > now:
        return format_html(
            _("Planned work until {time} — {relative}"),
            time=local_time(incident.scheduled_until, tz),
            relative=relative(incident.scheduled_until, now),
        )
    if incident.eta and incident.eta > now:
        return format_html(
            _("Back by {time} — {relative}"), time=local_time(incident.eta, tz), relative=relative(incident.eta, now)
        )
    promise = promise_open(incident, now)
    if incident.eta:
        if promise:
            return format_html(
                _("Taking longer than expected — next update by {time}"), time=local_time(incident.next_update_at, tz)
            )
        return format_html("{}", _("Taking longer than expected — a new estimate is coming"))
    if incident.status == IncidentStatus.MONITORING:
        return format_html("{}", _("Fix in place — we are making sure it holds"))
    if promise:
        return format_html(_("No estimate yet — next update by {time}"), time=local_time(incident.next_update_at, tz))
    return format_html("{}", _("No estimate yet — we will post one as soon as we have it"))


def eta_moved(incident: Incident, tz: str | None = None) -> SafeString:
    """ "ETA moved from 05:07 to 06:30" while the latest move (annotated by
    queries.with_card_data) is still the ETA in force; empty otherwise."""
    moved_from = getattr(incident, "eta_moved_from", None)
    moved_to = getattr(incident, "eta_moved_to", None)
    if not (incident.is_active and moved_from and moved_to and incident.eta and moved_to == incident.eta):
        return SafeString("")
    return format_html(_("ETA moved from {old} to {new}"), old=local_time(moved_from, tz), new=local_time(moved_to, tz))
