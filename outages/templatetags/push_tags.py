"""The "Notify me in this browser" button: the VAPID public key it subscribes with."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def push_public_key() -> str:
    """The applicationServerKey for PushManager.subscribe; empty when push is not set up."""
    return settings.VAPID_PUBLIC_KEY
