"""The "Add to calendar" links of the maintenance list: a calendar app
subscribes to webcal://, a browser downloads the same file."""

from urllib.parse import urlencode, urlsplit

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.simple_tag
def calendar_urls(area=None, lang: str = "") -> dict[str, str]:
    """{"webcal": "webcal://host/...ics?lang=..", "download": "https://host/...ics?lang=..", "filename": ".."}"""
    path = reverse("area-maintenance-ics", args=[area.slug]) if area else reverse("maintenance-ics")
    query = "?" + urlencode({"lang": lang}) if lang else ""
    url = settings.SITE_URL + path + query
    parts = urlsplit(url)
    return {
        "webcal": parts._replace(scheme="webcal").geturl(),
        "download": url,
        "filename": f"maintenance-{area.slug}.ics" if area else "maintenance.ics",
    }
