"""The ops history report in the admin: per region, area and service over the
last 90 days, how often the first ETA held, the median slip, the mean time to
restore and availability. Reached from the incident list ("History report").

Per team: outages.queries.history.eta_honesty_for_areas(team_areas) and
mean_time_to_restore_for_areas(team_areas) take any ServiceArea queryset.
"""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..queries import history, ops_history


def report_view(model_admin):
    def view(request):
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        report = ops_history.ops_report()
        context = {
            **model_admin.admin_site.each_context(request),
            "title": _("History report: the last %(days)d days") % {"days": history.HISTORY_DAYS},
            "opts": model_admin.model._meta,
            "report": report,
            "region_rows": [report.overall, *report.regions],
            "overall_sentence": report.overall.eta.sentence(here=False),
        }
        return TemplateResponse(request, "admin/outages/history_report.html", context)

    return view
