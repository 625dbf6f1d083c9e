"""Small presentation helpers shared by the page, widget and push templates."""

from datetime import datetime

from django import template
from django.utils.html import format_html

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
