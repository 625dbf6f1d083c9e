"""ETA in one tap: the console's quick choices, the zone named, the time in words.

A quick choice is posted as such ("+120", "end-of-day", "keep", "clear") and
resolved on the server when the update is saved, from that moment: "+2 h"
means two hours after the operator pressed Post, and it is computed on the
absolute clock (now + 2 h), so a daylight-saving change in between moves the
wall-clock time as it should (01:30 CET + 2 h = 04:30 CEST) and a repeated
autumn hour is never ambiguous, as a typed local time would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import services

OFFSETS = [30, 60, 120, 240]
END_OF_DAY = "end-of-day"
KEEP = "keep"
CLEAR = "clear"


def _offset_label(minutes: int) -> str:
    return (
        _("+%(minutes)d min") % {"minutes": minutes} if minutes < 60 else _("+%(hours)d h") % {"hours": minutes // 60}
    )


def choices() -> list[tuple[str, str]]:
    return [
        *((f"+{minutes}", _offset_label(minutes)) for minutes in OFFSETS),
        (END_OF_DAY, _("End of today")),
        (KEEP, _("Keep")),
        (CLEAR, _("Clear")),
    ]


def zone():
    return timezone.get_current_timezone()


def zone_label(now: datetime | None = None) -> str:
    """ "Europe/Budapest, CET": the zone the console's times are read in, by name and by today's abbreviation."""
    local = timezone.localtime(now or timezone.now(), zone())
    return f"{zone().key}, {local.tzname()}"


def resolve(choice: str, *, now: datetime, current: datetime | None):
    """The ETA a quick choice means at `now`: a datetime, None (clear) or services.KEEP."""
    if choice == KEEP:
        return services.KEEP
    if choice == CLEAR:
        return None
    if choice == END_OF_DAY:
        today = timezone.localtime(now, zone()).date()
        return datetime.combine(today, time(23, 59), tzinfo=zone())
    if choice.startswith("+") and choice[1:].isdigit() and int(choice[1:]) in OFFSETS:
        return now + timedelta(minutes=int(choice[1:]))
    raise ValidationError(_("Unknown quick choice."))


def duration_words(delta: timedelta) -> str:
    minutes = max(round(delta.total_seconds() / 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(_("%(count)d h") % {"count": hours})
    if minutes and not days:
        parts.append(_("%(count)d min") % {"count": minutes})
    return " ".join(parts) or _("%(count)d min") % {"count": 0}


def clock(value: datetime) -> str:
    return timezone.localtime(value, zone()).strftime("%H:%M")


def words(value: datetime | None, now: datetime) -> str:
    """ "today 16:30, in 2 h 10 min" / "tomorrow 01:30, in 3 h" / "Sat 14 Mar 09:00, in 3 days 2 h"."""
    if value is None:
        return _("no estimate")
    local, today = timezone.localtime(value, zone()), timezone.localtime(now, zone()).date()
    if local.date() == today:
        day = _("today %(time)s") % {"time": clock(value)}
    elif local.date() == today + timedelta(days=1):
        day = _("tomorrow %(time)s") % {"time": clock(value)}
    else:
        day = f"{local.date().isoformat()} {clock(value)}"
    if value <= now:
        return _("%(day)s, %(duration)s ago") % {"day": day, "duration": duration_words(now - value)}
    return _("%(day)s, in %(duration)s") % {"day": day, "duration": duration_words(value - now)}


def check(value: datetime | None, now: datetime) -> None:
    """Refuse an ETA that has passed or lies absurdly far ahead, saying which and why."""
    if value is None:
        return
    if value <= now:
        raise ValidationError(
            _("%(when)s has already passed: the estimate must be in the future (or choose “Clear” if there is none).")
            % {"when": words(value, now)},
            code="eta_past",
        )
    limit = settings.ETA_MAX_DAYS
    if value > now + timedelta(days=limit):
        raise ValidationError(
            ngettext(
                "%(when)s is more than %(days)d day ahead: check the date (the limit is ETA_MAX_DAYS).",
                "%(when)s is more than %(days)d days ahead: check the date (the limit is ETA_MAX_DAYS).",
                limit,
            )
            % {"when": words(value, now), "days": limit},
            code="eta_too_far",
        )


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    preview: str  # the datetime-local value the field shows when chosen ("" for keep/clear)
    words: str


def previews(now: datetime, current: datetime | None) -> list[Choice]:
    """What each choice would give if posted now: shown next to it, refreshed by console.js."""
    result = []
    for value, label in choices():
        eta = resolve(value, now=now, current=current)
        if eta is services.KEEP:
            eta = current if current and current > now else None
        preview = timezone.localtime(eta, zone()).strftime("%Y-%m-%dT%H:%M") if eta else ""
        result.append(Choice(value, label, preview, words(eta, now)))
    return result


class QuickEtaField(forms.ChoiceField):
    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        super().__init__(
            label=gettext_lazy("Quick choice"),
            choices=choices,
            required=False,
            help_text=gettext_lazy("Counted from the moment you post; it overrides a time typed above."),
            **kwargs,
        )
