"""System checks: configuration mistakes are refused at start, not found in production."""

import re

from django.conf import settings
from django.core.checks import Error, register

from .models import Impact

# A CSP frame-ancestors source: *, 'self', 'none', a scheme (https:), or
# scheme://host[:port] with an optional leading *. wildcard.
_SOURCE = re.compile(
    r"^(\*|'self'|'none'|[a-z][a-z0-9+.-]*:|[a-z][a-z0-9+.-]*://(\*\.)?[a-z0-9.-]+(:(\d{1,5}|\*))?)$", re.I
)


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


@register()
def check_update_cadence(app_configs, **kwargs):
    known = set(Impact.values) - {Impact.NONE}
    return [
        Error(
            f"UPDATE_CADENCE_MINUTES names {impact!r}, which is not an impact.",
            hint=f"Use {', '.join(sorted(known))}, e.g. critical=60,major=120,minor=360.",
            id="outages.E002",
        )
        for impact in settings.UPDATE_CADENCE_MINUTES
        if impact not in known
    ]


@register()
def check_estimates(app_configs, **kwargs):
    errors = []
    if not 1 <= settings.ESTIMATE_PERCENTILE <= 100:
        errors.append(Error("ESTIMATE_PERCENTILE must be between 1 and 100.", id="outages.E003"))
    if settings.ESTIMATE_MIN_SAMPLES < 1 or settings.ESTIMATE_WINDOW_MONTHS < 1:
        errors.append(Error("ESTIMATE_MIN_SAMPLES and ESTIMATE_WINDOW_MONTHS must be at least 1.", id="outages.E004"))
    return errors
