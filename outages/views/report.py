"""Customer problem reports: the form on an area page and its answer.

Works without JavaScript (a plain POST, then a redirect to the answer:
post/redirect/get); with htmx the form posts in place and only its
result is swapped. The logic is in outages.services.problem_reports.

The form carries no CSRF token, so the area page that embeds it can be
cached for everyone: a POST from another site is refused by its origin
instead (views/origin.py)."""

from django import forms
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from .. import i18n
from ..live import pagecache
from ..models import Incident, Problem, ProblemReport, Service, ServiceArea, normalize_postcode
from ..queries import current
from ..services import problem_reports as reports
from .origin import same_origin_post
from .public import HtmxHttpRequest

ANSWER_SALT = "outages.report-answer"
ANSWER_MAX_AGE = 3600


class ReportForm(forms.Form):
    service = i18n.LocalizedChoiceField(
        label=_("Which service?"),
        queryset=Service.objects.all(),
        empty_label=_("Choose a service"),
        error_messages={
            "required": _("Choose the service that is not working."),
            "invalid_choice": _("Choose the service that is not working."),
        },
    )
    problem = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=Problem.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is wrong."), "invalid_choice": _("Choose what is wrong.")},
    )
    postcode = forms.CharField(
        label=_("Your postcode (optional)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "size": 10}),
    )

    def __init__(self, *args, area: ServiceArea, **kwargs):
        kwargs.setdefault("auto_id", "report-%s")
        super().__init__(*args, **kwargs)
        self.area = area

    def clean_postcode(self) -> str:
        postcode = normalize_postcode(self.cleaned_data.get("postcode", ""))
        try:
            reports.validate_report(area=self.area, problem=Problem.SLOW, postcode=postcode)
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["postcode"]) from None
        return postcode


def _area(slug: str) -> ServiceArea:
    return get_object_or_404(ServiceArea.objects.select_related("region"), slug=slug)


def _answer_context(area: ServiceArea, report: ProblemReport | None, folded: bool) -> dict:
    incident = None
    if report is not None and report.incident_id:
        incident = current.with_card_data(Incident.objects.filter(pk=report.incident_id)).first()
    return {
        "area": area,
        "report": report,
        "folded": folded,
        "known_incident": incident,
        "incident_reports": incident.problem_reports.count() if incident else 0,
    }


def _respond(request: HtmxHttpRequest, context: dict, status: int) -> HttpResponse:
    """htmx gets just the answer; a plain browser the whole report page."""
    if request.htmx:
        return render(request, "outages/report.html#result-body", context, status=status)
    return render(request, "outages/report.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@same_origin_post
@pagecache.cached()
def report(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    area = _area(slug)
    if request.method != "POST":
        return render(request, "outages/report.html", {"area": area, "report_form": ReportForm(area=area)})
    form = ReportForm(request.POST, area=area)
    context = {"area": area, "report_form": form}
    if not form.is_valid():
        return _respond(request, {**context, "errors": [e for errs in form.errors.values() for e in errs]}, 400)
    now = timezone.now()
    source = reports.source_for(request, now)
    try:
        reports.check_rate_limits(source, area, now)
    except reports.RateLimited as limited:
        response = _respond(request, {**context, "errors": [limited.message]}, 429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    data = form.cleaned_data
    outcome = reports.submit(
        area=area, service=data["service"], problem=data["problem"], postcode=data["postcode"], source=source, now=now
    )
    if request.htmx:
        return _respond(request, {**context, **_answer_context(area, outcome.report, outcome.folded)}, 200)
    token = signing.dumps({"r": outcome.report.pk, "f": outcome.folded}, salt=ANSWER_SALT, compress=True)
    return redirect(f"{reverse('report-sent', args=[area.slug])}?a={token}")


@require_safe
def report_sent(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The answer after a plain POST (the G of post/redirect/get)."""
    area = _area(slug)
    try:
        answer = signing.loads(request.GET.get("a", ""), salt=ANSWER_SALT, max_age=ANSWER_MAX_AGE)
        report = ProblemReport.objects.get(pk=answer["r"], area=area)
    except (signing.BadSignature, ProblemReport.DoesNotExist, KeyError, TypeError):
        context = {
            "area": area,
            "report_form": ReportForm(area=area),
            "errors": [_("This answer has expired or the link is not valid. You can report the problem again.")],
        }
        return render(request, "outages/report.html", context, status=400)
    context = {"report_form": ReportForm(area=area), **_answer_context(area, report, bool(answer.get("f")))}
    return render(request, "outages/report.html", context)
