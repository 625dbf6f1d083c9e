"""The ops console. Every save goes through outages.services, so the admin
does exactly what the command line and the API do; every incident queryset
goes through outages.permissions (regional teams).

- incidents, forms: incidents and maintenance windows (views, actions,
  one-click template updates) and their forms and filters
- ops_history: the history report; credits: credit policies and the billing export
- contact: the local team's contact settings and wait credit policies; team_queue:
  each team's callbacks and messages, live, with their actions
- notifications: subscribers and the delivery log; conversations: chat and SMS
  accounts, conversation logs, counters; problem_reports: customer
  reports, unusual areas and their thresholds
- api_tokens, area_import, public_data: tokens, the import page, the
  "public data changed" push
- login: the sign-in throttle
- here: the site's titles and sign-in form; areas, regions, services, teams, update templates and the audit log

Imports: the write side, the read side, live and notify. Never views or api.
"""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import permissions, templating
from ..models import AuditEntry, Region, Service, ServiceArea, Team, TeamRegion, UpdateTemplate, normalize_postcode

# Each module registers its ModelAdmins when imported.
from . import (  # noqa: F401
    api_tokens,
    cadence,
    contact,
    conversations,
    credits,
    notifications,
    problem_reports,
    storm,
    team_queue,
)
from .area_import import AreaImportMixin
from .incidents import IncidentAdmin, IncidentForm, MaintenanceAdmin  # noqa: F401 (registers them)
from .login import ThrottledAdminAuthenticationForm
from .public_data import PublicDataAdmin
from .read_only import ReadOnlyAdmin
from .translations import TranslatedAdmin

# The console's site: its titles, and a sign-in throttled per username and per address.
admin.site.site_header = admin.site.site_title = "Status page · ops console"
admin.site.index_title = "Incidents and areas"
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(Region)
class RegionAdmin(TranslatedAdmin, PublicDataAdmin, admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position", "area_count", "translations_missing"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_filter = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(area_total=Count("areas"))

    @admin.display(description=_("areas"), ordering="area_total")
    def area_count(self, obj):
        return obj.area_total


@admin.register(ServiceArea)
class ServiceAreaAdmin(TranslatedAdmin, PublicDataAdmin, AreaImportMixin, admin.ModelAdmin):
    list_display = ["name", "region", "slug", "postcode_summary", "time_zone", "translations_missing"]
    list_filter = ["region", "time_zone"]
    search_fields = ["name", "aliases", "slug", "postcodes", "region__name"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["region"]
    inlines = [storm.CustomersServedInline]

    def get_search_results(self, request, queryset, search_term):
        # Postcodes are stored normalised (",1051,"): match what ops type ("1051", "sw1a 1aa").
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        code = normalize_postcode(search_term)
        if code:
            queryset |= self.model.objects.filter(postcodes__contains=f",{code}")
        return queryset, may_have_duplicates

    @admin.display(description=_("postcodes"))
    def postcode_summary(self, obj):
        codes = obj.postcode_list
        return ", ".join(codes[:6]) + (" …" if len(codes) > 6 else "")


@admin.register(Service)
class ServiceAdmin(TranslatedAdmin, PublicDataAdmin, admin.ModelAdmin):
    list_display = ["name", "slug", "position", "translations_missing"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class TeamRegionInline(admin.TabularInline):
    model = TeamRegion
    extra = 1
    autocomplete_fields = ["region"]


@admin.register(Team)
class TeamAdmin(TranslatedAdmin, PublicDataAdmin, admin.ModelAdmin):
    list_display = ["name", "public_name", "support_contact", "region_list", "translations_missing"]
    search_fields = ["name", "public_name"]
    filter_horizontal = ["members"]
    inlines = [TeamRegionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description=_("regions"))
    def region_list(self, obj):
        return ", ".join(region.name for region in obj.regions.all())


@admin.register(UpdateTemplate)
class UpdateTemplateAdmin(TranslatedAdmin, admin.ModelAdmin):
    list_display = ["name", "status", "crew_status", "preview", "open_link", "translations_missing"]
    search_fields = ["name", "title", "message"]
    fields = ["name", "title", "status", "impact", "cause", "crew_status", "message", "position"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        example = {
            "area": _("District 5"),
            "areas": _("District 5, District 6"),
            "eta": "16:30",
            "title": obj.title or obj.name,
            "customers": "1,200",
            "next_update": "15:00",
            "cause": _("Cable cut"),
            "crew": _("Crew on site"),
        }
        return templating.render_html(obj.message, example)

    @admin.display(description=_("open"))
    def open_link(self, obj):
        return format_html(
            '<a href="{}?template={}">{}</a>', reverse("admin:outages_incident_add"), obj.pk, _("Open an incident")
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: the log is written by the services, never edited."""

    list_display = ["created_at", "incident", "user", "action", "change_summary"]
    list_filter = ["action", "user"]
    search_fields = ["incident__title"]
    date_hierarchy = "created_at"
    list_select_related = ["incident", "user"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = permissions.incidents_for(request.user).values("pk")
        return queryset if permissions.sees_everything(request.user) else queryset.filter(incident__in=visible)

    def lookup_allowed(self, lookup, value, request=None):
        # The incident page links here with ?incident__id__exact=<id>.
        return lookup == "incident__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("changes"))
    def change_summary(self, obj):
        return "; ".join(f"{name}: {old or '—'} → {new or '—'}" for name, (old, new) in obj.changes.items())
