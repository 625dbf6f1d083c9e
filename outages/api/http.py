"""What every public machine-readable response shares: JSON errors, caching
(outages/pagecache.py: rendered once per change, one Cache-Control, ETag and
Last-Modified with 304 answers), CORS for GET, and the refusal of unknown
query parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _

from .. import i18n
from ..live import pagecache

SAFE_METHODS = ("GET", "HEAD")


def json_error(status: int, message: str, **extra) -> JsonResponse:
    """The one shape of every API error: {"error": {"status", "message", ...}}."""
    return JsonResponse({"error": {"status": status, "message": str(message), **extra}}, status=status)


def json_response(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def allow_cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    return response


def public_get(
    params: Iterable[str] = (), *, cors: bool = True, max_age: int | None = None, language: Callable | None = None
) -> Callable:
    """A read-only public endpoint: GET/HEAD (and an OPTIONS preflight when
    CORS is on), only the named query parameters, errors as JSON, and
    ETag/Last-Modified with 304 answers on a successful response.

    The view may set `response.last_modified` (a datetime) for Last-Modified.
    `max_age`: how long a proxy or client may keep it (default PAGE_MAX_AGE).
    `language`: for a view that picks its language itself (pagecache.cached)."""
    # lang= (or Accept-Language) picks the language of every answer.
    allowed = frozenset(params) | {i18n.LANGUAGE_PARAMETER}
    allow_header = ", ".join(SAFE_METHODS + (("OPTIONS",) if cors else ()))

    def decorator(view):
        cached_view = pagecache.cached(max_age, cache_errors=True, params=allowed, language=language)(
            _with_last_modified(view)
        )

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if cors and request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = allow_header
                response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
                response["Access-Control-Max-Age"] = "86400"
                response["Allow"] = allow_header
                return allow_cors(response)
            if request.method not in SAFE_METHODS:
                response = json_error(405, _("Only GET is allowed here."))
                response["Allow"] = allow_header
            elif unknown := sorted(set(request.GET) - allowed):
                response = json_error(
                    400, _("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)}, parameters=unknown
                )
            elif request.GET.get(i18n.LANGUAGE_PARAMETER) and i18n.link_language(request) is None:
                response = json_error(
                    400,
                    _("Unknown language; use one of: %(codes)s.") % {"codes": ", ".join(i18n.languages())},
                    parameters=[i18n.LANGUAGE_PARAMETER],
                )
            else:
                response = cached_view(request, *args, **kwargs)
            return allow_cors(response) if cors else response

        return wrapper

    return decorator


def _with_last_modified(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        last_modified = getattr(response, "last_modified", None)
        if isinstance(last_modified, datetime):
            response["Last-Modified"] = http_date(int(last_modified.timestamp()))
        return response

    return wrapper
