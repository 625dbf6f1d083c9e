"""What to say about an area in one or two short sentences: what is wrong and
when it will be fixed. The voice line reads it (plain text for text-to-speech,
or SSML with times marked up to be read naturally); email, SMS and webhooks
use `announce_for()`, so every channel says the same words.

Operator text is data: in SSML it is escaped; in plain text it is plain text.
Call inside translation.override(lang) to speak another language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import i18n
from ..models import Impact, Incident, ServiceArea
from . import estimates

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# 12-hour clock where people speak it so; elsewhere 24-hour.
TWELVE_HOUR_LANGUAGES = {"en"}


@dataclass
class When:
    """A time to be spoken, with the day if it is not today."""

    local: datetime
    today: datetime

    def _clock(self) -> tuple[str, str, str]:
        """(text, SSML say-as format, SSML value)."""
        if translation.get_language().split("-")[0] in TWELVE_HOUR_LANGUAGES:
            return (
                formats.date_format(self.local, "g:i A"),
                "hms12",
                self.local.strftime("%I:%M%p").lstrip("0").lower(),
            )
        text = formats.date_format(self.local, "H:i")
        return text, "hms24", text

    def _day(self) -> str:
        days = (self.local.date() - self.today.date()).days
        if days == 0:
            return ""
        if days == 1:
            return _("tomorrow")
        if 1 < days < 7:
            return _("on %(weekday)s") % {"weekday": formats.date_format(self.local, "l")}
        return _("on %(date)s") % {"date": formats.date_format(self.local, "j F")}

    def text(self) -> str:
        clock = self._clock()[0]
        day = self._day()
        return _("%(time)s %(day)s") % {"time": clock, "day": day} if day else clock

    def written_clock(self) -> str:
        """As the pages write it, without the zone: "16:30", or with the date if not today."""
        same_day = self.local.date() == self.today.date()
        return formats.date_format(self.local, "TIME_FORMAT" if same_day else "SHORT_DATETIME_FORMAT")

    def written(self) -> str:
        """The written clock and the zone named ("16:30 CET")."""
        return f"{self.written_clock()} {self.local.strftime('%Z')}"

    def ssml(self) -> str:
        _text, fmt, value = self._clock()
        clock = f'<say-as interpret-as="time" format="{fmt}">{escape(value)}</say-as>'
        day = self._day()
        return _("%(time)s %(day)s") % {"time": clock, "day": escape(day)} if day else clock


@dataclass
class Announcement:
    """Sentences as (template, values): values are plain strings or When."""

    sentences: list[tuple[str, dict]]

    def text(self, *, written: bool = False) -> str:
        """For the ear (the voice line), or `written` for messages that sit beside the page.
        In a right-to-left language each value is isolated (i18n.isolate)."""
        return " ".join(
            template
            % {
                key: i18n.isolate((value.written() if written else value.text()) if isinstance(value, When) else value)
                for key, value in values.items()
            }
            for template, values in self.sentences
        )

    def ssml(self) -> str:
        body = "".join(f"<s>{_ssml_sentence(template, values)}</s>" for template, values in self.sentences)
        lang = translation.get_language() or "en"
        return f'<speak xml:lang="{escape(lang)}"><p>{body}</p></speak>'


def _ssml_sentence(template: str, values: dict) -> str:
    # The template is our own (translated) text: escape it around the placeholders.
    parts = re.split(r"(%\([a-z_]+\)s)", template)
    out = []
    for part in parts:
        match = re.fullmatch(r"%\(([a-z_]+)\)s", part)
        if match:
            value = values[match.group(1)]
            out.append(value.ssml() if isinstance(value, When) else escape(value))
        else:
            out.append(escape(part.replace("%%", "%")))
    return "".join(out)


def spoken(name: str) -> str:
    """A name as it can be read aloud: no control characters, spaces squeezed."""
    return " ".join(_CONTROL.sub(" ", name).split())


def _service_name(name: str) -> str:
    """ "Fiber internet" reads "fiber internet" mid-sentence; "TV" stays "TV"."""
    name = spoken(name)
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _what_sentence(place: str, incidents: list[Incident]) -> tuple[str, dict]:
    names: list[str] = []
    for incident in incidents:
        for service in incident.services.all():
            if _service_name(service.localized_name) not in names:
                names.append(_service_name(service.localized_name))
    serious = any(incident.impact in (Impact.MAJOR, Impact.CRITICAL) for incident in incidents)
    values = {"area": spoken(place)}
    if not names:
        template = _("There is an outage in %(area)s.") if serious else _("There is a service disruption in %(area)s.")
        return template, values
    values["services"] = get_text_list(names, _("and"))
    vowel = values["services"][0].lower() in "aeiou"
    if serious:
        template = (
            _("There is an %(services)s outage in %(area)s.")
            if vowel
            else _("There is a %(services)s outage in %(area)s.")
        )
    else:
        template = (
            _("There is an %(services)s disruption in %(area)s.")
            if vowel
            else _("There is a %(services)s disruption in %(area)s.")
        )
    return template, values


def _when(value: datetime, tz, now: datetime) -> When:
    return When(local=timezone.localtime(value, tz), today=timezone.localtime(now, tz))


def announce(area: ServiceArea, incidents: list[Incident], *, now: datetime | None = None) -> Announcement:
    """What is wrong in the area and when it will be fixed, then the operators' latest
    word in the active language; incidents are its active ones (with services and
    updates prefetched, newest first)."""
    announcement = announce_for(area.localized_name, area.tzinfo, incidents, now=now)
    for incident in incidents:
        latest = next((update for update in incident.updates.all() if update.message.strip()), None)
        if latest is not None:
            announcement.sentences.append(
                (_("Latest update: %(message)s"), {"message": spoken(latest.localized_message)})
            )
    return announcement


def announce_for(place: str, tz, incidents: list[Incident], *, now: datetime | None = None) -> Announcement:
    """The same for any named place (one area, or "District 5 and District 6") in
    time zone `tz`: the voice line, email, SMS and webhooks all say it this way."""
    now = now or timezone.now()
    name = {"area": spoken(place)}
    outages = [incident for incident in incidents if not incident.is_maintenance]
    works = [incident for incident in incidents if incident.is_maintenance]
    if outages:
        etas = [incident.eta for incident in outages]
        if not any(etas) and all(estimates.shown(incident) for incident in outages):
            second = estimate_sentence(max(outages, key=lambda incident: incident.estimate_minutes))
        elif not all(etas):
            second = (_("We do not yet know when service will be restored."), {})
        elif max(etas) <= now:
            second = (_("The repair is taking longer than expected; we will give a new time soon."), {})
        else:
            second = (_("We expect service to be restored by %(time)s."), {"time": _when(max(etas), tz, now)})
        return Announcement([_what_sentence(place, outages), second])
    if works:
        ends = [incident.eta or incident.scheduled_until for incident in works]
        first = (_("Planned maintenance work is under way in %(area)s."), name)
        if all(ends) and max(ends) > now:
            return Announcement(
                [first, (_("The work should finish by %(time)s."), {"time": _when(max(ends), tz, now)})]
            )
        return Announcement([first])
    return Announcement([(_("There are no known problems in %(area)s."), name)])


# The automatic first estimate (outages.queries.estimates) -------------------


def estimate_duration(minutes: int) -> str:
    """ "45 minutes", "3 hours", "2 days": rounded up, never down, so the estimate stays honest."""
    if minutes <= 45:
        count = max(15, math.ceil(minutes / 15) * 15)
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    if minutes <= 48 * 60:
        count = math.ceil(minutes / 60)
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    count = math.ceil(minutes / (24 * 60))
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def estimate_sentence(incident: Incident) -> tuple[str, dict]:
    """ "Typically fixed within 3 hours (based on 42 similar outages). Our crew will confirm." as (template, values)."""
    samples = incident.estimate_samples
    template = ngettext(
        "Typically fixed within %(duration)s (based on %(samples)s similar outage). Our crew will confirm.",
        "Typically fixed within %(duration)s (based on %(samples)s similar outages). Our crew will confirm.",
        samples,
    )
    return template, {
        "duration": estimate_duration(incident.estimate_minutes),
        "samples": formats.number_format(samples),
    }


def estimate_text(incident: Incident) -> str:
    """The estimate sentence if customers see one for this incident (no operator ETA), else ""."""
    if not estimates.shown(incident):
        return ""
    return Announcement([estimate_sentence(incident)]).text()
