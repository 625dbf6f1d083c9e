"""System checks: configuration mistakes are refused at start, not found in production."""

import re

from django.conf import settings
from django.core.checks import Error, register

# A CSP frame-ancestors source: *, 'self', 'none', a scheme (https:), or
# scheme://host[:port] with an optional leading *. wildcard.
_SOURCE = re.compile(r"^(\*|'self'|'none'|[a-z][a-z0-9+.-]*:|[a-z][a-z0-9+.-]*://(\*\.)?[a-z0-9.-]+(:(\d{1,5}|\*))?)$", re.I)


@register()
def check_embed_allowed_origins(app_configs, **kwargs):
    bad = [origin for origin in settings.EMBED_ALLOWED_ORIGINS if not _SOURCE.match(origin)]
    return [
        Error(
            f"EMBED_ALLOWED_ORIGINS has {origin!r}, which is not an origin.",
            hint="Comma-separated origins such as https://town.example, https://*.example.org, or * for any site.",
            id="outages.E001",
        )
        for origin in bad
    ]
