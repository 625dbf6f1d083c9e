"""The polling fallback: a plain GET on a websocket's path returns the same
snapshot the socket sends on connect, for browsers that cannot keep a socket."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from .. import live, pagecache


def _snapshot_response(group: str) -> HttpResponse:
    html = live.render_group_snapshot(group)
    if html is None:
        raise Http404
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@require_safe
@pagecache.cached()
def status_snapshot(request: HttpRequest) -> HttpResponse:
    # ?summary=1: without the list of every area, as the socket (the widget polls this).
    return _snapshot_response(live.STATUS_SUMMARY if request.GET.get("summary") == "1" else live.STATUS_GROUP)


@require_safe
@pagecache.cached()
def area_snapshot(request: HttpRequest, slug: str) -> HttpResponse:
    return _snapshot_response(live.area_group(slug))


@require_safe
@pagecache.cached()
def incident_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    return _snapshot_response(live.incident_group(pk))
