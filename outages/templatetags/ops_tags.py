"""Template helpers for an incident's facts: crew, customers affected, promises."""

from django import template

from ..queries import current

register = template.Library()


@register.filter
def promise_open(incident) -> bool:
    """True while the incident's "next update by" promise has not passed."""
    return current.promise_open(incident)


@register.simple_tag
def customers_for(incident, area=None):
    """The estimate of customers affected, for the area if ops gave one per area."""
    return current.customers_affected(incident, area or None)
