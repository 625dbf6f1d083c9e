"""The storm summary page: per region, customers out of customers served,
sortable by any column with plain links (no script needed), updated live
through the status group's push."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..live import groups, pagecache
from ..queries import summary
from .public import HtmxHttpRequest


def sort_context(request) -> dict:
    key = request.GET.get("sort", "")
    key = key if key in summary.SORT_KEYS else ""
    descending = request.GET.get("order") == "desc"
    return {"sort": key, "descending": descending}


@require_safe
@pagecache.cached(params=("sort", "order"))
def summary_page(request: HtmxHttpRequest):
    table = summary.storm_summary()
    order = sort_context(request)
    context = {
        "summary": table,
        "rows": table.sorted(order["sort"], order["descending"]),
        **order,
        "live_url": groups.live_url(groups.status_path()),
    }
    return render(request, "outages/summary.html", context)
