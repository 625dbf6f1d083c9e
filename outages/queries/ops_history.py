"""The ops history report (admin): per region, area, service and team over the
last 90 days, ETA kept, median slip, mean time to restore, availability.
Built on the public history's figures (outages.queries.history), in a fixed
number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import Incident, Kind, Region, Service, ServiceArea, Team
from .history import (
    WINDOW,
    EtaHonesty,
    Link,
    availabilities,
    duration_text,
    eta_honesty,
    links,
    mean_duration,
    per_incident,
    percent_text,
    resolved_in_window,
)

# The report ----------------------------------------------------


@dataclass
class ReportRow:
    label: str
    outages: int
    eta: EtaHonesty
    mean_time_to_restore: timedelta | None
    availability: float | None = None
    obj: object = None

    @property
    def availability_text(self) -> str:
        return percent_text(self.availability)

    @property
    def eta_text(self) -> str:
        if not self.eta.given:
            return "—"
        return _("%(kept)d of %(given)d (%(percent)s)") % {
            "kept": self.eta.kept,
            "given": self.eta.given,
            "percent": formats.number_format(round(self.eta.percent)) + "%",
        }

    @property
    def median_slip_text(self) -> str:
        return duration_text(self.eta.median_slip)

    @property
    def mean_time_to_restore_text(self) -> str:
        return duration_text(self.mean_time_to_restore)


def _row(label: str, link_list: list[Link], *, availability_value=None, obj=None, per_area=False) -> ReportRow:
    chosen = link_list if per_area else per_incident(link_list)
    durations = [link.resolved_at - (link.span.start if per_area else link.started_at) for link in chosen]
    return ReportRow(
        label=label,
        outages=len(chosen),
        eta=eta_honesty(link.outcome for link in chosen),
        mean_time_to_restore=mean_duration(durations),
        availability=availability_value,
        obj=obj,
    )


@dataclass
class OpsReport:
    overall: ReportRow
    regions: list[ReportRow] = field(default_factory=list)
    areas: list[ReportRow] = field(default_factory=list)
    services: list[ReportRow] = field(default_factory=list)
    teams: list[ReportRow] = field(default_factory=list)


def ops_report(now: datetime | None = None) -> OpsReport:
    """Per region, area and service over the last 90 days: ETA kept, median
    slip, mean time to restore, availability; per team too (its regions and
    their sub-regions). A fixed number of queries."""
    now = now or timezone.now()
    link_list = links(since=now - WINDOW - timedelta(days=1), now=now)
    found = availabilities(link_list, now)
    resolved = resolved_in_window(link_list, now)
    by_area: dict[int, list[Link]] = defaultdict(list)
    by_region: dict[int, list[Link]] = defaultdict(list)
    for link in resolved:
        by_area[link.area_id].append(link)
        by_region[link.region_id].append(link)
    areas = list(ServiceArea.objects.select_related("region"))
    area_rows = [
        _row(
            f"{area.region.name} › {area.name}",
            by_area.get(area.pk, []),
            availability_value=found.get(area.pk, 100.0),
            obj=area,
            per_area=True,
        )
        for area in areas
    ]
    region_rows = []
    for region in Region.objects.all():
        values = [row.availability for row, area in zip(area_rows, areas) if area.region_id == region.pk]
        region_rows.append(
            _row(
                region.name,
                by_region.get(region.pk, []),
                availability_value=sum(values) / len(values) if values else None,
                obj=region,
            )
        )
    services_of: dict[int, set[int]] = defaultdict(set)
    service_links = Incident.services.through.objects.filter(
        incident__kind=Kind.INCIDENT, incident__resolved_at__gte=now - WINDOW, incident__resolved_at__lte=now
    )
    for incident_id, service_id in service_links.values_list("incident_id", "service_id"):
        services_of[service_id].add(incident_id)
    service_rows = [
        _row(service.name, [link for link in resolved if link.incident_id in services_of[service.pk]], obj=service)
        for service in Service.objects.all()
    ]
    team_rows = []
    regions_of_team = permissions.team_region_ids()
    for team in Team.objects.order_by("name"):
        owned = regions_of_team.get(team.pk, set())
        values = [row.availability for row, area in zip(area_rows, areas) if area.region_id in owned]
        team_rows.append(
            _row(
                team.name,
                [link for link in resolved if link.region_id in owned],
                availability_value=sum(values) / len(values) if values else None,
                obj=team,
            )
        )
    values = [row.availability for row in area_rows]
    overall = _row(_("All areas"), resolved, availability_value=sum(values) / len(values) if values else None)
    return OpsReport(overall=overall, regions=region_rows, areas=area_rows, services=service_rows, teams=team_rows)
