"""The storm at a glance: per region, customers out of customers served, the
number of active outages and their earliest and latest ETA, with a total.

Customers out in an area, for one service: the largest estimate among the
active outages of that service there (overlapping outages do not count a
customer twice), never more than the customers served. An outage's estimate
for an area is the area's own figure where ops gave one, else its overall
figure shared among its areas in proportion to their customers served (evenly
when unknown). An outage naming no service affects every service of the area.
Planned maintenance is not counted. A fixed number of queries, however many
areas or incidents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from ..models import CustomersServed, Incident, IncidentArea, Kind, Region, StormSettings

SORT_KEYS = {
    "region": lambda row: row.region.name.lower(),
    "out": lambda row: row.out,
    "served": lambda row: row.served,
    "percent": lambda row: row.percent if row.percent is not None else -1,
    "incidents": lambda row: row.incidents,
    "earliest_eta": lambda row: row.earliest_eta.timestamp() if row.earliest_eta else float("inf"),
    "latest_eta": lambda row: row.latest_eta.timestamp() if row.latest_eta else float("-inf"),
}


@dataclass
class SummaryRow:
    region: Region | None  # None: the total row
    out: int = 0
    served: int = 0
    incidents: int = 0
    earliest_eta: datetime | None = None
    latest_eta: datetime | None = None
    incident_ids: set = field(default_factory=set, repr=False)
    etas: list = field(default_factory=list, repr=False)

    @property
    def percent(self) -> float | None:
        """Customers out as a share of customers served (None when served is unknown)."""
        return round(100.0 * self.out / self.served, 1) if self.served else None

    def as_json(self) -> dict:
        return {
            "region": {"slug": self.region.slug, "name": self.region.localized_name} if self.region else None,
            "customers_out": self.out,
            "customers_served": self.served,
            "percent_out": self.percent,
            "incidents": self.incidents,
            "earliest_eta": self.earliest_eta.isoformat() if self.earliest_eta else None,
            "latest_eta": self.latest_eta.isoformat() if self.latest_eta else None,
        }


@dataclass
class Summary:
    rows: list[SummaryRow]
    total: SummaryRow
    storm_mode: bool = False

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(sort key, heading) of each column, in order."""
        return [
            ("region", _("Region")),
            ("out", _("Customers out")),
            ("served", _("Customers served")),
            ("percent", _("Out")),
            ("incidents", _("Outages")),
            ("earliest_eta", _("Earliest ETA")),
            ("latest_eta", _("Latest ETA")),
        ]

    def sorted(self, key: str | None, descending: bool = False) -> list[SummaryRow]:
        if key not in SORT_KEYS:
            return self.rows
        return sorted(self.rows, key=SORT_KEYS[key], reverse=descending)


def _share(incident: Incident, links: list[IncidentArea], served_in: dict[int, int]) -> dict[int, int]:
    """The outage's customers affected in each of its areas."""
    result = {link.area_id: link.customers_affected for link in links if link.customers_affected is not None}
    rest = [link.area_id for link in links if link.customers_affected is None]
    if not rest or incident.customers_affected is None:
        return result
    remaining = max(0, incident.customers_affected - sum(result.values()))
    weights = {area_id: served_in.get(area_id, 0) for area_id in rest}
    total = sum(weights.values())
    for area_id in rest:
        share = weights[area_id] / total if total else 1 / len(rest)
        result[area_id] = round(remaining * share)
    return result


def storm_summary() -> Summary:
    """Every region with its numbers, and the total row. Six queries."""
    served_rows = CustomersServed.objects.values_list("area_id", "service_id", "customers", "area__region_id")
    served: dict[tuple[int, int], int] = {}
    served_in_area: dict[int, int] = defaultdict(int)
    services_in_area: dict[int, set[int]] = defaultdict(set)
    served_by_region: dict[int, int] = defaultdict(int)
    for area_id, service_id, customers, region_id in served_rows:
        served[(area_id, service_id)] = customers
        served_in_area[area_id] += customers
        services_in_area[area_id].add(service_id)
        served_by_region[region_id] += customers
    outages = (
        Incident.objects.active()
        .filter(kind=Kind.INCIDENT)
        .prefetch_related("services", Prefetch("incident_areas", queryset=IncidentArea.objects.select_related("area")))
    )
    # (area, service or None) -> the largest estimate among the outages there.
    out: dict[tuple[int, int | None], int] = {}
    region_of: dict[int, int] = {}
    rows = {region.pk: SummaryRow(region=region) for region in Region.objects.all()}
    total = SummaryRow(region=None)
    for incident in outages:
        links = list(incident.incident_areas.all())
        service_ids = [service.pk for service in incident.services.all()]
        shares = _share(incident, links, served_in_area)
        for link in links:
            region_id = link.area.region_id
            region_of[link.area_id] = region_id
            for row in (rows.get(region_id), total):
                if row is not None and incident.pk not in row.incident_ids:
                    row.incident_ids.add(incident.pk)
                    if incident.eta:
                        row.etas.append(incident.eta)
            count = shares.get(link.area_id)
            if count is None:
                continue
            for service_id in service_ids or sorted(services_in_area[link.area_id]) or [None]:
                key = (link.area_id, service_id)
                out[key] = max(out.get(key, 0), count)
    for (area_id, service_id), count in out.items():
        cap = served.get((area_id, service_id))
        count = min(count, cap) if cap is not None else count
        row = rows.get(region_of[area_id])
        if row is not None:
            row.out += count
        total.out += count
    for region_id, row in rows.items():
        row.served = served_by_region.get(region_id, 0)
    total.served = sum(served_by_region.values())
    for row in [*rows.values(), total]:
        row.incidents = len(row.incident_ids)
        row.earliest_eta = min(row.etas, default=None)
        row.latest_eta = max(row.etas, default=None)
    shown = [row for row in rows.values() if row.served or row.incidents]
    return Summary(rows=shown, total=total, storm_mode=StormSettings.load().storm_mode)
