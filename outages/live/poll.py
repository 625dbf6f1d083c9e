"""The polling fallback: a plain GET on a websocket's path returns the same
snapshot the socket sends on connect, for browsers that cannot keep a socket."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from . import groups, pagecache
from .fragments import render_group_snapshot, variant


def _snapshot_response(request: HttpRequest, group: str) -> HttpResponse:
    # ?lang= (the page's own, in its live URL; link=1 when its links carry it), else the request's language.
    code = request.GET.get("lang") or getattr(request, "LANGUAGE_CODE", None) or ""
    html = render_group_snapshot(group, variant(code, bool(request.GET.get("lang")) and request.GET.get("link") == "1"))
    if html is None:
        raise Http404
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@require_safe
@pagecache.cached(params=("lang", "link", "summary"))
def status_snapshot(request: HttpRequest) -> HttpResponse:
    # ?summary=1: without the list of every area, as the socket (the widget polls this).
    return _snapshot_response(
        request, groups.STATUS_SUMMARY if request.GET.get("summary") == "1" else groups.STATUS_GROUP
    )


@require_safe
@pagecache.cached(params=("lang", "link"))
def area_snapshot(request: HttpRequest, slug: str) -> HttpResponse:
    return _snapshot_response(request, groups.area_group(slug))


@require_safe
@pagecache.cached(params=("lang", "link"))
def incident_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    return _snapshot_response(request, groups.incident_group(pk))
