"""The local team's contact settings (hours, capacity, holidays, introduction
and photo) and the wait credit policies; the introduction and the credit's
wording have an input per language. Team members' phone numbers and texts
are not here: the request queue follows the team (outages.permissions)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import TeamContact, WaitCredit, WaitCreditPolicy
from .read_only import ReadOnlyAdmin
from .translations import TranslatedAdmin


@admin.register(TeamContact)
class TeamContactAdmin(TranslatedAdmin, admin.ModelAdmin):
    list_display = ["team", "enabled", "callbacks_per_hour", "translations_missing"]
    list_select_related = ["team"]


@admin.register(WaitCreditPolicy)
class WaitCreditPolicyAdmin(TranslatedAdmin, admin.ModelAdmin):
    list_display = ["threshold_minutes", "credit", "active", "translations_missing"]


@admin.register(WaitCredit)
class WaitCreditAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    # Read-only: billing keeps every credit once recorded.
    # Only what billing needs: the request's area, the lateness and the wording, never the customer's number.
    list_display = ["recorded_at", "area", "minutes_late", "credit"]
    fields = ["recorded_at", "minutes_late", "credit", "policy"]
    readonly_fields = fields
    list_select_related = ["request__area", "policy"]

    @admin.display(description=_("area"))
    def area(self, obj):
        return obj.request.area
