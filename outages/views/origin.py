"""Anonymous public forms without Django's CSRF token, so the pages that
carry them can be cached and served to everyone (outages/pagecache.py).

Such a form changes nothing that belongs to the visitor (no session, no
account): the only forgery to stop is another site making a visitor's
browser post it. Browsers say where a request comes from, and no page can
forge that: `Sec-Fetch-Site` (all current browsers), else `Origin` (every
browser on a POST for years), else `Referer`. A request that carries none of
them did not come from a browser page of another site (a script or a
non-browser client, which a CSRF token would not stop either).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def is_same_origin(request: HttpRequest) -> bool:
    """Whether this request comes from one of our own pages, by the browser's word."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    own = {f"{request.scheme}://{request.get_host()}".lower(), *(o.lower() for o in settings.CSRF_TRUSTED_ORIGINS)}
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() in own
    referer = request.headers.get("Referer")
    if referer is not None:
        return _origin_of(referer) in own
    return True


def same_origin_post(view):
    """Exempt from Django's CSRF token, and refuse (403) a POST from another site."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method not in SAFE_METHODS and not is_same_origin(request):
            return HttpResponseForbidden(
                _("This form can only be sent from this site's own pages."), content_type="text/plain; charset=utf-8"
            )
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)
