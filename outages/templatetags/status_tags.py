"""Small presentation helpers shared by the page, widget and push templates."""

import zoneinfo
from datetime import datetime

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.html import format_html

from ..models import STATUS_ICONS, AreaStatus
from ..queries.announcements import When

register = template.Library()



def _zone(tz_name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz_name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


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
    if value is None:
        return ""
    zone = _zone(tz_name)
    when = When(local=timezone.localtime(value, zone), today=timezone.localtime(timezone.now(), zone))
    return format_html(
        '<time datetime="{}">{} <abbr class="tz" title="{}">{}</abbr></time>',
        value.isoformat(),
        when.written_clock(),
        zone.key,
        when.local.strftime("%Z"),
    )


@register.simple_tag
def relative_time(value: datetime | None) -> str:
    """"in 2 hours" / "5 minutes ago"; static.js keeps it current in the browser."""
    if value is None:
        return ""
    return format_html('<time datetime="{}" data-relative>{}</time>', value.isoformat(), naturaltime(value))
