"""Public pages: thin, read-only; their context comes from outages.current."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe
from django_htmx.middleware import HtmxDetails

from ..live import groups, pagecache
from ..models import Incident, ServiceArea
from ..queries import callback_slots, current, history


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_safe
@pagecache.cached()
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request, "outages/home.html", {**current.home_snapshot(), "live_url": groups.live_url(groups.status_path())}
    )


@require_safe
@pagecache.cached()
def area_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    area = get_object_or_404(ServiceArea.objects.select_related("region"), slug=slug)
    context = {
        **current.area_snapshot(area),
        # Every area page shows it: read once while the status is unchanged, not once per area.
        **history.area_page_context(
            area, pagecache.shared_while_unchanged(("overall-availability",), history.overall_availability)
        ),
        "live_url": groups.live_url(groups.area_path(area.slug)),
        "contact_panel": callback_slots.contact_panel(area),
    }
    return render(request, "outages/area.html", context)


@require_safe
@pagecache.cached()
def incident_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    context = {**current.incident_snapshot(incident), "live_url": groups.live_url(groups.incident_path(incident.pk))}
    return render(request, "outages/incident.html", context)


@require_safe
@pagecache.cached(htmx=True, params=("q",))
def search(request: HtmxHttpRequest) -> HttpResponse:
    query = current.clean_query(request.GET.get("q", ""))
    results = current.search_areas(query)
    if request.htmx:
        return render(request, "outages/search.html#results", {"query": query, "results": results})
    if len(results) == 1:
        # One match: straight to it (the active search, as one types, still lists it).
        return redirect("area", results[0].area.slug)
    return render(request, "outages/search.html", {"query": query, "results": results})
