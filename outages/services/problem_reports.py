"""Customer problem reports, write side: "I have a problem too".

Who sent a report (as a salted hash, never an address), rate limits, folding
duplicates, the answer "we know about this", opening an incident from
reports (through open_incident) and the periodic refresh of the public
notice. What the reports add up to is read in outages.queries.problem_reports.

Rate limits are fixed-window counters in Django's cache (locmem or Redis):
per source and per area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import client_address, events, i18n
from ..models import Impact, Incident, Problem, ProblemReport, Service, ServiceArea
from ..queries.problem_reports import covering_incident, notice_shown, pending
from . import limits
from .incidents import open_incident
from .limits import RateLimited

# A second report from the same browser for the same area and service
# within this time updates the first instead of counting again.
FOLD_WINDOW = timedelta(minutes=30)
# Reports no incident took up are deleted after this.
KEEP = timedelta(days=30)
# (reports, seconds): overridable in settings.
DEFAULT_RATE_PER_SOURCE = (5, 600)
DEFAULT_RATE_PER_AREA = (120, 60)
NOTICE_CACHE_KEY = "reports:notice-areas"


# Who sent it -------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    client: str  # the network, hashed: rate limits and distinct counts
    browser: str  # network + user agent, hashed: folding duplicates


def source_for(request: HttpRequest, now: datetime) -> Source:
    """Salted hashes of where a report came from; the salt changes every day.

    The address is outages.client_address's (TRUSTED_PROXIES): a client
    cannot pick it with X-Forwarded-For."""
    day = now.astimezone(UTC).date().isoformat()
    network = client_address.network_of_request(request)
    agent = request.headers.get("User-Agent", "")[:512]
    client = salted_hmac("outages.reports.client", f"{day}|{network}", algorithm="sha256").hexdigest()[:32]
    browser = salted_hmac("outages.reports.browser", f"{day}|{network}|{agent}", algorithm="sha256").hexdigest()[:32]
    return Source(client=client, browser=browser)


# Rate limits -------------------------------------------------------------


def _take(key: str, limit: int, period: int, now: datetime) -> int:
    """Count one request in the current fixed window of `period` seconds.

    Returns 0 if it is within the limit, else the seconds until the window ends."""
    seconds = int(now.timestamp())
    cache_key = f"reports:rate:{key}:{seconds // period}"
    count = limits.hit(cache_key, period + 1)
    return 0 if count <= limit else period - seconds % period


def check_rate_limits(source: Source, area: ServiceArea, now: datetime) -> None:
    """Raise RateLimited if this source, or this area, sent too many reports lately."""
    limit, period = getattr(settings, "REPORT_RATE_PER_SOURCE", DEFAULT_RATE_PER_SOURCE)
    wait = _take(f"source:{source.client}", limit, period, now)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        raise RateLimited(
            ngettext(
                "You have sent several reports in a short time. Please try again in %(minutes)d minute.",
                "You have sent several reports in a short time. Please try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            wait,
        )
    limit, period = getattr(settings, "REPORT_RATE_PER_AREA", DEFAULT_RATE_PER_AREA)
    wait = _take(f"area:{area.pk}", limit, period, now)
    if wait:
        raise RateLimited(
            _("We are receiving many reports for %(area)s right now and are looking into it. Please try again later.")
            % {"area": area.name},
            wait,
        )


# Taking a report -----------------------------------------------------------


@dataclass
class ReportOutcome:
    report: ProblemReport
    incident: Incident | None  # the active incident that already covers it
    folded: bool  # a repeat of a report this browser sent a moment ago


def validate_report(*, area: ServiceArea, problem: str, postcode: str) -> None:
    if problem not in Problem.values:
        raise ValidationError({"problem": _("Choose what is wrong.")})
    if postcode and area.postcode_list and postcode not in area.postcode_list:
        raise ValidationError(
            {
                "postcode": _("%(postcode)s is not in %(area)s. Look up your area by postcode instead.")
                % {"postcode": postcode, "area": area.name}
            }
        )


@transaction.atomic
def submit(
    *,
    area: ServiceArea,
    service: Service,
    problem: str,
    postcode: str = "",
    source: Source,
    now: datetime | None = None,
) -> ReportOutcome:
    """Store a report (or fold it into this browser's recent one) and say whether we already know."""
    now = now or timezone.now()
    validate_report(area=area, problem=problem, postcode=postcode)
    incident = covering_incident(area, service)
    duplicate = (
        ProblemReport.objects.select_for_update()
        .filter(browser=source.browser, area=area, service=service, created_at__gte=now - FOLD_WINDOW)
        .order_by("-created_at", "-id")
        .first()
    )
    if duplicate is not None:
        # The latest word wins (it may have got worse); it still counts once.
        duplicate.problem = problem
        duplicate.postcode = postcode or duplicate.postcode
        if incident is not None and duplicate.incident_id is None:
            duplicate.incident = incident
        duplicate.save(update_fields=["problem", "postcode", "incident"])
        return ReportOutcome(report=duplicate, incident=incident, folded=True)

    before = None if incident else notice_shown(area, now=now)
    report = ProblemReport.objects.create(
        area=area,
        service=service,
        problem=problem,
        postcode=postcode,
        incident=incident,
        client=source.client,
        browser=source.browser,
        created_at=now,
    )
    if before is False and notice_shown(area, now=now):
        events.area_changed(area_ids={area.pk})
    return ReportOutcome(report=report, incident=incident, folded=False)


# Acting on them ------------------------------------------------------------


@transaction.atomic
def open_incident_from_reports(area: ServiceArea, *, author=None, now: datetime | None = None) -> Incident:
    """Open an incident for the area's pending reports and count them on it."""
    now = now or timezone.now()
    waiting = list(pending(now).filter(area=area).select_for_update().order_by("id"))
    if not waiting:
        raise ValidationError(
            _("There are no recent reports for %(area)s that are not already on an incident.") % {"area": area.name}
        )
    service_ids = {report.service_id for report in waiting}
    chosen = list(Service.objects.filter(pk__in=service_ids))
    no_service = {report.client for report in waiting if report.problem == Problem.NO_SERVICE}
    others = {report.client for report in waiting} - no_service
    incident = open_incident(
        title=_("Customers report problems with %(services)s in %(area)s")
        % {"services": ", ".join(service.name for service in chosen), "area": area.name},
        areas=[area],
        services=chosen,
        impact=Impact.MAJOR if len(no_service) >= len(others) else Impact.MINOR,
        message=i18n.in_default_language(
            gettext_lazy("Several customers reported problems here; we are looking into it.")
        ),
        message_translations=i18n.translations_of(
            gettext_lazy("Several customers reported problems here; we are looking into it.")
        ),
        author=author,
    )
    ProblemReport.objects.filter(pk__in=[report.pk for report in waiting]).update(incident=incident)
    return incident


# Periodic work (outages.jobs runs it) ---------------------------------------------------------------


def prune_reports(now: datetime) -> int:
    """Reports no incident took up are kept for the baseline, then deleted."""
    deleted, _ = ProblemReport.objects.filter(incident=None, created_at__lt=now - KEEP).delete()
    return deleted
