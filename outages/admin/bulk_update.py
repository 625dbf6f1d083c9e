"""Same update to many: one message, status and ETA shift for the selected incidents.

The list's action shows a confirmation page listing each incident with its
ETA before and after; on Confirm each gets its update through
services.post_update (its own transaction, its audit entry, its live push and
notifications). The incidents come from the admin's permission-filtered
queryset and each is checked again with permissions.can_manage, so ids of
another team's incidents in a crafted POST change nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import permissions, services
from ..live import census as live_census
from ..models import ACTIVE_STATUSES, Incident, IncidentStatus
from . import post_summary, quick_eta

KEEP = "keep"
CLEAR = "clear"


def shift_choices():
    return [
        (KEEP, _("Keep each one's ETA")),
        *(
            (f"+{minutes}", _("Move each ETA by %(shift)s") % {"shift": quick_eta._offset_label(minutes)})
            for minutes in quick_eta.OFFSETS
        ),
        (CLEAR, _("Clear every ETA")),
    ]


def status_choices():
    open_statuses = [(value, label) for value, label in IncidentStatus.choices if value in ACTIVE_STATUSES]
    return [(KEEP, _("Keep each one's status")), *open_statuses]


class BulkUpdateForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message to customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("Posted as the new update of every incident listed."),
    )
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=status_choices)
    eta_shift = forms.ChoiceField(
        label=gettext_lazy("ETA"),
        choices=shift_choices,
        help_text=gettext_lazy(
            "A move is added to each incident's own ETA; one without an ETA gets it counted from now."
        ),
    )

    def clean(self):
        data = super().clean()
        if (
            not self.errors
            and not (data.get("message") or "").strip()
            and data.get("status") == KEEP
            and data.get("eta_shift") == KEEP
        ):
            raise ValidationError(_("Nothing to post: write a message, or change the status or the ETA."))
        return data


def new_eta(incident: Incident, shift: str, now: datetime):
    """What the shift makes of this incident's ETA: a datetime, None or services.KEEP."""
    if shift == KEEP:
        return services.KEEP
    if shift == CLEAR:
        return None
    minutes = int(shift.lstrip("+"))
    base = incident.eta if incident.eta and incident.eta > now else now
    return base + timedelta(minutes=minutes)


@dataclass
class Row:
    incident: Incident
    eta_before: str
    eta_after: str
    problem: str = ""


def rows_for(incidents, form: BulkUpdateForm, now: datetime) -> list[Row]:
    shift = form.cleaned_data.get("eta_shift", KEEP) if form.is_bound and form.is_valid() else KEEP
    rows = []
    for incident in incidents:
        eta = new_eta(incident, shift, now)
        after = incident.eta if eta is services.KEEP else eta
        problem = ""
        if eta is not services.KEEP:
            try:
                quick_eta.check(eta, now)
            except ValidationError as error:
                problem = " ".join(error.messages)
        rows.append(Row(incident, quick_eta.words(incident.eta, now), quick_eta.words(after, now), problem))
    return rows


def post_update_selected(model_admin, request, queryset):
    """The admin action (registered on IncidentAdmin)."""
    now = timezone.now()
    # Only what this operator may change, open ones only: resolving has its own action.
    incidents = [
        incident
        for incident in queryset.prefetch_related("areas").order_by("pk")
        if not incident.is_closed and permissions.can_manage(request.user, incident)
    ]
    skipped = queryset.count() - len(incidents)
    form = BulkUpdateForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        rows = rows_for(incidents, form, now)
        if not any(row.problem for row in rows):
            return _apply(model_admin, request, incidents, form.cleaned_data, now)
    else:
        rows = rows_for(incidents, form, now)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Post one update to several incidents"),
        "opts": model_admin.model._meta,
        "rows": rows,
        "skipped": skipped,
        "form": form,
        "action": "post_update_selected",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "is_nav_sidebar_enabled": False,
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/outages/incident/bulk_update.html", context)


def _apply(model_admin, request, incidents, data, now):
    posted, groups, by_channel, refused = 0, set(), Counter(), []
    for incident in incidents:
        try:
            update = services.post_update(
                incident,
                status=incident.status if data["status"] == KEEP else data["status"],
                message=data["message"],
                eta=new_eta(incident, data["eta_shift"], timezone.now()),
                author=request.user,
            )
        except ValidationError as error:
            refused.append(f"{incident.title}: {' '.join(error.messages)}")
            continue
        posted += 1
        groups.update(post_summary.groups_for(incident))
        by_channel.update(post_summary.audience(update)[1])
    summary = post_summary.Summary(
        open_pages=live_census.open_pages(groups), by_channel=by_channel, about_promise=False
    )
    head = ngettext("Update posted to %(count)d incident.", "Update posted to %(count)d incidents.", posted) % {
        "count": posted
    }
    # "Update posted. Showing now on ..." without its first words: the head says it.
    rest = summary.text().split(". ", 1)[1] if ". " in summary.text() else summary.text()
    model_admin.message_user(request, format_html("{} {}", head, rest[0].upper() + rest[1:]), messages.SUCCESS)
    for problem in refused:
        model_admin.message_user(request, problem, messages.ERROR)
    return None
