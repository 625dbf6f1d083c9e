"""Forms and list filters of the incident and maintenance consoles."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .. import permissions, services, templating
from ..models import (
    ACTIVE_STATUSES,
    CrewStatus,
    Incident,
    IncidentStatus,
    Kind,
    MaintenanceStatus,
    MaintenanceWindow,
    ServiceArea,
    UpdateTemplate,
)
from . import estimate_hint, quick_eta
from .translations import TranslatedFormMixin, language_fields

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# The update's message in each language besides the default one:
# update_message_hu, update_message_he... optional; customers read their
# language where given and the default message otherwise.
OTHER_LANGUAGES = [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
MESSAGE_TRANSLATION_FIELDS = [f"update_message_{code}" for code, _name in OTHER_LANGUAGES]
MessageTranslationFields = type(
    "MessageTranslationFields",
    (forms.Form,),
    {
        f"update_message_{code}": forms.CharField(
            label=format_lazy("{} ({})", _("Message to customers"), name),
            widget=forms.Textarea(attrs={"rows": 2, "cols": 80, "lang": code, "dir": "auto"}),
            required=False,
            help_text=_("Optional. Customers who read this language see it instead of the message above."),
        )
        for code, name in OTHER_LANGUAGES
    },
)


def message_translations(data) -> dict[str, str]:
    """{"hu": ..., "he": ...} from a form's cleaned data (blank ones left out)."""
    return {
        code: data[f"update_message_{code}"].strip()
        for code, _name in OTHER_LANGUAGES
        if (data.get(f"update_message_{code}") or "").strip()
    }


# The title and cause in each other language, next to the default ones (title_hu, cause_detail_he, ...).
IncidentTranslationFields = type("IncidentTranslationFields", (forms.Form,), language_fields(Incident))
TITLE_TRANSLATION_FIELDS = [name for name in IncidentTranslationFields.base_fields if name.startswith("title_")]
CAUSE_TRANSLATION_FIELDS = [name for name in IncidentTranslationFields.base_fields if name.startswith("cause_detail_")]


class IncidentForm(TranslatedFormMixin, forms.ModelForm, MessageTranslationFields, IncidentTranslationFields):
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
        widget=DATETIME_WIDGET,
        help_text=_("In the site's time zone. Leave as it is to keep the current estimate; clear it to withdraw it."),
    )
    eta_choice = quick_eta.QuickEtaField()
    update_crew_status = forms.ChoiceField(label=_("Crew status"), choices=CrewStatus.choices, required=False)
    update_eta_stage = estimate_hint.stage_field()
    update_next_update_at = forms.DateTimeField(
        label=_("Next update by"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_(
            "A promise to customers of when the next update comes; the incident is flagged overdue if it passes."
        ),
    )
    reopen = forms.BooleanField(
        label=_("Reopen this resolved incident"), required=False, help_text=_("Needed to post a non-resolved status.")
    )
    area_customers = forms.CharField(
        label=_("Customers affected per area"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_(
            "Optional, one line per area: its name, a colon and the estimate (District 5: 1200). "
            "Areas not listed show the incident's estimate."
        ),
    )
    # Optimistic concurrency: the version the operator saw.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    template = forms.ModelChoiceField(queryset=UpdateTemplate.objects.all(), required=False, widget=forms.HiddenInput)

    kind = Kind.INCIDENT
    request = None  # set by IncidentAdmin.get_form

    class Meta:
        model = Incident
        fields = ["title", "impact", "cause", "cause_detail", "customers_affected", "areas", "services"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        incident = self.instance
        self.now = timezone.now()
        self.fields["update_eta"].help_text = format_lazy(
            "{} {}",
            _("Times are in %(zone)s.") % {"zone": quick_eta.zone_label(self.now)},
            _("Leave as it is to keep the current estimate; clear it to withdraw it."),
        )
        statuses = MaintenanceStatus if self.kind == Kind.MAINTENANCE else IncidentStatus
        self.fields["update_status"].choices = statuses.choices
        user = self.request.user if self.request else None
        self.fields["areas"].queryset = permissions.areas_for(user, self.fields["areas"].queryset)
        if incident.pk:
            self.hidden_areas = permissions.hidden_area_ids(user, incident)
            self.fields["areas"].initial = [
                pk for pk in incident.areas.values_list("pk", flat=True) if pk not in self.hidden_areas
            ]
            self.fields["areas"].required = not self.hidden_areas
            self.fields["update_status"].initial = incident.status
            if incident.is_closed and self.request is not None and self.request.GET.get("reopen") == "1":
                self.fields["update_status"].initial = (
                    MaintenanceStatus.IN_PROGRESS if self.kind == Kind.MAINTENANCE else IncidentStatus.INVESTIGATING
                )
            self.fields["update_eta"].initial = incident.eta
            self.fields["update_crew_status"].initial = incident.crew_status
            self.fields["seen_version"].initial = incident.version
            self.fields["area_customers"].initial = "\n".join(
                f"{link.area.name}: {link.customers_affected}"
                for link in incident.incident_areas.select_related("area").order_by("area__name")
                if link.customers_affected is not None
            )
            del self.fields["template"]
        else:
            self.hidden_areas = set()
            self.fields["update_status"].required = True
            self.fields["update_status"].choices = [
                choice
                for choice in statuses.choices
                if choice[0] not in (IncidentStatus.RESOLVED, MaintenanceStatus.COMPLETED)
            ]
            self.fields["update_crew_status"].initial = CrewStatus.NOT_ASSIGNED
            del self.fields["reopen"]
            del self.fields["seen_version"]
            del self.fields["area_customers"]
        estimate_hint.apply(self)

    def _area_customers(self) -> dict[int, int | None] | None:
        """{area id: estimate} for every area the form leaves the incident with (None: no own estimate)."""
        if "area_customers" not in self.fields or self.add_prefix("area_customers") not in self.data:
            return None  # not on this form (or not posted): leave the estimates as they are
        areas = {area.name.casefold(): area for area in self.cleaned_data.get("areas") or []}
        areas.update({area.slug: area for area in areas.values()})
        estimates: dict[int, int | None] = {area.pk: None for area in areas.values()}
        for number, line in enumerate(self.cleaned_data.get("area_customers", "").splitlines(), start=1):
            if not line.strip():
                continue
            name, _sep, count = line.rpartition(":")
            area = areas.get(name.strip().casefold())
            if area is None:
                raise ValidationError(
                    _("Line %(number)d: “%(name)s” is not one of the affected areas.")
                    % {"number": number, "name": name.strip() or line.strip()}
                )
            try:
                estimates[area.pk] = int(count.strip().replace(",", "").replace(" ", ""))
            except ValueError:
                raise ValidationError(
                    _("Line %(number)d: the estimate must be a whole number.") % {"number": number}
                ) from None
            if estimates[area.pk] < 0:
                raise ValidationError(_("Line %(number)d: the estimate cannot be negative.") % {"number": number})
        return estimates

    def wants_update(self) -> bool:
        """A change page posts an update only when the operator said something new."""
        data = self.cleaned_data
        if not self.instance.pk:
            return True
        return (
            bool(data.get("update_message"))
            or bool(message_translations(data))
            or data.get("update_status") != self.instance.status
            or self.eta_for_update() is not services.KEEP
            or (data.get("update_crew_status") or self.instance.crew_status) != self.instance.crew_status
            or data.get("update_next_update_at") is not None
            or bool(data.get("update_eta_stage"))
        )

    def eta_for_update(self):
        """The posted ETA, or KEEP when the operator left the prefilled one alone.
        A quick choice ("+2 h", "end of today", "keep", "clear") wins over the typed time."""
        choice = self.cleaned_data.get("eta_choice")
        if choice:
            return quick_eta.resolve(choice, now=self.now, current=self.instance.eta)
        posted = self.cleaned_data.get("update_eta")
        current = self.instance.eta
        # The input shows minutes only, so compare at that precision.
        if posted == (current.replace(second=0, microsecond=0) if current else None):
            return services.KEEP
        return posted

    def all_areas(self):
        """The chosen areas plus those outside the operator's regions, which stay as they are."""
        chosen = list(self.cleaned_data.get("areas") or [])
        if self.hidden_areas:
            chosen += list(ServiceArea.objects.filter(pk__in=self.hidden_areas))
        return chosen

    def message_for_update(self) -> str:
        """The message, with a template's {placeholders} filled in when the incident is opened from one."""
        data = self.cleaned_data
        message = data.get("update_message") or ""
        template = data.get("template")
        if template is None:
            return message
        return templating.render(message or template.message, self._template_values())

    def translations_for_update(self) -> dict[str, str]:
        """The message in other languages; from a template, filled in with each language's values."""
        given = message_translations(self.cleaned_data)
        if self.cleaned_data.get("template") is None:
            return given
        filled = {}
        for code, text in given.items():
            with translation.override(code):
                filled[code] = templating.render(text, self._template_values())
        return filled

    def _template_values(self) -> dict:
        data = self.cleaned_data
        return templating.values_for(
            None,
            areas=self.all_areas(),
            eta=data.get("update_eta"),
            next_update_at=data.get("update_next_update_at"),
            customers=data.get("customers_affected"),
            title=data.get("title"),
        )

    def clean(self):
        # The service functions' own checks, run before anything is saved, so
        # an error shows on the form with the operator's text intact.
        data = super().clean()
        if self.errors:
            return data
        try:
            # Parsed here, not in a field clean: it needs the cleaned areas.
            data["area_customers"] = self._area_customers()
        except ValidationError as error:
            self.add_error("area_customers", error)
            return data
        if self.instance.pk and data.get("seen_version") != self.instance.version:
            raise ValidationError(services.STALE_MESSAGE, code="stale")
        eta = self.eta_for_update() if self.instance.pk else data.get("update_eta")
        status = data.get("update_status") or self.instance.status
        if eta is not services.KEEP and status not in (IncidentStatus.RESOLVED, MaintenanceStatus.COMPLETED):
            try:
                quick_eta.check(eta, self.now)
            except ValidationError as error:
                self.add_error("update_eta", error)
                return data
        try:
            self.validate_with_services(data)
        except ValidationError as error:
            field_map = {
                "eta": "update_eta",
                "status": "update_status",
                "message": "update_message",
                "crew_status": "update_crew_status",
                "next_update_at": "update_next_update_at",
            }
            errors_by_field = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
            for field, errors in errors_by_field.items():
                target = field_map.get(field, field)
                self.add_error(target if target in self.fields else None, errors)
        return data

    def validate_with_services(self, data) -> None:
        if not self.instance.pk:
            services.validate_new_incident(
                title=data.get("title", ""),
                areas=data.get("areas") or [],
                impact=data.get("impact"),
                status=data.get("update_status"),
                eta=data.get("update_eta"),
                crew_status=data.get("update_crew_status") or None,
                next_update_at=data.get("update_next_update_at"),
            )
        elif self.wants_update():
            services.validate_update(
                self.instance,
                status=data.get("update_status") or self.instance.status,
                eta=self.eta_for_update(),
                reopen=data.get("reopen", False),
                crew_status=data.get("update_crew_status") or None,
                next_update_at=data.get("update_next_update_at"),
            )


class MaintenanceForm(IncidentForm):
    kind = Kind.MAINTENANCE
    scheduled_for = forms.DateTimeField(label=_("Scheduled start"), widget=DATETIME_WIDGET)
    scheduled_until = forms.DateTimeField(label=_("Scheduled end"), widget=DATETIME_WIDGET)

    class Meta(IncidentForm.Meta):
        model = MaintenanceWindow
        fields = ["title", "impact", "customers_affected", "areas", "services", "scheduled_for", "scheduled_until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            # A new window is announced as scheduled; the scheduler starts and completes it.
            for name in ["update_status", "update_eta", "update_crew_status", "update_next_update_at", "template"]:
                del self.fields[name]

    def validate_with_services(self, data) -> None:
        start, end = data.get("scheduled_for"), data.get("scheduled_until")
        if start and end and end <= start:
            raise ValidationError({"scheduled_until": _("A maintenance window must end after it starts.")})
        if self.instance.pk:
            super().validate_with_services(data)


class OverdueFilter(admin.SimpleListFilter):
    title = _("next update")
    parameter_name = "promise"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("promised", _("Promised"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status__in=ACTIVE_STATUSES, next_update_at__lte=now)
        if self.value() == "promised":
            return queryset.filter(status__in=ACTIVE_STATUSES, next_update_at__gt=now)
        return queryset


class ResolveForm(forms.Form):
    message = forms.CharField(
        label=_("Closing message to customers"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        required=False,
        help_text=_("Posted as the final update of every selected incident."),
    )


class AddAreasForm(forms.Form):
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas to add"),
        queryset=ServiceArea.objects.select_related("region"),
        widget=admin.widgets.FilteredSelectMultiple(_("areas"), is_stacked=False),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = permissions.areas_for(user, self.fields["areas"].queryset)


class UpcomingFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("running", _("Running now")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        if self.value() == "upcoming":
            return queryset.filter(status=MaintenanceStatus.SCHEDULED)
        if self.value() == "running":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if self.value() == "past":
            return queryset.filter(Q(status=MaintenanceStatus.COMPLETED))
        return queryset
