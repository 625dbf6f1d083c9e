"""Update templates: operator text with {placeholders}, never a Django template.

Only `{name}` with a known name is replaced; `{{` and `}}` give literal
braces; anything else (unknown names, `{0}`, `{area.__class__}`, `{% ... %}`,
`{{ ... }}`) is left exactly as written. Values are inserted as plain text:
the result is a message like any other, escaped where it is shown. For HTML
(the admin preview) use render_html(), which escapes the text and every value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

PLACEHOLDERS = ("area", "areas", "eta", "title", "customers", "next_update", "cause", "crew")
_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


def _time(value: datetime | None, zone=None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, zone), "SHORT_DATETIME_FORMAT")


def values_for(incident=None, *, areas=None, eta=None, next_update_at=None, customers=None, title=None) -> dict:
    """The placeholder values for an incident (or for one about to be opened)."""
    area_list = list(areas if areas is not None else (incident.areas.all() if incident and incident.pk else []))
    zones = {area.time_zone for area in area_list}
    zone = area_list[0].tzinfo if len(zones) == 1 else None
    eta = eta if eta is not None else (incident.eta if incident else None)
    next_update_at = next_update_at if next_update_at is not None else (incident.next_update_at if incident else None)
    if customers is None and incident is not None:
        customers = incident.customers_affected
    names = [area.localized_name for area in area_list]
    return {
        "area": names[0] if len(names) == 1 else ", ".join(names),
        "areas": ", ".join(names),
        "eta": _time(eta, zone) or _("not yet known"),
        "title": title if title is not None else (incident.localized_title if incident else ""),
        "customers": formats.number_format(customers, force_grouping=True) if customers is not None else "",
        "next_update": _time(next_update_at, zone),
        "cause": incident.cause_text if incident else "",
        "crew": incident.get_crew_status_display() if incident else "",
    }


def _parts(text: str, values: dict) -> list[str]:
    """The text split into literal pieces and placeholder values, in order."""
    parts: list[str] = []
    position = 0
    text = text or ""
    for match in _TOKEN.finditer(text):
        parts.append(text[position : match.start()])
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif name in PLACEHOLDERS and name in values:
            parts.append(str(values[name]))
        else:
            parts.append(token)
        position = match.end()
    parts.append(text[position:])
    return parts


def render(text: str, values: dict) -> str:
    """Fill in known {placeholders} with plain-text values."""
    return "".join(_parts(text, values))


def render_html(text: str, values: dict) -> SafeString:
    """The same, for HTML: the operator's text and every value are escaped."""
    return format_html_join("", "{}", ((part,) for part in _parts(text, values)))


def render_translations(template, values: Callable[[], dict]) -> dict[str, str]:
    """A template's message filled in for every other language it has text in,
    with each language's own placeholder values (area names, times)."""
    rendered = {}
    for code, text in (template.message_translations or {}).items():
        if code == settings.LANGUAGE_CODE or not (text or "").strip():
            continue
        with translation.override(code):
            rendered[code] = render(text, values())
    return rendered
