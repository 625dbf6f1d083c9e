"""Small presentation helpers shared by the page, widget and push templates."""

from datetime import datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import i18n
from ..models import STATUS_ICONS, AreaStatus
from ..queries import headline

register = template.Library()


@register.simple_tag
def status_badge(status: str) -> str:
    """Status as icon and words, never colour alone."""
    label = AreaStatus(status).label
    return format_html(
        '<span class="badge badge--{}"><span class="badge__icon" aria-hidden="true">{}</span> {}</span>',
        status,
        STATUS_ICONS[AreaStatus(status)],
        label,
    )


@register.simple_tag
def local_time(value: datetime | None, tz_name: str | None = None) -> str:
    """A time in the area's zone with the zone named: "14:30 CET", or with the date if not today."""
    return headline.local_time(value, tz_name)


@register.simple_tag
def local_span(start: datetime, end: datetime, tz_name: str | None = None) -> str:
    """ "18:00 CET – 19:00 CET". In a right-to-left language each time is also
    isolated in Unicode: an <option> keeps only the text, so the <time>'s
    dir="auto" no longer holds there."""
    times = [mark_safe(i18n.isolate(headline.local_time(value, tz_name))) for value in (start, end)]
    return format_html("{} – {}", *times)


@register.simple_tag
def relative_time(value: datetime | None) -> str:
    """ "in 2 hours" / "5 minutes ago"; static.js keeps it current in the browser."""
    if value is None:
        return ""
    return headline.relative(value)


@register.filter
def isolate(value) -> str:
    """A value in a plain-text channel (the e-mail's text part) kept in its own
    direction inside right-to-left text: Unicode isolates (i18n.isolate)."""
    return i18n.isolate(str(value or ""))
