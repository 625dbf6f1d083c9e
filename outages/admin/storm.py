"""The console's storm pieces: customers served per service (an inline on the
service area) and the storm mode switch (one row, like the report thresholds)."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from ..models import CustomersServed, StormSettings
from .public_data import PublicDataAdmin


class CustomersServedInline(admin.TabularInline):
    """On the service area page: how many customers it has per service."""

    model = CustomersServed
    extra = 1
    fields = ["service", "customers"]


@admin.register(StormSettings)
class StormSettingsAdmin(PublicDataAdmin, admin.ModelAdmin):
    """One switch: the list goes straight to it."""

    def has_add_permission(self, request):
        # The one row, once, and only by someone allowed to add it.
        return super().has_add_permission(request) and not StormSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if StormSettings.objects.exists():
            return HttpResponseRedirect(reverse("admin:outages_stormsettings_change", args=[1]))
        return HttpResponseRedirect(reverse("admin:outages_stormsettings_add"))
