"""Browser notifications: what the "Notify me in this browser" button
(static/js/push.js) talks to, and the service worker it registers.

Three small JSON POSTs, each with the browser's push endpoint in the body
(never in a URL, where logs would keep it):
- /push/subscribe/   {"subscription": PushSubscription.toJSON(), "area": slug or ""}
- /push/unsubscribe/ {"endpoint": ..., "area": slug or ""}
- /push/state/       {"endpoint": ..., "area": slug or ""}
each answering {"following": bool, "areas": [slugs]}. "area" empty means the
whole service (every area). The pages that carry the button are cached for
everyone, so there is no CSRF token: a POST from another site is refused by
its origin (views/origin.py), and no cookie or session is involved. The
language of the notifications is the request's (the page's) language.

/sw.js is served at the site root so its scope is the whole site.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ..models import ServiceArea
from ..services import push_subscriptions as push
from ..services.limits import RateLimited
from ..services.subscriptions import limit_ip
from .origin import same_origin_post

MAX_BODY = 4096


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "message": str(message)}}, status=status)


def _body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY:
        raise ValidationError(_("The request is too large."))
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_("The request is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ValidationError(_("The request is not valid JSON."))
    return data


def _areas(data: dict) -> list[ServiceArea]:
    slug = data.get("area") or ""
    if not isinstance(slug, str):
        raise ValidationError(_("No area with this slug."))
    if not slug:
        return list(ServiceArea.objects.all())
    area = ServiceArea.objects.filter(slug=slug).first()
    if area is None:
        raise ValidationError(_("No area with this slug."))
    return [area]


def _state(endpoint: str, areas: list[ServiceArea]) -> JsonResponse:
    followed = push.followed(endpoint) if endpoint else []
    followed_ids = {area.pk for area in followed}
    return JsonResponse(
        {
            "following": bool(areas) and all(area.pk in followed_ids for area in areas),
            "areas": sorted(area.slug for area in followed),
        }
    )


def _json_view(view):
    """JSON in, JSON out; bad input is a 400 with the reason, never a 500."""

    def wrapped(request: HttpRequest) -> HttpResponse:
        try:
            return view(request, _body(request))
        except ValidationError as error:
            return _error(400, " ".join(error.messages))
        except RateLimited as error:
            response = _error(429, error.message)
            response["Retry-After"] = "3600"
            return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return same_origin_post(require_POST(wrapped))


@_json_view
def subscribe(request: HttpRequest, data: dict) -> HttpResponse:
    """This browser follows the area (or the whole service)."""
    if not settings.VAPID_PUBLIC_KEY:
        return _error(503, _("Browser notifications are not set up on this site."))
    subscription = data.get("subscription")
    if not isinstance(subscription, dict):
        raise ValidationError(_("The browser's subscription is missing."))
    areas = _areas(data)
    endpoint = push.clean_endpoint(subscription.get("endpoint"))
    keys = push.clean_keys(subscription.get("keys"))
    limit_ip(request.META.get("REMOTE_ADDR", ""))
    push.follow(endpoint=endpoint, keys=keys, areas=areas, language=translation.get_language())
    response = _state(endpoint, areas)
    response.status_code = 201
    return response


@_json_view
def unsubscribe(request: HttpRequest, data: dict) -> HttpResponse:
    """This browser stops following the area (or everything, for the whole service)."""
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise ValidationError(_("The browser's subscription is missing."))
    areas = None if not data.get("area") else _areas(data)
    push.unfollow(endpoint=endpoint, areas=areas)
    return _state(endpoint, areas or [])


@_json_view
def state(request: HttpRequest, data: dict) -> HttpResponse:
    """Whether this browser follows the area (or every area)."""
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str):
        raise ValidationError(_("The browser's subscription is missing."))
    return _state(endpoint, _areas(data))


def _worker_source() -> bytes:
    path = finders.find("js/sw.js")
    with open(path, "rb") as file:
        return file.read()


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at the root so that its scope is the whole site."""
    response = HttpResponse(_worker_source(), content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker at least daily; let them see it at once.
    response["Cache-Control"] = "no-cache"
    return response
