"""Site-wide facts: its name in templates and absolute URLs for links that
leave the page (feeds, messages, API shortlinks)."""

from django.conf import settings


def site(request):
    """Template context processor."""
    return {"site_name": settings.SITE_NAME}


def absolute(path: str) -> str:
    return settings.SITE_URL + path
