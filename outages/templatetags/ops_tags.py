"""Template helpers for the facts of issue 8 (crew, customers, promises)."""

from django import template

from .. import queries

register = template.Library()


@register.filter
def promise_open(incident) -> bool:
    """True while the incident's "next update by" promise has not passed."""
    return queries.promise_open(incident)


@register.simple_tag
def customers_for(incident, area=None):
    """The estimate of customers affected, for the area if ops gave one per area."""
    return queries.customers_affected(incident, area or None)
