"""The admin's bulk import of service areas: upload, preview the changes, confirm.

The same importer as `manage.py import_areas` (outages.services.area_import). The
uploaded file waits in the operator's session between the preview and the
confirmation, and is planned again on confirm, so what is applied is checked
against the database as it is then.
"""

import base64
import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..services import area_import

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SESSION_KEY = "area_import"
PREVIEW_ROWS = 500


class AreaImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("GeoJSON or CSV file"),
        help_text=gettext_lazy(
            "GeoJSON: a FeatureCollection of Polygon/MultiPolygon features with name, slug, region and postcodes "
            "properties. CSV: columns name, slug, region, postcodes. Areas are matched by slug."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20})
        return upload


class AreaImportMixin:
    """Adds "Import areas" (upload → preview → confirm) to a ModelAdmin's change list."""

    change_list_template = "admin/outages/servicearea/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="outages_servicearea_import"), *super().get_urls()]

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("Import areas")}
        if request.method == "POST" and request.POST.get("token"):
            return self._confirm(request, context)
        form = AreaImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                plan = area_import.plan(data, upload.name)
            except area_import.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                token = secrets.token_urlsafe(16)
                request.session[SESSION_KEY] = {
                    "token": token,
                    "name": upload.name,
                    "data": base64.b64encode(data).decode("ascii"),
                }
                return self._preview(request, context, plan, token, upload.name)
        return TemplateResponse(request, "admin/outages/servicearea/import.html", {**context, "form": form})

    def _preview(self, request, context, plan, token, name):
        shown = [change for change in plan.changes if change.action != "unchanged"]
        return TemplateResponse(
            request,
            "admin/outages/servicearea/import_preview.html",
            {
                **context,
                "plan": plan,
                "token": token,
                "file_name": name,
                "changes": shown[:PREVIEW_ROWS],
                "more_changes": max(0, len(shown) - PREVIEW_ROWS),
            },
        )

    def _confirm(self, request, context):
        stored = request.session.get(SESSION_KEY) or {}
        if stored.get("token") != request.POST["token"]:
            messages.error(request, _("That import has expired or was replaced; upload the file again."))
            return redirect(reverse("admin:outages_servicearea_import"))
        data = base64.b64decode(stored["data"])
        try:
            plan = area_import.run(data, stored["name"], skip_invalid=bool(request.POST.get("skip_invalid")))
        except area_import.ImportRefused as refused:
            messages.error(request, _("Nothing was imported: the file has invalid rows."))
            return self._preview(request, context, refused.plan, stored["token"], stored["name"])
        except area_import.ImportFileError as error:
            messages.error(request, str(error))
            return redirect(reverse("admin:outages_servicearea_import"))
        del request.session[SESSION_KEY]
        messages.success(
            request, _("Imported %(name)s: %(summary)s.") % {"name": stored["name"], "summary": plan.summary()}
        )
        return redirect(reverse("admin:outages_servicearea_changelist"))
