"""Automatic first estimates: how long outages like this one took to fix.

From the resolved outages (never maintenance) of the last
ESTIMATE_WINDOW_MONTHS, the time to restore (resolved_at - started_at) of
the ones most like the incident: the same cause, service, region and impact
where at least ESTIMATE_MIN_SAMPLES such outages exist, else the same cause,
service and region, then cause and service, then the cause alone (an
unknown cause matches any cause). The estimate is the ESTIMATE_PERCENTILE-th
percentile (nearest rank) of those times, not the median: most outages like
this one were fixed within it. Fewer than ESTIMATE_MIN_SAMPLES alike at every
level: no estimate.

The write side stores the result on the incident when it opens or its facts
change (outages.services.incidents), so pages read two columns and never
run this. `shown()` is the one rule for when customers see it: an active
outage with no operator ETA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef
from django.utils import timezone

from ..models import Incident, IncidentArea, IncidentStatus, Kind

DIMENSIONS = ("cause", "service", "region", "impact")
_DURATION = ExpressionWrapper(F("resolved_at") - F("started_at"), output_field=DurationField())


@dataclass(frozen=True)
class Estimate:
    """The suggested time to restore (the percentile), with what the console shows beside it."""

    minutes: int
    samples: int
    # Which facts the similar outages share, most specific first: ("cause", "service", ...).
    basis: tuple[str, ...]
    median_minutes: int | None = None
    # The spread: the fastest and slowest fifth of the similar outages start/end here.
    low_minutes: int | None = None
    high_minutes: int | None = None

    def eta_from(self, start: datetime) -> datetime:
        return start + timedelta(minutes=self.minutes)


def window_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=30 * settings.ESTIMATE_WINDOW_MONTHS)


def _history(since: datetime, exclude_pk=None):
    outages = Incident.objects.filter(
        kind=Kind.INCIDENT, status=IncidentStatus.RESOLVED, resolved_at__isnull=False, resolved_at__gte=since
    )
    if exclude_pk is not None:
        outages = outages.exclude(pk=exclude_pk)
    return outages.order_by()


def levels(*, cause: str, service_ids, region_ids, impact: str) -> list[tuple[tuple[str, ...], dict]]:
    """The groups of similar outages to try, most specific first: (basis, filters).
    A fact the incident lacks (no services given, unknown cause) filters nothing."""
    service_ids, region_ids = sorted(set(service_ids)), sorted(set(region_ids))
    conditions = {
        "cause": {"cause": cause} if cause else None,
        "service": {"service": service_ids} if service_ids else None,
        "region": {"region": region_ids} if region_ids else None,
        "impact": {"impact": impact} if impact else None,
    }
    tried: list[tuple[tuple[str, ...], dict]] = []
    for size in range(len(DIMENSIONS), 0, -1):
        basis = tuple(name for name in DIMENSIONS[:size] if conditions[name] is not None)
        if any(existing == basis for existing, _filters in tried):
            continue
        filters: dict = {}
        for name in basis:
            filters.update(conditions[name])
        tried.append((basis, filters))
    return tried


def _filtered(outages, filters: dict):
    if "cause" in filters:
        outages = outages.filter(cause=filters["cause"])
    if "impact" in filters:
        outages = outages.filter(impact=filters["impact"])
    if "service" in filters:
        through = Incident.services.through.objects.filter(
            incident_id=OuterRef("pk"), service_id__in=filters["service"]
        )
        outages = outages.filter(Exists(through))
    if "region" in filters:
        links = IncidentArea.objects.filter(incident_id=OuterRef("pk"), area__region_id__in=filters["region"])
        outages = outages.filter(Exists(links))
    return outages


def percentile(sorted_minutes: list[int], percent: float) -> int:
    """Nearest rank: the smallest time that at least `percent` % of the outages stayed within."""
    count = len(sorted_minutes)
    return sorted_minutes[min(count, max(1, math.ceil(percent / 100 * count))) - 1]


def _minutes(outages) -> list[int]:
    """The times to restore, in whole minutes (rounded up), shortest first."""
    durations = outages.annotate(duration=_DURATION).values_list("duration", flat=True)
    return sorted(math.ceil(value.total_seconds() / 60) for value in durations)


def estimate(
    *,
    cause: str,
    service_ids=(),
    region_ids=(),
    impact: str = "",
    now: datetime | None = None,
    detail: bool = False,
    exclude_pk=None,
) -> Estimate | None:
    """The estimate for an outage with these facts, or None below ESTIMATE_MIN_SAMPLES.
    detail: also the median and the spread (for the console). One query per
    level tried: the times to restore of that level's outages."""
    minimum = max(1, settings.ESTIMATE_MIN_SAMPLES)
    history = _history(window_start(now), exclude_pk)
    for basis, filters in levels(cause=cause, service_ids=service_ids, region_ids=region_ids, impact=impact):
        minutes = _minutes(_filtered(history, filters))
        if len(minutes) < minimum:
            continue
        return Estimate(
            minutes=percentile(minutes, settings.ESTIMATE_PERCENTILE),
            samples=len(minutes),
            basis=basis,
            median_minutes=percentile(minutes, 50) if detail else None,
            low_minutes=percentile(minutes, 20) if detail else None,
            high_minutes=percentile(minutes, 80) if detail else None,
        )
    return None


def estimate_for(incident: Incident, *, now: datetime | None = None, detail: bool = False) -> Estimate | None:
    """The estimate for a saved incident, from its cause, services, regions and impact."""
    if incident.kind != Kind.INCIDENT:
        return None
    service_ids = list(incident.services.values_list("pk", flat=True))
    region_ids = list(incident.incident_areas.values_list("area__region_id", flat=True))
    return estimate(
        cause=incident.cause,
        service_ids=service_ids,
        region_ids=region_ids,
        impact=incident.impact,
        now=now,
        detail=detail,
        exclude_pk=incident.pk,
    )


def shown(incident: Incident) -> bool:
    """Whether customers see the automatic estimate: an active outage, no operator ETA, an estimate stored."""
    return bool(
        incident.kind == Kind.INCIDENT
        and incident.is_active
        and incident.eta is None
        and incident.estimate_minutes
        and incident.estimate_samples
    )
