"""Beside the ETA field of the incident console: the ETA suggested by similar
past outages (outages.queries.estimates), with their median, spread and count,
and the estimate stage to post with the update.

The suggestion pre-fills the field of an active incident that has no ETA yet;
the operator may change or clear it. `apply(form)` is the whole hook: the
incident form calls it at the end of __init__.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import EtaStage, Kind
from ..queries import estimates
from ..queries.history import duration_text

BASIS_LABELS = {
    "cause": gettext_lazy("cause"),
    "service": gettext_lazy("service"),
    "region": gettext_lazy("region"),
    "impact": gettext_lazy("impact"),
}


def stage_field() -> forms.ChoiceField:
    """The form's update_eta_stage field (blank: keep the stage, or the automatic one)."""
    return forms.ChoiceField(
        label=gettext_lazy("Estimate stage"),
        choices=[("", gettext_lazy("Automatic")), *EtaStage.choices],
        required=False,
        help_text=gettext_lazy(
            "How firm the estimated restoration is, as customers read it. A first ETA is an area-wide "
            "estimate; an update without an ETA is “assessing”."
        ),
    )


def _minutes(value: int | None) -> str:
    return duration_text(timedelta(minutes=value)) if value is not None else "—"


def hint_html(found: estimates.Estimate | None, suggested) -> str:
    """The sentence beside the ETA field (operator-facing; every value escaped)."""
    if found is None:
        return format_html(
            "{}",
            ngettext(
                "No suggestion: fewer than %(count)d similar outage in the last %(months)d months.",
                "No suggestion: fewer than %(count)d similar outages in the last %(months)d months.",
                settings.ESTIMATE_MIN_SAMPLES,
            )
            % {"count": settings.ESTIMATE_MIN_SAMPLES, "months": settings.ESTIMATE_WINDOW_MONTHS},
        )
    basis = ", ".join(str(BASIS_LABELS[name]) for name in found.basis) or _("any")
    return format_html(
        '<span class="estimate-hint" data-estimate-minutes="{}">{} {} {}</span>',
        found.minutes,
        _("Suggested: %(when)s (%(percentile)sth percentile, %(duration)s after the start).")
        % {
            "when": date_format(timezone.localtime(suggested), "SHORT_DATETIME_FORMAT"),
            "percentile": settings.ESTIMATE_PERCENTILE,
            "duration": _minutes(found.minutes),
        },
        _("Median %(median)s; spread %(low)s – %(high)s (20th to 80th percentile).")
        % {
            "median": _minutes(found.median_minutes),
            "low": _minutes(found.low_minutes),
            "high": _minutes(found.high_minutes),
        },
        ngettext(
            "Based on %(count)d similar outage (same %(basis)s).",
            "Based on %(count)d similar outages (same %(basis)s).",
            found.samples,
        )
        % {"count": found.samples, "basis": basis},
    )


def apply(form) -> None:
    """Add the stage field and, on an active incident, the suggestion beside the ETA."""
    if form.kind != Kind.INCIDENT or "update_eta" not in form.fields:
        return
    incident = form.instance
    if incident.pk and "update_eta_stage" in form.fields:
        keep = _("Keep (now: %(stage)s)") % {"stage": incident.get_eta_stage_display()}
        form.fields["update_eta_stage"].choices = [("", keep), *EtaStage.choices]
    if not incident.pk or not incident.is_active:
        return
    field = form.fields["update_eta"]
    found = estimates.estimate_for(incident, detail=True)
    suggested = found.eta_from(incident.started_at) if found else None
    field.help_text = format_html("{} {}", hint_html(found, suggested), field.help_text)
    # The console's incident page shows it on the ETA's line.
    form.estimate_hint = hint_html(found, suggested)
    if suggested is not None and incident.eta is None and suggested > timezone.now():
        # Pre-filled, not forced: the operator changes it or clears it.
        field.initial = suggested.replace(second=0, microsecond=0)
