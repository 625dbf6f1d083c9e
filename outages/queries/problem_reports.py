"""Customer problem reports, read side: counting recent reports against an
area's normal rate, the public notice, and the incident that already covers
a report.

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

Taking a report, rate limits and opening an incident from reports are
writes: outages.services.problem_reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from ..models import Incident, Problem, ProblemReport, ReportSettings, Service, ServiceArea

WINDOW = timedelta(minutes=15)
BASELINE_SPAN = timedelta(days=7)
BASELINE_WINDOWS = BASELINE_SPAN / WINDOW  # 672 windows of 15 minutes


def covering_incident(area: ServiceArea, service: Service) -> Incident | None:
    """An active incident in this area for this service (or for all services: none listed)."""
    return (
        Incident.objects.active()
        .filter(incident_areas__area=area)
        .filter(Q(services=service) | Q(services=None))
        .order_by("-started_at", "-id")
        .first()
    )


# Counting ------------------------------------------------------------------


def pending(now: datetime):
    """Reports in the window that no incident has taken up yet."""
    return ProblemReport.objects.filter(incident=None, created_at__gt=now - WINDOW, created_at__lte=now)


def notice_shown(area: ServiceArea, *, now: datetime | None = None) -> bool:
    """Whether the area page says "several customers reported problems here". Two queries."""
    now = now or timezone.now()
    threshold = ReportSettings.load().notice_min_sources
    if not threshold:
        return False
    sources = pending(now).filter(area=area).aggregate(n=Count("client", distinct=True))["n"]
    return sources >= threshold


def noticed_area_ids(now: datetime) -> set[int]:
    threshold = ReportSettings.load().notice_min_sources
    if not threshold:
        return set()
    rows = pending(now).values("area").annotate(sources=Count("client", distinct=True)).filter(sources__gte=threshold)
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
        for row in pending(now)
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
        pending(now)
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
