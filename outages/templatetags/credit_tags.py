"""The credit notice of an incident card (see outages/credits.py)."""

from django import template

from ..models import ServiceArea
from ..queries import credits

register = template.Library()


@register.simple_tag(takes_context=True)
def credit_notices(context, incident):
    """The notices to show on this card: on an area page only that area's, elsewhere every area's."""
    area = context.get("area")
    return credits.notices_for(incident, area=area if isinstance(area, ServiceArea) else None)
