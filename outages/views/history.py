"""The incident history page (/history/): past incidents month by month,
filterable by area and service, paginated, with the 90-day figures."""

from __future__ import annotations

from django import forms
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from .. import i18n
from ..live import pagecache
from ..models import Incident, MaintenanceStatus, Service, ServiceArea
from ..queries import history as figures

PER_PAGE = 20


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.region.localized_name} › {obj.localized_name}"


class HistoryFilter(forms.Form):
    area = AreaChoiceField(
        label=gettext_lazy("Area"),
        queryset=ServiceArea.objects.select_related("region"),
        to_field_name="slug",
        required=False,
        empty_label=gettext_lazy("All areas"),
        error_messages={"invalid_choice": gettext_lazy("There is no area with that name.")},
    )
    service = i18n.LocalizedChoiceField(
        label=gettext_lazy("Service"),
        queryset=Service.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=gettext_lazy("All services"),
        error_messages={"invalid_choice": gettext_lazy("There is no service with that name.")},
    )


def _months(incidents, tz):
    """[(first day of month, [incidents])], in the order given (newest first)."""
    months = []
    for incident in incidents:
        local = timezone.localtime(incident.started_at, tz)
        month = local.date().replace(day=1)
        if not months or months[-1][0] != month:
            months.append((month, []))
        end = incident.resolved_at
        incident.duration_text = figures.duration_text(end - incident.started_at) if end else ""
        months[-1][1].append(incident)
    return months


def _bad_request(request, form, message: str) -> HttpResponse:
    return render(request, "outages/history.html", {"form": form, "error": message}, status=400)


@require_safe
@pagecache.cached(cache_errors=True, params=("area", "service", "page"))
def history(request: HttpRequest) -> HttpResponse:
    form = HistoryFilter(request.GET)
    if not form.is_valid():
        messages = [error for errors in form.errors.values() for error in errors]
        return _bad_request(request, form, " ".join(messages))
    area = form.cleaned_data["area"]
    service = form.cleaned_data["service"]
    raw_page = request.GET.get("page", "1")
    # ASCII digits only: "²".isdigit() is True and int("²") fails.
    if not (raw_page.isascii() and raw_page.isdigit()) or int(raw_page) < 1:
        return _bad_request(request, form, _("The page number must be a whole number from 1."))

    now = timezone.now()
    incidents = Incident.objects.exclude(status=MaintenanceStatus.SCHEDULED).filter(started_at__lte=now)
    if area:
        incidents = incidents.filter(incident_areas__area=area)
    if service:
        incidents = incidents.filter(services=service)
    incidents = incidents.order_by("-started_at", "-id").prefetch_related("areas", "services")
    paginator = Paginator(incidents, PER_PAGE)
    try:
        page = paginator.page(int(raw_page))
    except EmptyPage:
        return render(
            request,
            "outages/history.html",
            {"form": form, "error": _("There is no page %(page)s of this history.") % {"page": raw_page}},
            status=404,
        )

    tz = area.tzinfo if area else timezone.get_default_timezone()
    if area:
        area_figures = figures.area_history(area, now)
        availability_text, eta = area_figures.availability_text, area_figures.eta
    else:
        availability_text = figures.percent_text(figures.overall_availability(now))
        eta = figures.eta_honesty_for_areas(None, now)
    context = {
        "form": form,
        "area": area,
        "service": service,
        "page": page,
        "months": _months(page.object_list, tz),
        "tz": tz.key if hasattr(tz, "key") else None,
        "availability_text": availability_text,
        "eta_sentence": eta.sentence(here=bool(area)),
    }
    return render(request, "outages/history.html", context)
