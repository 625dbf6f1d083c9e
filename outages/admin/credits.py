"""Credit policies and the billing export."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from ..models import CreditPolicy
from ..queries import credit_export as credits
from .public_data import PublicDataAdmin
from .translations import TranslatedAdmin


class CreditExportForm(forms.Form):
    since = forms.DateField(label=_("From (UTC, inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until (UTC, exclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError(_("The end of the range must be after its start."))
        return data


@admin.register(CreditPolicy)
class CreditPolicyAdmin(TranslatedAdmin, PublicDataAdmin, admin.ModelAdmin):
    list_display = [
        "service",
        "min_duration",
        "min_impact",
        "credit",
        "include_maintenance",
        "active",
        "translations_missing",
    ]
    list_filter = ["active", "service", "min_impact", "include_maintenance"]
    list_editable = ["active"]
    list_select_related = ["service"]
    search_fields = ["credit", "service__name"]
    fields = ["service", "min_duration", "min_impact", "credit", "include_maintenance", "active"]
    change_list_template = "admin/outages/creditpolicy/change_list.html"

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="outages_creditpolicy_export"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """Billing export: the credits earned in a date range, as CSV (columns in the README)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CreditExportForm(request.GET if "since" in request.GET else None)
        if form.is_valid():
            since, until = credits.day_start(form.cleaned_data["since"]), credits.day_start(form.cleaned_data["until"])
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            name = f"credits-{form.cleaned_data['since']:%Y%m%d}-{form.cleaned_data['until']:%Y%m%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            credits.write_credits_csv(response, since, until)
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Export service credits for billing"),
            "form": form,
            "columns": credits.CSV_COLUMNS,
        }
        return TemplateResponse(
            request, "admin/outages/creditpolicy/export.html", context, status=400 if form.errors else 200
        )
