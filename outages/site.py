"""Site-wide facts: its name in templates and absolute URLs for links that
leave the page (feeds, messages, API shortlinks)."""

from django.conf import settings
from django.utils import timezone


def site(request):
    """Template context processor. now: when the page's data was read
    ("Last updated" in the live indicator)."""
    return {"site_name": settings.SITE_NAME, "now": timezone.now()}


def absolute(path: str) -> str:
    return settings.SITE_URL + path
