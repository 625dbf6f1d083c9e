"""What every public machine-readable response shares: JSON errors, caching
headers with conditional GET (304), CORS for GET, and the refusal of
unknown query parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _

# Short: status data goes stale fast, and a proxy or client may keep it this long.
MAX_AGE = 30
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


def public_get(params: Iterable[str] = (), *, cors: bool = True, max_age: int = MAX_AGE) -> Callable:
    """A read-only public endpoint: GET/HEAD (and an OPTIONS preflight when
    CORS is on), only the named query parameters, errors as JSON, and
    ETag/Last-Modified with 304 answers on a successful response.

    The view may set `response.last_modified` (a datetime) for Last-Modified."""
    allowed = frozenset(params)
    allow_header = ", ".join(SAFE_METHODS + (("OPTIONS",) if cors else ()))

    def decorator(view):
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
            else:
                response = view(request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    response = _cacheable(request, response, max_age)
            return allow_cors(response) if cors else response

        return wrapper

    return decorator


def _cacheable(request: HttpRequest, response: HttpResponse, max_age: int) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=max_age)
    set_response_etag(response)
    last_modified = getattr(response, "last_modified", None)
    timestamp = None
    if isinstance(last_modified, datetime):
        timestamp = int(last_modified.timestamp())
        response["Last-Modified"] = http_date(timestamp)
    elif response.has_header("Last-Modified"):
        timestamp = parse_http_date_safe(response["Last-Modified"])
    return get_conditional_response(request, etag=response.get("ETag"), last_modified=timestamp, response=response)
