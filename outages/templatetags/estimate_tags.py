"""The automatic first estimate and the estimate stage on an incident card (outages/queries/estimates.py)."""

from django import template

from ..queries import announcements

register = template.Library()


@register.filter
def estimate_text(incident) -> str:
    """The estimate sentence customers read while no operator gives an ETA, else ""."""
    return announcements.estimate_text(incident)
