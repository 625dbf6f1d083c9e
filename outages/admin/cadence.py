"""The console's live list of incidents whose promised public update is due
within 10 minutes or overdue (outages.queries.cadence), refreshed every 10
seconds like the unusual-reports page (the incident list flags the same
with outages.queries.cadence.is_due_soon and current.is_overdue)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import UpdateDue
from ..queries import cadence, current
from .read_only import ReadOnlyAdmin


@admin.register(UpdateDue)
class UpdateDueAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Not a table to edit: the list goes to the live page."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("outages.view_incident") or request.user.has_perm("outages.change_incident")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.due_view), name="outages_updatedue_changelist"),
            # Not admin_view: a poll after the session ended must not swap the login page in.
            path("fragment/", self.due_fragment, name="outages_updatedue_fragment"),
        ]

    def _due_context(self, request) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        rows = [
            {"incident": incident, "overdue": current.is_overdue(incident, now)}
            for incident in cadence.due_incidents(permissions.incidents_for(request.user), now)
        ]
        return {"rows": rows, "now": now, "due_soon_minutes": int(cadence.DUE_SOON.total_seconds() // 60)}

    def due_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Updates due"),
            "opts": self.model._meta,
            **self._due_context(request),
        }
        return TemplateResponse(request, "admin/outages/updatedue/due.html", context)

    def due_fragment(self, request):
        """What the page polls every 10 seconds (htmx)."""
        if not self.admin_site.has_permission(request):
            # 286 tells htmx to stop polling; the message replaces the list.
            context = {"login_url": reverse("admin:login") + "?next=" + reverse("admin:outages_updatedue_changelist")}
            return TemplateResponse(request, "admin/outages/updatedue/due.html#session-ended", context, status=286)
        return TemplateResponse(request, "admin/outages/updatedue/due.html#due-list", self._due_context(request))

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("admin:outages_updatedue_changelist"))
