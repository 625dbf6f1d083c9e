"""The ops console. Every save goes through outages.services, so the admin
does exactly what the command line and the API do."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Incident, IncidentStatus, Region, Service, ServiceArea, normalize_postcode


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position", "area_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_filter = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(area_total=Count("areas"))

    @admin.display(description=_("areas"), ordering="area_total")
    def area_count(self, obj):
        return obj.area_total


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "slug", "postcode_summary", "time_zone"]
    list_filter = ["region", "time_zone"]
    search_fields = ["name", "slug", "postcodes", "region__name"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["region"]

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
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class IncidentForm(forms.ModelForm):
    """The incident's facts plus the "post an update" fields, the main action."""

    # Declared here: the admin leaves out many-to-many fields with a through model.
    areas = forms.ModelMultipleChoiceField(
        label=_("Affected areas"),
        queryset=ServiceArea.objects.select_related("region"),
        widget=admin.widgets.FilteredSelectMultiple(_("areas"), is_stacked=False),
    )
    update_status = forms.ChoiceField(label=_("New status"), choices=IncidentStatus.choices, required=False)
    update_message = forms.CharField(
        label=_("Message to customers"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False
    )
    update_eta = forms.DateTimeField(
        label=_("Estimated restoration"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In the site's time zone. Leave as it is to keep the current estimate; clear it to withdraw it."),
    )
    reopen = forms.BooleanField(
        label=_("Reopen this resolved incident"), required=False, help_text=_("Needed to post a non-resolved status.")
    )

    class Meta:
        model = Incident
        fields = ["title", "impact", "cause", "cause_detail", "areas", "services"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        incident = self.instance
        if incident.pk:
            self.fields["areas"].initial = list(incident.areas.values_list("pk", flat=True))
            self.fields["update_status"].initial = incident.status
            self.fields["update_eta"].initial = incident.eta
        else:
            self.fields["update_status"].required = True
            self.fields["update_status"].choices = [
                choice for choice in IncidentStatus.choices if choice[0] != IncidentStatus.RESOLVED
            ]
            del self.fields["reopen"]

    def wants_update(self) -> bool:
        """A change page posts an update only when the operator said something new."""
        data = self.cleaned_data
        if not self.instance.pk:
            return True
        return (
            bool(data.get("update_message"))
            or data.get("update_status") != self.instance.status
            or self.eta_for_update() is not services.KEEP
        )

    def eta_for_update(self):
        """The posted ETA, or KEEP when the operator left the prefilled one alone."""
        posted = self.cleaned_data.get("update_eta")
        current = self.instance.eta
        # The input shows minutes only, so compare at that precision.
        if posted == (current.replace(second=0, microsecond=0) if current else None):
            return services.KEEP
        return posted

    def clean(self):
        # The service functions' own checks, run before anything is saved, so
        # an error shows on the form with the operator's text intact.
        data = super().clean()
        if self.errors:
            return data
        try:
            if not self.instance.pk:
                services.validate_new_incident(
                    title=data.get("title", ""),
                    areas=data.get("areas") or [],
                    impact=data.get("impact"),
                    status=data.get("update_status"),
                    eta=data.get("update_eta"),
                )
            elif self.wants_update():
                services.validate_update(
                    self.instance,
                    status=data.get("update_status") or self.instance.status,
                    eta=self.eta_for_update(),
                    reopen=data.get("reopen", False),
                )
        except ValidationError as error:
            field_map = {"eta": "update_eta", "status": "update_status", "message": "update_message"}
            errors_by_field = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
            for field, errors in errors_by_field.items():
                target = field_map.get(field, field)
                self.add_error(target if target in self.fields else None, errors)
        return data


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ["title", "status", "impact", "area_list", "eta", "started_at", "resolved_at", "view_on_site_link"]
    list_filter = ["status", "impact", "cause", "areas__region", "areas"]
    search_fields = ["title", "areas__name", "updates__message"]
    date_hierarchy = "started_at"
    readonly_fields = ["status", "eta", "started_at", "resolved_at", "timeline"]
    actions = ["resolve_selected"]

    def get_fieldsets(self, request, obj=None):
        post = (_("Post an update"), {"fields": ["update_status", "update_message", "update_eta"] + (["reopen"] if obj else [])})
        facts = (_("Incident"), {"fields": ["title", "impact", "cause", "cause_detail", "areas", "services"]})
        if obj is None:
            return [facts, post]
        return [post, facts, (_("Current state"), {"fields": ["status", "eta", "started_at", "resolved_at"]}),
                (_("Timeline (newest first)"), {"fields": ["timeline"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description=_("areas"))
    def area_list(self, obj):
        names = [area.name for area in obj.areas.all()]
        return ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else "")

    @admin.display(description=_("updates"))
    def timeline(self, obj):
        # Read-only: history is added to, never edited. The author shows here
        # (ops need it) and nowhere public.
        rows = format_html_join(
            "",
            "<li><strong>{}</strong> · {} · {}<br>{}{}</li>",
            (
                (
                    update.get_status_display(),
                    date_format(timezone.localtime(update.created_at), "SHORT_DATETIME_FORMAT"),
                    update.author or "—",
                    update.message,
                    format_html(" <em>ETA {}</em>", date_format(timezone.localtime(update.eta), "SHORT_DATETIME_FORMAT"))
                    if update.eta
                    else "",
                )
                for update in obj.updates.select_related("author")
            ),
        )
        return format_html('<ol class="timeline">{}</ol>', rows)

    @admin.display(description=_("public page"))
    def view_on_site_link(self, obj):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(), _("view"))

    def save_model(self, request, obj, form, change):
        # The services own the write; the admin only translates the form.
        data = form.cleaned_data
        if not change:
            created = services.open_incident(
                title=data["title"],
                areas=data["areas"],
                services=data["services"],
                impact=data["impact"],
                status=data["update_status"],
                message=data["update_message"],
                eta=data["update_eta"],
                cause=data["cause"],
                cause_detail=data["cause_detail"],
                author=request.user,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        services.edit_incident(
            obj,
            title=data["title"],
            impact=data["impact"],
            cause=data["cause"],
            cause_detail=data["cause_detail"],
            areas=data["areas"],
            services=data["services"],
        )
        if form.wants_update():
            services.post_update(
                obj,
                status=data["update_status"] or obj.status,
                message=data["update_message"],
                eta=form.eta_for_update(),
                author=request.user,
                reopen=data.get("reopen", False),
            )
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Areas and services were saved by the service functions; the
        # timeline inline is read-only.
        pass

    @admin.action(description=_("Resolve selected incidents"))
    def resolve_selected(self, request, queryset):
        resolved = 0
        for incident in queryset.active():
            services.resolve(incident, message="", author=request.user)
            resolved += 1
        self.message_user(request, _("%(count)d incident(s) resolved.") % {"count": resolved}, messages.SUCCESS)

from . import admin_notifications  # noqa: E402,F401  (subscribers and the delivery log)
