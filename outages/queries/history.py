"""History that customers trust: 90 days per area, availability, how good our ETAs are.

One module, though long: the pure figures and the two queries that feed them
share their definitions (below), and a change to one is a change to both.

The first half is pure functions over plain values (spans of time with a
status, ETA outcomes, durations): day buckets in the area's own time zone,
minutes per day, availability, ETA honesty, time to restore. They read no
database, so day boundaries and daylight-saving changes are tested directly.

The second half reads the database in a fixed number of queries whatever the
history: it fetches only what overlaps the window (the last 90 days), so an
area with years of incidents costs what an area with a few costs.

Words used here:
- an *outage* is an incident (not maintenance) whose impact is more than
  none while it is active: it counts against availability;
- a *maintenance window* colours its days `under_maintenance` and never
  counts against availability;
- the *first ETA* of an incident is the ETA of its first update that carried
  one; it was *kept* if the incident was resolved by then, and otherwise the
  *slip* is how much later the fix came.
"""

from __future__ import annotations

import math
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import OuterRef, Q, Subquery
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import (
    ACTIVE_STATUSES,
    AREA_STATUS_RANK,
    CLOSED_STATUSES,
    IMPACT_TO_AREA_STATUS,
    AreaStatus,
    IncidentArea,
    IncidentUpdate,
    Kind,
    ServiceArea,
)

HISTORY_DAYS = 90
WINDOW = timedelta(days=HISTORY_DAYS)


# Pure functions ------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One incident's part in one area: from when it touched the area until
    it was over (end None: still going), and what it did to the area."""

    start: datetime
    end: datetime | None
    status: str

    @property
    def is_outage(self) -> bool:
        return self.status not in (AreaStatus.OPERATIONAL, AreaStatus.MAINTENANCE)

    @property
    def is_maintenance(self) -> bool:
        return self.status == AreaStatus.MAINTENANCE


def span_status(kind: str, impact: str) -> str:
    """What an incident did to an area while it lasted."""
    if kind == Kind.MAINTENANCE:
        return AreaStatus.MAINTENANCE
    return IMPACT_TO_AREA_STATUS[impact]


def history_days(tz: tzinfo, now: datetime, days: int = HISTORY_DAYS) -> list[date]:
    """The last `days` calendar days in the zone, oldest first, today last."""
    today = now.astimezone(tz).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, in UTC: 23 or 25 hours on
    the days the clocks change."""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def window_start(tz: tzinfo, now: datetime, days: int = HISTORY_DAYS) -> datetime:
    return day_bounds(history_days(tz, now, days)[0], tz)[0]


def covered_seconds(spans: Iterable[Span], low: datetime, high: datetime, now: datetime) -> float:
    """Seconds between low and high covered by at least one span (overlaps counted once)."""
    # In UTC: subtracting two times of one zone gives wall-clock time, which
    # is an hour off across a daylight-saving change.
    intervals = sorted(
        (max(span.start, low).astimezone(UTC), min(span.end or now, high).astimezone(UTC)) for span in spans
    )
    total = 0.0
    current_start = current_end = None
    for start, end in intervals:
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def _minutes(seconds: float) -> int:
    # Any outage shows as at least a minute: a day is never "0 minutes" and red.
    return math.ceil(round(seconds, 6) / 60)


@dataclass(frozen=True)
class Day:
    day: date
    status: str
    outage_minutes: int
    maintenance_minutes: int

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def status_label(self) -> str:
        return AreaStatus(self.status).label

    @property
    def text(self) -> str:
        """What the bar says on hover, on focus and to a screen reader."""
        when = formats.date_format(self.day, "DATE_FORMAT")
        parts = []
        if self.outage_minutes:
            parts.append(
                ngettext("%(minutes)d minute of outage", "%(minutes)d minutes of outage", self.outage_minutes)
                % {"minutes": self.outage_minutes}
            )
        if self.maintenance_minutes:
            parts.append(
                ngettext(
                    "%(minutes)d minute of planned maintenance",
                    "%(minutes)d minutes of planned maintenance",
                    self.maintenance_minutes,
                )
                % {"minutes": self.maintenance_minutes}
            )
        if not parts:
            parts.append(_("no outage"))
        return _("%(day)s: %(status)s, %(details)s") % {
            "day": when,
            "status": self.status_label,
            "details": ", ".join(parts),
        }


def day_bars(spans: Iterable[Span], tz: tzinfo, now: datetime, days: int = HISTORY_DAYS) -> list[Day]:
    """One Day per calendar day in the zone: the worst status it had and the
    minutes of outage and of maintenance in it (today: up to now)."""
    spans = list(spans)
    bars = []
    for day in history_days(tz, now, days):
        low, high = day_bounds(day, tz)
        high = min(high, now)
        # A window cancelled before it began (zero length) colours nothing.
        touching = [
            span
            for span in spans
            if span.start < high and (span.end is None or (span.end > low and span.end > span.start))
        ]
        status = max(
            (span.status for span in touching),
            key=AREA_STATUS_RANK.__getitem__,
            default=AreaStatus.OPERATIONAL,
        )
        bars.append(
            Day(
                day=day,
                status=status,
                outage_minutes=_minutes(covered_seconds([s for s in touching if s.is_outage], low, high, now)),
                maintenance_minutes=_minutes(
                    covered_seconds([s for s in touching if s.is_maintenance], low, high, now)
                ),
            )
        )
    return bars


def availability(spans: Iterable[Span], tz: tzinfo, now: datetime, days: int = HISTORY_DAYS) -> float:
    """Percent of the time from the first day's local midnight until now
    without an outage. Maintenance does not count against it."""
    low = window_start(tz, now, days)
    total = (now - low).total_seconds()
    down = covered_seconds([span for span in spans if span.is_outage], low, now, now)
    return 100.0 * (1 - down / total) if total > 0 else 100.0


def percent_text(value: float | None) -> str:
    """Rounded down, so an area with any outage never reads "100%"."""
    if value is None:
        return "—"
    if value >= 100:
        return formats.number_format(100) + "%"
    return formats.number_format(math.floor(value * 100) / 100, 2) + "%"


def duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    if value < timedelta(minutes=1):
        return ngettext("%(seconds)d second", "%(seconds)d seconds", int(value.total_seconds())) % {
            "seconds": int(value.total_seconds())
        }
    reference = datetime(2000, 1, 1, tzinfo=UTC)
    return timesince(reference - value, reference, depth=2)


@dataclass(frozen=True)
class EtaOutcome:
    """How one incident ended against the first time we gave for it."""

    resolved_at: datetime
    first_eta: datetime | None
    # When the automatic estimate (started + its minutes) ran out, if one was made:
    # judged apart from operators' ETAs.
    estimate_until: datetime | None = None

    @property
    def estimate_kept(self) -> bool:
        return self.estimate_until is not None and self.resolved_at <= self.estimate_until

    @property
    def kept(self) -> bool:
        return self.first_eta is not None and self.resolved_at <= self.first_eta

    @property
    def slip(self) -> timedelta | None:
        if self.first_eta is None or self.kept:
            return None
        return self.resolved_at - self.first_eta


@dataclass(frozen=True)
class EtaHonesty:
    given: int  # resolved outages that had an ETA
    kept: int  # ... fixed by the first ETA
    median_slip: timedelta | None  # ... and by how much the others were late
    without_eta: int = 0
    days: int = HISTORY_DAYS
    # Automatic estimates from similar outages, counted apart from operators' ETAs.
    estimated: int = 0
    estimate_kept: int = 0

    @property
    def estimate_percent(self) -> float | None:
        return 100.0 * self.estimate_kept / self.estimated if self.estimated else None

    def estimate_sentence(self) -> str:
        """How the automatic estimates did, or "" if none was made."""
        if not self.estimated:
            return ""
        return ngettext(
            "Our automatic estimates from similar outages held for %(kept)d of %(given)d outage.",
            "Our automatic estimates from similar outages held for %(kept)d of %(given)d outages.",
            self.estimated,
        ) % {"kept": self.estimate_kept, "given": self.estimated}

    @property
    def percent(self) -> float | None:
        return 100.0 * self.kept / self.given if self.given else None

    def sentence(self, here: bool = True) -> str:
        """The plain sentence a customer reads: operators' ETAs, then the automatic estimates apart."""
        return " ".join(part for part in [self._operator_sentence(here), self.estimate_sentence()] if part)

    def _operator_sentence(self, here: bool) -> str:
        if not self.given:
            if here:
                return _("In the last %(days)d days there was no outage here for which we gave a time.") % {
                    "days": self.days
                }
            return _("In the last %(days)d days there was no outage for which we gave a time.") % {"days": self.days}
        params = {"days": self.days, "kept": self.kept, "given": self.given}
        if here:
            text = (
                ngettext(
                    "In the last %(days)d days, %(kept)d of %(given)d outage here was fixed by the first time we gave.",
                    "In the last %(days)d days, %(kept)d of %(given)d outages here were fixed by the first time we gave.",
                    self.given,
                )
                % params
            )
        else:
            text = (
                ngettext(
                    "In the last %(days)d days, %(kept)d of %(given)d outage was fixed by the first time we gave.",
                    "In the last %(days)d days, %(kept)d of %(given)d outages were fixed by the first time we gave.",
                    self.given,
                )
                % params
            )
        if self.median_slip is not None:
            text += " " + _("When we were late, the fix came a median of %(slip)s after that time.") % {
                "slip": duration_text(self.median_slip)
            }
        return text


def eta_honesty(outcomes: Iterable[EtaOutcome], days: int = HISTORY_DAYS) -> EtaHonesty:
    outcomes = list(outcomes)
    with_eta = [outcome for outcome in outcomes if outcome.first_eta is not None]
    slips = [outcome.slip for outcome in with_eta if outcome.slip is not None]
    estimated = [outcome for outcome in outcomes if outcome.estimate_until is not None]
    return EtaHonesty(
        estimated=len(estimated),
        estimate_kept=sum(outcome.estimate_kept for outcome in estimated),
        given=len(with_eta),
        kept=sum(outcome.kept for outcome in with_eta),
        median_slip=statistics.median(slips) if slips else None,
        without_eta=len(outcomes) - len(with_eta),
        days=days,
    )


def mean_duration(durations: Iterable[timedelta]) -> timedelta | None:
    durations = list(durations)
    if not durations:
        return None
    return sum(durations, timedelta()) / len(durations)


# Reading the database ------------------------------------------------------


def _first_eta():
    return Subquery(
        IncidentUpdate.objects.filter(incident=OuterRef("incident_id"), eta__isnull=False)
        .order_by("created_at", "id")
        .values("eta")[:1]
    )


@dataclass(frozen=True)
class Link:
    """One incident in one area, as read from the database."""

    area_id: int
    region_id: int
    time_zone: str
    incident_id: int
    kind: str
    impact: str
    started_at: datetime
    resolved_at: datetime | None
    added_at: datetime
    first_eta: datetime | None
    estimate_minutes: int | None = None

    @property
    def span(self) -> Span:
        # An area added while an incident grew is affected from then on;
        # a maintenance window starts when the work started.
        start = self.started_at if self.kind == Kind.MAINTENANCE else max(self.started_at, self.added_at)
        return Span(start=start, end=self.resolved_at, status=span_status(self.kind, self.impact))

    @property
    def is_resolved_outage(self) -> bool:
        return self.kind == Kind.INCIDENT and self.resolved_at is not None

    @property
    def outcome(self) -> EtaOutcome:
        until = self.started_at + timedelta(minutes=self.estimate_minutes) if self.estimate_minutes else None
        return EtaOutcome(resolved_at=self.resolved_at, first_eta=self.first_eta, estimate_until=until)


def links(*, since: datetime, now: datetime, areas=None) -> list[Link]:
    """Every incident-in-an-area that overlaps [since, now]: ONE query.

    Only the window is read, however many years of history there are."""
    rows = IncidentArea.objects.filter(
        Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gte=since),
        incident__status__in=ACTIVE_STATUSES + CLOSED_STATUSES,
        incident__started_at__lte=now,
    )
    if areas is not None:
        rows = rows.filter(area__in=areas)
    rows = rows.annotate(first_eta=_first_eta()).values_list(
        "area_id",
        "area__region_id",
        "area__time_zone",
        "incident_id",
        "incident__kind",
        "incident__impact",
        "incident__started_at",
        "incident__resolved_at",
        "added_at",
        "first_eta",
        "incident__estimate_minutes",
    )
    return [Link(*row) for row in rows]


def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def resolved_in_window(link_list: Iterable[Link], now: datetime) -> list[Link]:
    since = now - WINDOW
    return [link for link in link_list if link.is_resolved_outage and since <= link.resolved_at <= now]


def per_incident(link_list: Iterable[Link]) -> list[Link]:
    """One link per incident (an outage in three areas counts once overall)."""
    seen: dict[int, Link] = {}
    for link in link_list:
        seen.setdefault(link.incident_id, link)
    return list(seen.values())


@dataclass
class AreaHistory:
    days: list[Day]
    availability: float
    eta: EtaHonesty
    mean_time_to_restore: timedelta | None = None
    outages: int = 0

    @property
    def availability_text(self) -> str:
        return percent_text(self.availability)

    @property
    def mean_time_to_restore_text(self) -> str:
        return duration_text(self.mean_time_to_restore)


def history_for_area(area: ServiceArea, link_list: list[Link], now: datetime) -> AreaHistory:
    """An area's 90 days from links already read (pure: no query)."""
    tz = _zone(area.time_zone)
    spans = [link.span for link in link_list]
    resolved = resolved_in_window(link_list, now)
    return AreaHistory(
        days=day_bars(spans, tz, now),
        availability=availability(spans, tz, now),
        eta=eta_honesty(link.outcome for link in resolved),
        mean_time_to_restore=mean_duration(link.resolved_at - link.span.start for link in resolved),
        outages=len(resolved),
    )


def area_history(area: ServiceArea, now: datetime | None = None) -> AreaHistory:
    """Day bars, availability and ETA honesty of one area: one query."""
    now = now or timezone.now()
    since = min(window_start(_zone(area.time_zone), now), now - WINDOW)
    return history_for_area(area, links(since=since, now=now, areas=[area.pk]), now)


def availabilities(link_list: list[Link], now: datetime) -> dict[int, float]:
    """Availability of every area that had something in the window (pure)."""
    by_area: dict[int, list[Link]] = defaultdict(list)
    for link in link_list:
        by_area[link.area_id].append(link)
    result = {}
    for area_id, area_links in by_area.items():
        tz = _zone(area_links[0].time_zone)
        result[area_id] = availability([link.span for link in area_links], tz, now)
    return result


def overall_availability(now: datetime | None = None, areas=None) -> float | None:
    """The mean availability over areas (each area counts once): two queries.

    `areas` (a ServiceArea queryset) narrows it, e.g. to a region or a team."""
    now = now or timezone.now()
    area_qs = ServiceArea.objects.all() if areas is None else areas
    count = area_qs.count()
    if not count:
        return None
    # The earliest any zone's first day can start: 90 days and a day back.
    found = availabilities(links(since=now - WINDOW - timedelta(days=1), now=now, areas=areas), now)
    return (sum(found.values()) + (count - len(found)) * 100.0) / count


def eta_honesty_for_areas(areas=None, now: datetime | None = None) -> EtaHonesty:
    """ETA honesty over a set of areas (a ServiceArea queryset: a region, a
    team's areas...), each outage counted once: one query. None: all areas."""
    now = now or timezone.now()
    resolved = resolved_in_window(links(since=now - WINDOW, now=now, areas=areas), now)
    return eta_honesty(link.outcome for link in per_incident(resolved))


def mean_time_to_restore_for_areas(areas=None, now: datetime | None = None) -> timedelta | None:
    """Mean time from start to resolution of outages resolved in the last 90 days: one query."""
    now = now or timezone.now()
    resolved = per_incident(resolved_in_window(links(since=now - WINDOW, now=now, areas=areas), now))
    return mean_duration(link.resolved_at - link.started_at for link in resolved)


# Page contexts ---------------------------------------------------------------


def area_page_context(area: ServiceArea, overall: float | None, now: datetime | None = None) -> dict:
    """What the area page adds for its history: one query. `overall`:
    overall_availability(), which reads every area's 90 days, so the caller
    shares it between the area pages."""
    return {
        "history": area_history(area, now or timezone.now()),
        "overall_availability_text": percent_text(overall),
    }
