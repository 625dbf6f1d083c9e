"""The ops console for customer problem reports: the reports (read-only),
the live "unusual report activity" page with its one-click "open incident
from these reports", and the thresholds ops tune."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import permissions
from ..models import ProblemReport, ReportSettings, ServiceArea
from ..queries import problem_reports as reports
from ..services import problem_reports
from .public_data import PublicDataAdmin


@admin.register(ProblemReport)
class ProblemReportAdmin(admin.ModelAdmin):
    """Reports are evidence: read-only. The live "unusual activity" page is the main view."""

    list_display = ["created_at", "area", "service", "problem", "postcode", "incident"]
    list_filter = ["problem", "service", "area__region", ("incident", admin.EmptyFieldListFilter)]
    search_fields = ["area__name", "postcode"]
    list_select_related = ["area", "service", "incident"]
    date_hierarchy = "created_at"
    change_list_template = "admin/outages/problemreport/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Reports of the user's teams' areas only (outages.permissions).
        visible = permissions.areas_for(request.user).values("pk")
        queryset = super().get_queryset(request)
        return queryset if permissions.sees_everything(request.user) else queryset.filter(area__in=visible)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("hot/", view(self.hot_view), name="outages_problemreport_hot"),
            # Not admin_view: a poll after the session ended must not swap the login page in.
            path("hot/fragment/", self.hot_fragment, name="outages_problemreport_hot_fragment"),
            path(
                "hot/<int:area_id>/open/", view(require_POST(self.open_from_reports)), name="outages_problemreport_open"
            ),
        ] + super().get_urls()

    def _hot_context(self, request) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {
            "hot_areas": [hot for hot in reports.hot_areas() if permissions.may_use_area(request.user, hot.area)],
            "now": timezone.now(),
            "settings": ReportSettings.load(),
            "can_open": request.user.has_perm("outages.add_incident"),
        }

    def hot_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unusual report activity"),
            "opts": self.model._meta,
            **self._hot_context(request),
        }
        return TemplateResponse(request, "admin/outages/problemreport/hot_areas.html", context)

    def hot_fragment(self, request):
        """What the hot-areas page polls every 10 seconds (htmx)."""
        if not self.admin_site.has_permission(request):
            # 286 tells htmx to stop polling; the message replaces the list.
            context = {"login_url": reverse("admin:login") + "?next=" + reverse("admin:outages_problemreport_hot")}
            return TemplateResponse(
                request, "admin/outages/problemreport/hot_areas.html#session-ended", context, status=286
            )
        return TemplateResponse(
            request, "admin/outages/problemreport/hot_areas.html#hot-areas", self._hot_context(request)
        )

    def open_from_reports(self, request, area_id: int):
        if not (self.has_view_permission(request) and request.user.has_perm("outages.add_incident")):
            raise PermissionDenied
        area = get_object_or_404(ServiceArea, pk=area_id)
        if not permissions.may_use_area(request.user, area):
            raise PermissionDenied
        try:
            incident = problem_reports.open_incident_from_reports(area, author=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:outages_problemreport_hot"))
        self.message_user(
            request,
            _(
                "Incident opened for %(area)s from customer reports. Check the title, impact and services, then post an update."
            )
            % {"area": area.name},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:outages_incident_change", args=[incident.pk]))


@admin.register(ReportSettings)
class ReportSettingsAdmin(PublicDataAdmin, admin.ModelAdmin):
    """One row of thresholds: the list goes straight to it."""

    def has_add_permission(self, request):
        # The one row, once, and only by someone allowed to add it.
        return super().has_add_permission(request) and not ReportSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if ReportSettings.objects.exists():
            return HttpResponseRedirect(reverse("admin:outages_reportsettings_change", args=[1]))
        return HttpResponseRedirect(reverse("admin:outages_reportsettings_add"))
