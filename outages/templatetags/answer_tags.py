"""The headline answers (outages.headline) for the page, widget and push templates."""

from django import template

from ..queries import headline

register = template.Library()


@register.simple_tag
def answer(incident=None, tz=None):
    """ "Back by 05:07 — in 4 hours", "No estimate yet — next update by 01:30", "Working normally"."""
    return headline.answer(incident or None, tz or None)


@register.simple_tag
def eta_moved(incident, tz=None):
    """ "ETA moved from 05:07 to 06:30" while that ETA stands; empty otherwise."""
    return headline.eta_moved(incident, tz or None)


@register.simple_tag
def lasted(incident):
    """How long a resolved incident lasted."""
    if incident.resolved_at is None:
        return ""
    return headline.lasted(incident.started_at, incident.resolved_at)
