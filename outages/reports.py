"""Customer problem reports: "I have a problem too".

What lives here: who sent a report (as a salted hash, never an address),
rate limits, folding duplicates, the answer "we know about this", counting
recent reports against an area's normal rate, the public notice, and opening
an incident from reports (through services.open_incident).

Definitions (the admin's "report thresholds" page sets the numbers):
- A *source* is the network a report came from: an IPv4 address or an IPv6
  /64, hashed with a daily salt. Counting distinct sources, not reports, is
  what keeps one sender from raising the notice or making an area look hot.
- The *window* is the last 15 minutes. Only reports not yet counted on an
  incident take part: once ops know, they stop being news.
- An area's *normal rate* is its average number of such reports per
  15-minute window over the past 7 days (the current window left out).
- An area is *unusual* ("hot") when its distinct sources in the window reach
  both the minimum count and the factor times its normal rate.
- The public notice shows when distinct sources in the window reach the
  notice threshold.
- Rate limits are fixed-window counters in Django's cache (locmem or Redis):
  per source and per area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _, gettext_lazy, ngettext

from . import client_address, events, services
from .models import Impact, Incident, Problem, ProblemReport, ReportSettings, Service, ServiceArea
from .scheduler import periodic

WINDOW = timedelta(minutes=15)
BASELINE_SPAN = timedelta(days=7)
BASELINE_WINDOWS = BASELINE_SPAN / WINDOW  # 672 windows of 15 minutes
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

class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _take(key: str, limit: int, period: int, now: datetime) -> int:
    """Count one request in the current fixed window of `period` seconds.

    Returns 0 if it is within the limit, else the seconds until the window ends."""
    seconds = int(now.timestamp())
    cache_key = f"reports:rate:{key}:{seconds // period}"
    cache.add(cache_key, 0, timeout=period + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        count = 1
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
class Outcome:
    report: ProblemReport
    incident: Incident | None  # the active incident that already covers it
    folded: bool  # a repeat of a report this browser sent a moment ago


def covering_incident(area: ServiceArea, service: Service) -> Incident | None:
    """An active incident in this area for this service (or for all services: none listed)."""
    return (
        Incident.objects.active()
        .filter(incident_areas__area=area)
        .filter(Q(services=service) | Q(services=None))
        .order_by("-started_at", "-id")
        .first()
    )


def validate_report(*, area: ServiceArea, problem: str, postcode: str) -> None:
    if problem not in Problem.values:
        raise ValidationError({"problem": _("Choose what is wrong.")})
    if postcode and area.postcode_list and postcode not in area.postcode_list:
        raise ValidationError(
            {"postcode": _("%(postcode)s is not in %(area)s. Look up your area by postcode instead.")
             % {"postcode": postcode, "area": area.name}}
        )


@transaction.atomic
def submit(
    *, area: ServiceArea, service: Service, problem: str, postcode: str = "", source: Source, now: datetime | None = None
) -> Outcome:
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
        return Outcome(report=duplicate, incident=incident, folded=True)

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
    return Outcome(report=report, incident=incident, folded=False)


# Counting ------------------------------------------------------------------

def _pending(now: datetime):
    """Reports in the window that no incident has taken up yet."""
    return ProblemReport.objects.filter(incident=None, created_at__gt=now - WINDOW, created_at__lte=now)


def notice_shown(area: ServiceArea, *, now: datetime | None = None) -> bool:
    """Whether the area page says "several customers reported problems here". Two queries."""
    now = now or timezone.now()
    threshold = ReportSettings.load().notice_min_sources
    if not threshold:
        return False
    sources = _pending(now).filter(area=area).aggregate(n=Count("client", distinct=True))["n"]
    return sources >= threshold


def noticed_area_ids(now: datetime) -> set[int]:
    threshold = ReportSettings.load().notice_min_sources
    if not threshold:
        return set()
    rows = _pending(now).values("area").annotate(sources=Count("client", distinct=True)).filter(sources__gte=threshold)
    return {row["area"] for row in rows}


@dataclass
class HotArea:
    area: ServiceArea
    sources: int  # distinct sources in the window
    reports: int
    normal_rate: float  # reports per window, averaged over the past 7 days
    threshold: float
    services: list[tuple[str, int]] = field(default_factory=list)  # (service, sources)
    problems: list[tuple[str, int]] = field(default_factory=list)  # (problem label, sources)

    @property
    def times_normal(self) -> float | None:
        return self.sources / self.normal_rate if self.normal_rate else None


def hot_areas(now: datetime | None = None) -> list[HotArea]:
    """Areas with unusually many recent reports, busiest first. A fixed number of queries."""
    now = now or timezone.now()
    config = ReportSettings.load()
    minimum = max(1, config.hot_min_sources)
    recent = {
        row["area"]: row
        for row in _pending(now)
        .values("area")
        .annotate(sources=Count("client", distinct=True), reports=Count("id"))
        .filter(sources__gte=minimum)
    }
    if not recent:
        return []
    history = dict(
        ProblemReport.objects.filter(
            area__in=list(recent), incident=None, created_at__gt=now - BASELINE_SPAN, created_at__lte=now - WINDOW
        )
        .values("area")
        .annotate(n=Count("id"))
        .values_list("area", "n")
    )
    hot: dict[int, HotArea] = {}
    for area_id, row in recent.items():
        normal = history.get(area_id, 0) / BASELINE_WINDOWS
        threshold = max(minimum, config.hot_factor * normal)
        if row["sources"] >= threshold:
            hot[area_id] = HotArea(
                area=None, sources=row["sources"], reports=row["reports"], normal_rate=normal, threshold=threshold
            )
    if not hot:
        return []
    for area in ServiceArea.objects.select_related("region").filter(pk__in=list(hot)):
        hot[area.pk].area = area
    labels = dict(Problem.choices)
    breakdown = (
        _pending(now)
        .filter(area__in=list(hot))
        .values("area", "service__name", "problem")
        .annotate(sources=Count("client", distinct=True))
        .order_by()
    )
    by_service: dict[int, dict[str, int]] = {}
    by_problem: dict[int, dict[str, int]] = {}
    for row in breakdown:
        services_seen = by_service.setdefault(row["area"], {})
        services_seen[row["service__name"]] = services_seen.get(row["service__name"], 0) + row["sources"]
        problems_seen = by_problem.setdefault(row["area"], {})
        label = str(labels.get(row["problem"], row["problem"]))
        problems_seen[label] = problems_seen.get(label, 0) + row["sources"]
    for area_id, item in hot.items():
        item.services = sorted(by_service.get(area_id, {}).items(), key=lambda pair: -pair[1])
        item.problems = sorted(by_problem.get(area_id, {}).items(), key=lambda pair: -pair[1])
    return sorted(hot.values(), key=lambda item: (-item.sources, item.area.name))


# Acting on them ------------------------------------------------------------

@transaction.atomic
def open_incident_from_reports(area: ServiceArea, *, author=None, now: datetime | None = None) -> Incident:
    """Open an incident for the area's pending reports and count them on it."""
    now = now or timezone.now()
    pending = list(_pending(now).filter(area=area).select_for_update().order_by("id"))
    if not pending:
        raise ValidationError(_("There are no recent reports for %(area)s that are not already on an incident.")
                              % {"area": area.name})
    service_ids = {report.service_id for report in pending}
    chosen = list(Service.objects.filter(pk__in=service_ids))
    no_service = {report.client for report in pending if report.problem == Problem.NO_SERVICE}
    others = {report.client for report in pending} - no_service
    incident = services.open_incident(
        title=_("Customers report problems with %(services)s in %(area)s")
        % {"services": ", ".join(service.name for service in chosen), "area": area.name},
        areas=[area],
        services=chosen,
        impact=Impact.MAJOR if len(no_service) >= len(others) else Impact.MINOR,
        message=services.in_default_language(
            gettext_lazy("Several customers reported problems here; we are looking into it.")
        ),
        message_translations=services.in_every_language(
            gettext_lazy("Several customers reported problems here; we are looking into it.")
        ),
        author=author,
    )
    ProblemReport.objects.filter(pk__in=[report.pk for report in pending]).update(incident=incident)
    return incident


# Periodic jobs ---------------------------------------------------------------

@periodic
def refresh_report_notices(now: datetime) -> int:
    """Push area pages whose public notice appeared or ran out since the last tick."""
    current = noticed_area_ids(now)
    previous = set(cache.get(NOTICE_CACHE_KEY) or ())
    changed = current ^ previous
    cache.set(NOTICE_CACHE_KEY, sorted(current), timeout=None)
    if changed:
        events.area_changed(area_ids=changed)
    return len(changed)


@periodic
def prune_reports(now: datetime) -> int:
    """Reports no incident took up are kept for the baseline, then deleted."""
    deleted, _ = ProblemReport.objects.filter(incident=None, created_at__lt=now - KEEP).delete()
    return deleted
