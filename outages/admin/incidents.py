"""Incidents and maintenance windows in the ops console.

Every save goes through outages.services; every queryset, form, action and
extra view goes through outages.permissions, so an operator works only on
incidents touching their team's regions, whatever they POST.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import permissions, services, templating
from ..models import (
    ACTIVE_STATUSES,
    CrewStatus,
    Incident,
    IncidentStatus,
    Kind,
    MaintenanceStatus,
    MaintenanceWindow,
    UpdateTemplate,
)
from ..queries import cadence
from . import bulk_update, incident_page, post_summary, quick_eta, translations
from .forms import (
    CAUSE_TRANSLATION_FIELDS,
    MESSAGE_TRANSLATION_FIELDS,
    TITLE_TRANSLATION_FIELDS,
    AddAreasForm,
    IncidentForm,
    MaintenanceForm,
    OverdueFilter,
    ResolveForm,
    UpcomingFilter,
    message_translations,
)
from .ops_history import report_view


def _when(value) -> str:
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


def _two_lines(value, now):
    """ "today 16:30" over "in 2 h": narrow enough for the list at 1024 px."""
    day, _sep, rest = quick_eta.words(value, now).partition(", ")
    return format_html('<span class="console-when">{}</span><br><small>{}</small>', day, rest)


class BaseIncidentAdmin(admin.ModelAdmin):
    """What incidents and maintenance windows share: permissions, facts, timeline, audit."""

    kind = Kind.INCIDENT
    date_hierarchy = "started_at"
    search_fields = ["title", "areas__name", "updates__message"]
    change_form_template = "admin/outages/incident/change_form.html"
    actions = ["post_update_selected", "resolve_selected", "add_areas"]
    # One link to the public page ("View as customer"), not three.
    view_on_site = False

    class Media:
        css = {"all": ["css/console.css"]}
        js = ["js/console.js"]

    # Row-level permissions ---------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(kind=self.kind).prefetch_related("areas")
        return permissions.incidents_for(request.user, queryset)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.can_manage(request.user, obj))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or permissions.can_manage(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        # History is kept: only a superuser deletes an incident (and its audit log).
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A race the form could not see (someone saved in between): nothing was saved.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    # Display -----------------------------------------------------------

    @admin.display(description=_("translations"))
    def translations_missing(self, obj):
        return translations.missing_label(obj)

    @admin.display(description=_("areas"))
    def area_list(self, obj):
        names = [area.name for area in obj.areas.all()]
        more = f" +{len(names) - 4}" if len(names) > 4 else ""
        # Each name in one piece: a narrow column breaks between names, not inside one.
        return format_html(
            "{}{}", format_html_join(", ", '<span class="console-when">{}</span>', ((n,) for n in names[:4])), more
        )

    @admin.display(description=_("next update"), ordering="next_update_at")
    def promise(self, obj):
        if obj.next_update_at is None or obj.status not in ACTIVE_STATUSES:
            return "—"
        now = timezone.now()
        if obj.next_update_at <= now:
            return format_html(
                '<strong class="console-overdue">{}</strong><br>{}', _("Overdue"), _two_lines(obj.next_update_at, now)
            )
        if cadence.is_due_soon(obj):
            return format_html(
                '<strong class="update-due--soon">{}</strong><br>{}', _("Due soon"), _two_lines(obj.next_update_at, now)
            )
        return _two_lines(obj.next_update_at, now)

    @admin.display(description=_("ETA"), ordering="eta")
    def eta_words(self, obj):
        if obj.eta is None or obj.status not in ACTIVE_STATUSES:
            return "—"
        return _two_lines(obj.eta, timezone.now())

    @admin.display(description=_("public page"))
    def view_on_site_link(self, obj):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(), _("View as customer")
        )

    @admin.display(description=_("updates"))
    def timeline(self, obj):
        # Read-only: history is added to, never edited. The author shows here
        # (ops need it) and nowhere public.
        rows = format_html_join(
            "",
            "<li><strong>{}</strong> · {} · {}<br>{}{}{}</li>",
            (
                (
                    update.get_status_display(),
                    _when(update.created_at),
                    update.author or "—",
                    update.message,
                    format_html(" <em>ETA {}</em>", _when(update.eta)) if update.eta else "",
                    format_html(" <em>{} {}</em>", _("next update by"), _when(update.next_update_at))
                    if update.next_update_at
                    else "",
                )
                for update in obj.updates.select_related("author")
            ),
        )
        return format_html('<ol class="timeline">{}</ol>', rows)

    @admin.display(description=_("audit log"))
    def audit_log(self, obj):
        entries = obj.audit_entries.select_related("user")[:50]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _when(entry.created_at),
                    entry.user or _("system"),
                    entry.get_action_display(),
                    format_html_join(
                        "",
                        "<div><code>{}</code>: {} → {}</div>",
                        ((name, values[0] or "—", values[1] or "—") for name, values in entry.changes.items()),
                    ),
                )
                for entry in entries
            ),
        )
        link = reverse("admin:outages_auditentry_changelist") + f"?incident__id__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">{}</a></p>',
            _("when"),
            _("who"),
            _("action"),
            _("changes"),
            rows,
            link,
            _("Full audit log"),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["update_templates"] = UpdateTemplate.objects.all() if obj and self.kind == Kind.INCIDENT else []
        context["is_nav_sidebar_enabled"] = False  # the width goes to the work
        if obj is not None:
            context["console"] = incident_page.context(request, obj, context["adminform"].form)
            context["title"] = obj.title
            context["subtitle"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Saving through the services ---------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = self.create(request, form, data)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        services.edit_incident(
            obj,
            title=data["title"],
            impact=data["impact"],
            cause=data.get("cause"),
            cause_detail=data.get("cause_detail"),
            title_translations=form.translations("title"),
            cause_detail_translations=form.translations("cause_detail") if "cause_detail" in form.fields else None,
            customers_affected=data.get("customers_affected"),
            area_customers=data.get("area_customers"),
            areas=form.all_areas(),
            services=data["services"],
            scheduled_for=data.get("scheduled_for"),
            scheduled_until=data.get("scheduled_until"),
            expected_version=data.get("seen_version"),
            author=request.user,
        )
        if form.wants_update():
            update = services.post_update(
                obj,
                status=data["update_status"] or obj.status,
                message=data["update_message"],
                message_translations=message_translations(data),
                eta=form.eta_for_update(),
                author=request.user,
                reopen=data.get("reopen", False),
                crew_status=data.get("update_crew_status") or None,
                next_update_at=data.get("update_next_update_at"),
                eta_stage=data.get("update_eta_stage") or None,
            )
            request.console_posted = update
        obj.refresh_from_db()

    def response_change(self, request, obj):
        # Say what happened, not Django's "was changed successfully".
        update = getattr(request, "console_posted", None)
        stay = "_post_update" in request.POST or "_save_details" in request.POST or "_continue" in request.POST
        if update is None and not stay:
            return super().response_change(request, obj)
        if update is not None:
            self.message_user(request, post_summary.summarise(obj, update).html(), messages.SUCCESS)
        else:
            self.message_user(request, _("Details saved."), messages.SUCCESS)
        if stay:
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
            )
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def save_related(self, request, form, formsets, change):
        # Areas and services were saved by the service functions.
        pass

    # Bulk actions --------------------------------------------------------
    # The queryset Django hands an action comes from get_queryset, so ids
    # outside the operator's regions in a crafted POST are simply not there.

    def _action_page(self, request, queryset, action, form, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "action": action,
            "form": form,
            "media": self.media + form.media,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/outages/incident/action_confirmation.html", context)

    @admin.action(description=_("Post one update to the selected…"), permissions=["change"])
    def post_update_selected(self, request, queryset):
        return bulk_update.post_update_selected(self, request, queryset)

    @admin.action(description=_("Resolve selected, with a closing message…"), permissions=["change"])
    def resolve_selected(self, request, queryset):
        open_ones = queryset.exclude(status__in=[IncidentStatus.RESOLVED, MaintenanceStatus.COMPLETED])
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            count = services.resolve_many(list(open_ones), message=form.cleaned_data["message"], author=request.user)
            self.message_user(
                request,
                ngettext("%(count)d incident resolved.", "%(count)d incidents resolved.", count) % {"count": count},
                messages.SUCCESS,
            )
            return None
        return self._action_page(request, open_ones, "resolve_selected", form, _("Resolve incidents"))

    @admin.action(description=_("Add areas to selected…"), permissions=["change"])
    def add_areas(self, request, queryset):
        form = AddAreasForm(request.POST if "apply" in request.POST else None, user=request.user)
        if form.is_bound and form.is_valid():
            for incident in queryset:
                services.add_areas(incident, form.cleaned_data["areas"], author=request.user)
            self.message_user(request, _("Areas added."), messages.SUCCESS)
            return None
        return self._action_page(request, queryset, "add_areas", form, _("Add areas"))

    # One-click template updates ------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/post-template/<int:template_id>/",
                self.admin_site.admin_view(self.post_template_view),
                name="%s_%s_post_template" % info,
            ),
            *super().get_urls(),
        ]

    def post_template_view(self, request, pk, template_id):
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
            )
        incident = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        template = get_object_or_404(UpdateTemplate, pk=template_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
        if str(incident.version) != request.POST.get("seen_version", ""):
            self.message_user(request, services.STALE_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(change_url)
        message = templating.render(template.message, templating.values_for(incident))
        translated = templating.render_translations(template, lambda: templating.values_for(incident))
        try:
            services.post_update(
                incident,
                status=template.status or incident.status,
                message=message,
                message_translations=translated,
                crew_status=template.crew_status or None,
                author=request.user,
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("Update “%(name)s” posted.") % {"name": template.name}, messages.SUCCESS)
        return HttpResponseRedirect(change_url)


@admin.register(Incident)
class IncidentAdmin(BaseIncidentAdmin):
    form = IncidentForm
    # The columns that matter at 3 a.m., in the order they are read; the rest is on the incident's page.
    # The missing translations sit under the title, not in a column of their own:
    # the list must still fit a 1024 px screen.
    list_display = ["status", "impact", "title_line", "area_list", "eta_words", "promise"]
    # Open ones first: at 3 a.m. the resolved ones are history.
    ordering = [Case(When(status__in=ACTIVE_STATUSES, then=0), default=1).asc(), "-started_at"]
    list_display_links = ["title_line"]
    list_filter = ["status", OverdueFilter, "impact", "cause", "crew_status", "areas__region", "areas"]

    @admin.display(description=_("title"), ordering="title")
    def title_line(self, obj):
        missing = obj.missing_languages()
        if not missing:
            return obj.title
        return format_html('{}<br><small class="quiet">{}</small>', obj.title, translations.missing_label(obj))

    readonly_fields = [
        "view_on_site_link",
        "status",
        "eta",
        "next_update_at",
        "started_at",
        "resolved_at",
        "timeline",
        "audit_log",
    ]

    def get_urls(self):
        report = path(
            "history-report/", self.admin_site.admin_view(report_view(self)), name="outages_incident_history_report"
        )
        return [report, *super().get_urls()]

    def get_fieldsets(self, request, obj=None):
        update_fields = [
            "update_status",
            "update_message",
            *MESSAGE_TRANSLATION_FIELDS,
            "update_eta",
            "update_eta_stage",
            "update_crew_status",
            "update_next_update_at",
        ]
        facts = [
            "title",
            *TITLE_TRANSLATION_FIELDS,
            "impact",
            "cause",
            "cause_detail",
            *CAUSE_TRANSLATION_FIELDS,
            "customers_affected",
            "areas",
            "services",
        ]
        if obj is None:
            return [(_("Incident"), {"fields": facts}), (_("Post an update"), {"fields": update_fields + ["template"]})]
        facts.insert(facts.index("areas") + 1, "area_customers")
        # The change page (change_form.html) lays these out itself: what customers
        # see now, the update with its own button, then the details collapsed.
        return [
            (
                _("Post an update"),
                {"fields": [*update_fields, "eta_choice", "reopen", "seen_version"], "classes": ["console-update"]},
            ),
            (_("Incident"), {"fields": facts, "classes": ["console-details"]}),
            (_("Audit log"), {"fields": ["audit_log"], "classes": ["collapse"]}),
        ]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        template = (
            UpdateTemplate.objects.filter(pk=request.GET.get("template") or None).first()
            if (request.GET.get("template", "").isascii() and request.GET.get("template", "").isdigit())
            else None
        )
        if template is not None:
            initial.update(
                {
                    "template": template.pk,
                    "title": template.title or template.name,
                    "impact": template.impact or initial.get("impact"),
                    "cause": template.cause,
                    "update_status": template.status or IncidentStatus.INVESTIGATING,
                    "update_crew_status": template.crew_status or CrewStatus.NOT_ASSIGNED,
                    "update_message": template.message,
                    # Every language the template has.
                    **{f"title_{code}": text for code, text in template.title_translations.items()},
                    **{f"update_message_{code}": text for code, text in template.message_translations.items()},
                }
            )
        return initial

    def create(self, request, form, data):
        return services.open_incident(
            title=data["title"],
            areas=data["areas"],
            services=data["services"],
            impact=data["impact"],
            status=data["update_status"],
            message=form.message_for_update(),
            message_translations=form.translations_for_update(),
            eta=data["update_eta"],
            cause=data["cause"],
            cause_detail=data["cause_detail"],
            title_translations=form.translations("title"),
            cause_detail_translations=form.translations("cause_detail"),
            customers_affected=data.get("customers_affected"),
            crew_status=data.get("update_crew_status") or CrewStatus.NOT_ASSIGNED,
            next_update_at=data.get("update_next_update_at"),
            eta_stage=data.get("update_eta_stage") or None,
            author=request.user,
        )


@admin.register(MaintenanceWindow)
class MaintenanceAdmin(BaseIncidentAdmin):
    kind = Kind.MAINTENANCE
    form = MaintenanceForm
    date_hierarchy = "scheduled_for"
    list_display = [
        "status",
        "title",
        "scheduled_for",
        "scheduled_until",
        "area_list",
        "promise",
        "translations_missing",
    ]
    list_display_links = ["title"]
    list_filter = [UpcomingFilter, "status", "areas__region", "areas"]
    readonly_fields = ["view_on_site_link", "status", "started_at", "resolved_at", "timeline", "audit_log"]
    actions = ["resolve_selected"]

    def get_fieldsets(self, request, obj=None):
        facts = [
            "title",
            *TITLE_TRANSLATION_FIELDS,
            "impact",
            "scheduled_for",
            "scheduled_until",
            "customers_affected",
            "areas",
            "services",
        ]
        if obj is None:
            return [(_("Maintenance window"), {"fields": facts}), (_("Announcement"), {"fields": ["update_message"]})]
        update_fields = [
            "update_status",
            "update_message",
            *MESSAGE_TRANSLATION_FIELDS,
            "update_eta",
            "update_crew_status",
            "update_next_update_at",
            "eta_choice",
            "reopen",
            "seen_version",
        ]
        return [
            (_("Post an update"), {"fields": update_fields, "classes": ["console-update"]}),
            (_("Maintenance window"), {"fields": facts, "classes": ["console-details"]}),
            (_("Audit log"), {"fields": ["audit_log"], "classes": ["collapse"]}),
        ]

    def create(self, request, form, data):
        return services.schedule_maintenance(
            title=data["title"],
            areas=data["areas"],
            services=data["services"],
            impact=data["impact"],
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
            message=data.get("update_message", ""),
            message_translations=message_translations(data),
            title_translations=form.translations("title"),
            customers_affected=data.get("customers_affected"),
            author=request.user,
        )
