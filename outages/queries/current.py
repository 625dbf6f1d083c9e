"""Read side: what each page, fragment and channel shows now, in a fixed
number of queries however many areas or incidents there are.

One module, though long: pages, the widget, the push and the API build their
context from the same few prefetching querysets, which read best together.

Views, the live push, the widget and the API all build their context here,
so every channel says the same thing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, JSONField, Max, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import geo, search_terms
from ..models import (
    ACTIVE_STATUSES,
    AREA_STATUS_RANK,
    AreaStatus,
    Incident,
    IncidentArea,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    Region,
    ServiceArea,
    TeamRegion,
    area_status_for,
    normalize_postcode,
)
from . import credits, problem_reports, summary

SEARCH_MAX_LENGTH = 100
SEARCH_LIMIT = 20
RECENT_RESOLVED_LIMIT = 10


def worst(statuses) -> str:
    return max(statuses, key=AREA_STATUS_RANK.__getitem__, default=AreaStatus.OPERATIONAL)


def impact_first(incidents) -> list[Incident]:
    """Worst first (what each does to an area's status), then the oldest first."""
    return sorted(
        incidents, key=lambda incident: (-AREA_STATUS_RANK[incident.area_status], incident.started_at, incident.pk)
    )


def area_statuses(area_ids=None) -> dict[int, str]:
    """Each area's derived status: the worst over its active incidents. One query."""
    links = IncidentArea.objects.filter(incident__status__in=ACTIVE_STATUSES)
    if area_ids is not None:
        links = links.filter(area_id__in=list(area_ids))
    statuses: dict[int, str] = {}
    for area_id, kind, status, impact in links.values_list(
        "area_id", "incident__kind", "incident__status", "incident__impact"
    ):
        statuses[area_id] = worst(
            [statuses.get(area_id, AreaStatus.OPERATIONAL), area_status_for(kind, status, impact)]
        )
    return statuses


@functools.cache
def _card_annotations() -> dict[str, Subquery]:
    """The latest update's facts, as subqueries of each incident row. Built
    once: annotate() resolves a copy, and the live push reads cards on every change."""
    latest = IncidentUpdate.objects.filter(incident=OuterRef("pk")).order_by("-created_at", "-id")
    # The latest update that moved the ETA: "ETA moved from 05:07 to 06:30".
    moved = latest.filter(eta__isnull=False, previous_eta__isnull=False).exclude(eta=F("previous_eta"))
    return {
        "eta_moved_from": Subquery(moved.values("previous_eta")[:1]),
        "eta_moved_to": Subquery(moved.values("eta")[:1]),
        "latest_message": Subquery(latest.values("message")[:1]),
        "latest_message_translations": Subquery(latest.values("message_translations")[:1], output_field=JSONField()),
        "latest_update_at": Subquery(latest.values("created_at")[:1]),
    }


def with_card_data(incidents):
    """Prefetch what an incident card shows: areas, services, latest message, credits."""
    return (
        credits.with_credit_data(incidents)
        .annotate(**_card_annotations())
        .prefetch_related(
            Prefetch("areas", queryset=ServiceArea.objects.select_related("region").order_by("name")),
            # The area links come with the credit data (credits.area_links).
            "services",
        )
    )


@dataclass
class Banner:
    status: str
    affected_areas: int
    active_incidents: int

    @property
    def text(self) -> str:
        if not self.affected_areas:
            return _("All services operating normally")
        return ngettext("Outage in %(count)d area", "Outages in %(count)d areas", self.affected_areas) % {
            "count": self.affected_areas
        }


def banner(statuses: dict[int, str], active_incidents: int) -> Banner:
    affected = [status for status in statuses.values() if status != AreaStatus.OPERATIONAL]
    return Banner(status=worst(affected), affected_areas=len(affected), active_incidents=active_incidents)


@dataclass
class AreaRow:
    area: ServiceArea
    status: str

    @property
    def status_label(self) -> str:
        return AreaStatus(self.status).label


@dataclass
class RegionGroup:
    region: Region
    rows: list[AreaRow] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst(row.status for row in self.rows)


def home_snapshot() -> dict:
    """Everything `/` shows: banner, regions with area statuses, active incidents,
    the storm summary. In storm mode the list of every area is left out (the
    page offers the search instead)."""
    statuses = area_statuses()
    storm = summary.storm_summary()
    groups: dict[int, RegionGroup] = {}
    for area in ServiceArea.objects.select_related("region") if not storm.storm_mode else ():
        group = groups.setdefault(area.region_id, RegionGroup(region=area.region))
        group.rows.append(AreaRow(area=area, status=statuses.get(area.pk, AreaStatus.OPERATIONAL)))
    active = impact_first(with_card_data(Incident.objects.active()))
    return {
        "banner": banner(statuses, len(active)),
        "regions": list(groups.values()),
        "active_incidents": active,
        "upcoming_maintenance": upcoming_maintenance(),
        "summary": storm,
    }


def area_card(area: ServiceArea, home: dict | None = None) -> dict:
    """What an area's status card shows (the live push, the widget, the API):
    its status, active incidents, planned windows and the report notice.

    `home`: home_snapshot(), when the caller has it: the area's active
    incidents and planned windows are picked from it rather than read again."""
    if home is None:
        active, windows = _current_and_planned(area)
    else:
        active = [incident for incident in home["active_incidents"] if _affects(incident, area)]
        # The site's list of windows is cut at its limit: only a whole list holds every window of the area.
        site_windows = home["upcoming_maintenance"]
        if len(site_windows) < UPCOMING_MAINTENANCE_LIMIT:
            windows = [window for window in site_windows if _affects(window, area)]
        else:
            windows = upcoming_maintenance(area)
    status = worst(incident.area_status for incident in active)
    return {
        "area": area,
        "status": status,
        "status_label": AreaStatus(status).label,
        "active_incidents": active,
        "upcoming_maintenance": windows,
        "report_notice": problem_reports.notice_shown(area),
    }


def area_snapshot(area: ServiceArea) -> dict:
    """Everything an area page shows: its status card, recent history and local team."""
    recent = list(
        Incident.objects.filter(incident_areas__area=area).resolved().order_by("-resolved_at")[:RECENT_RESOLVED_LIMIT]
    )
    return {**area_card(area), "recent_incidents": recent, "team": team_contact(area)}


def _current_and_planned(area: ServiceArea) -> tuple[list[Incident], list[Incident]]:
    """The area's active incidents, worst first, and its windows not yet
    started, soonest first and at most the limit; read together, since the
    cards' data is most of the cost of each read (the live push renders an area
    page for every change)."""
    either = Incident.objects.active() | Incident.objects.upcoming_maintenance()
    both = with_card_data(either.filter(incident_areas__area=area))
    active, windows = [], []
    for incident in both:
        (active if incident.status in ACTIVE_STATUSES else windows).append(incident)
    windows.sort(key=lambda window: (window.scheduled_for, window.pk))
    return impact_first(active), windows[:UPCOMING_MAINTENANCE_LIMIT]


def _affects(incident: Incident, area: ServiceArea) -> bool:
    """Whether the incident covers the area, by its prefetched links (with_card_data)."""
    return any(link.area_id == area.pk for link in credits.area_links(incident))


def incident_snapshot(incident: Incident, home: dict | None = None) -> dict:
    """Everything an incident page shows: the card and the full timeline.

    `home`: as for area_card; the card is read only if the incident is
    not among its active incidents."""
    pk = incident.pk
    incident = next((active for active in (home or {}).get("active_incidents", ()) if active.pk == pk), None)
    if incident is None:
        incident = with_card_data(Incident.objects.filter(pk=pk)).get()
    areas = list(incident.areas.all())
    # Times read in the zone of the areas affected (the site's if they differ).
    zones = {area.time_zone for area in areas}
    tz = zones.pop() if len(zones) == 1 else None
    return {"incident": incident, "updates": list(incident.updates.all()), "tz": tz}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_query(raw: str) -> str:
    """Search input as a person meant it: no control characters, bounded length."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", raw or ""))
    return " ".join(text.split())[:SEARCH_MAX_LENGTH]


def search_areas(raw: str) -> list[AreaRow]:
    """Areas whose name, other names or region match the text as people type
    it (accents optional, "District 5" = "V. kerület", outages.search_terms),
    or whose postcodes start with it."""
    query = clean_query(raw)
    if not query:
        return []
    condition = Q(name__icontains=query) | Q(region__name__icontains=query) | Q(slug__icontains=query)
    patterns = search_terms.query_patterns(query)
    if patterns:
        every_word = Q()
        for pattern in patterns:
            every_word &= Q(search_terms__contains=pattern)
        condition |= every_word
    postcode = normalize_postcode(query)
    if postcode:
        condition |= Q(postcodes__contains=f",{postcode}")
    areas = list(ServiceArea.objects.select_related("region").filter(condition)[:SEARCH_LIMIT])
    statuses = area_statuses(area.pk for area in areas)
    return [AreaRow(area=area, status=statuses.get(area.pk, AreaStatus.OPERATIONAL)) for area in areas]


def areas_for_postcode(raw: str) -> list[ServiceArea]:
    """Areas that cover exactly this postcode."""
    postcode = normalize_postcode(raw or "")
    if not postcode:
        return []
    return list(ServiceArea.objects.select_related("region").filter(postcodes__contains=f",{postcode},"))


# Facts, promises, maintenance, teams --------------------------------------

UPCOMING_MAINTENANCE_LIMIT = 10


def promise_open(incident: Incident, now: datetime | None = None) -> bool:
    """Whether the incident's "next update by" promise still stands (shown publicly)."""
    return bool(
        incident.next_update_at
        and incident.status in ACTIVE_STATUSES
        and incident.next_update_at > (now or timezone.now())
    )


def is_overdue(incident: Incident, now: datetime | None = None) -> bool:
    """A promise passed with no new update since (flagged in the admin, never shown publicly)."""
    return bool(
        incident.next_update_at
        and incident.status in ACTIVE_STATUSES
        and incident.next_update_at <= (now or timezone.now())
    )


def overdue_incidents(now: datetime | None = None):
    return Incident.objects.active().filter(next_update_at__lte=now or timezone.now())


def customers_affected(incident: Incident, area: ServiceArea | None = None) -> int | None:
    """The estimate for one area if ops gave one, else the incident's. Uses
    the area links prefetched by with_card_data when there."""
    if area is not None:
        for link in credits.area_links(incident):
            if link.area_id == area.pk and link.customers_affected is not None:
                return link.customers_affected
    return incident.customers_affected


def incident_facts(incident: Incident, *, area: ServiceArea | None = None, now: datetime | None = None) -> dict:
    """The facts customers get about an incident, JSON-ready, for the native
    area API (`/api/areas/<slug>/`) and anything else that lists incidents:

    - cause: the Cause value ("cable_cut", ...) or null when not known
    - cause_text: what the page shows (the operator's detail, else the choice's label)
    - crew_status: not_assigned | assigned | en_route | on_site | restoring
    - customers_affected: the estimate for `area` if given and set, else the incident's; null if none
    - next_update_at: ISO 8601 of the promised next update, null if none or already passed
    - scheduled_for / scheduled_until: ISO 8601, planned maintenance only (else null)
    """
    return {
        "cause": incident.cause or None,
        "cause_text": str(incident.cause_text) or None,
        "crew_status": incident.crew_status,
        "customers_affected": customers_affected(incident, area),
        "next_update_at": incident.next_update_at.isoformat() if promise_open(incident, now) else None,
        "scheduled_for": incident.scheduled_for.isoformat() if incident.scheduled_for else None,
        "scheduled_until": incident.scheduled_until.isoformat() if incident.scheduled_until else None,
    }


def upcoming_maintenance(area: ServiceArea | None = None) -> list[Incident]:
    """Announced windows that have not started, soonest first (for one area, or all)."""
    windows = Incident.objects.upcoming_maintenance()
    if area is not None:
        windows = windows.filter(incident_areas__area=area)
    return list(with_card_data(windows.order_by("scheduled_for", "pk"))[:UPCOMING_MAINTENANCE_LIMIT])


def area_team(area: ServiceArea):
    """The team that owns the area's region (or the nearest parent region), or None. One query per level."""
    region = area.region
    seen = set()
    while region is not None and region.pk not in seen:
        seen.add(region.pk)
        link = TeamRegion.objects.select_related("team").filter(region=region).first()
        if link is not None:
            return link.team
        region = region.parent
    return None


def team_contact(area: ServiceArea) -> dict | None:
    """{"name": public name, "support_contact": ...} of the area's team, for the page and the API."""
    team = area_team(area)
    if team is None:
        return None
    # Lazy: the live push renders one snapshot in every language.
    contact = team.support_contact or None
    return {
        "name": lazy(team.in_language, str)("public_name"),
        "support_contact": contact,
        # Each phone number, address or URL on its own, so each keeps its direction in right-to-left text.
        "contact_parts": [part.strip() for part in re.split(r"\s+·\s+", contact) if part.strip()] if contact else [],
    }


# --- API, feeds and voice line -------------------------------------------------
# Each builds what its channel shows in a fixed number of queries.

API_LIST_LIMIT = 50
# What the lookup API accepts as a postcode (also in its OpenAPI document).
POSTCODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$"


def with_timeline(incidents):
    """Prefetch what the API and feeds show of an incident: updates (newest first), areas, services, credits."""
    return credits.with_credit_data(
        incidents.prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-created_at", "-id")),
            Prefetch("areas", queryset=ServiceArea.objects.select_related("region").order_by("position", "name")),
            "services",
        )
    )


@dataclass
class Components:
    """Areas (Statuspage components) with their status, grouped by region (component groups)."""

    areas: list[ServiceArea]
    regions: list[Region]
    statuses: dict[int, str]
    # The last time anything about each area's incidents changed.
    changed_at: dict[int, object]

    def status_of(self, area: ServiceArea) -> str:
        return self.statuses.get(area.pk, AreaStatus.OPERATIONAL)

    def updated_at(self, area: ServiceArea):
        changed = self.changed_at.get(area.pk)
        return max(area.updated_at, changed) if changed else area.updated_at

    @property
    def page_updated_at(self):
        return max((self.updated_at(area) for area in self.areas), default=None)

    @property
    def overall(self) -> str:
        return worst(self.statuses.values())

    def overall_of(self, areas) -> str:
        return worst(self.status_of(area) for area in areas)


def components() -> Components:
    """Every area with its status and last change. Three queries."""
    areas = list(ServiceArea.objects.select_related("region"))
    regions: dict[int, Region] = {}
    for area in areas:
        regions.setdefault(area.region_id, area.region)
    changed_at = dict(
        IncidentArea.objects.order_by()
        .values("area_id")
        .annotate(at=Max("incident__updated_at"))
        .values_list("area_id", "at")
    )
    return Components(areas=areas, regions=list(regions.values()), statuses=area_statuses(), changed_at=changed_at)


def unresolved_incidents() -> list[Incident]:
    """Incidents not yet resolved (maintenance windows are listed apart, as in Statuspage)."""
    return list(with_timeline(Incident.objects.active().filter(kind=Kind.INCIDENT).order_by("-started_at", "-id")))


def recent_incidents(limit: int = API_LIST_LIMIT) -> list[Incident]:
    """The latest incidents and maintenance windows, as Statuspage's incidents.json lists them."""
    return list(with_timeline(Incident.objects.order_by("-started_at", "-id"))[:limit])


def maintenances(which: str = "all", limit: int = API_LIST_LIMIT) -> list[Incident]:
    """Maintenance windows: all (latest first), upcoming (scheduled, soonest first) or active."""
    windows = Incident.objects.filter(kind=Kind.MAINTENANCE)
    if which == "upcoming":
        windows = windows.filter(status=MaintenanceStatus.SCHEDULED).order_by("scheduled_for", "id")
    elif which == "active":
        windows = windows.active().order_by("scheduled_for", "id")
    else:
        windows = windows.order_by("-scheduled_for", "-id")
    return list(with_timeline(windows)[:limit])


def summary_maintenances() -> list[Incident]:
    """What Statuspage's summary lists: maintenance in progress or still to come."""
    windows = Incident.objects.filter(kind=Kind.MAINTENANCE).filter(
        Q(status=MaintenanceStatus.SCHEDULED) | Q(status__in=ACTIVE_STATUSES)
    )
    return list(with_timeline(windows.order_by("scheduled_for", "id"))[:API_LIST_LIMIT])


def area_incident_history(area: ServiceArea | None = None, limit: int = API_LIST_LIMIT) -> list[Incident]:
    """The latest incidents (all, or one area's) with their timelines: what the feeds show."""
    incidents = Incident.objects.all()
    if area is not None:
        incidents = incidents.filter(incident_areas__area=area)
    return list(with_timeline(incidents.order_by("-updated_at", "-id"))[:limit])


def area_incidents_now(area_ids) -> dict[int, list[Incident]]:
    """Active incidents of each area (with their areas and services), for the voice line. Three queries."""
    incidents = with_timeline(Incident.objects.active().filter(incident_areas__area_id__in=list(area_ids)).distinct())
    by_area: dict[int, list[Incident]] = {}
    for incident in incidents:
        for incident_area in incident.areas.all():
            by_area.setdefault(incident_area.pk, []).append(incident)
    return by_area


# The area at a point --------------------------------------------------------------------


def find_area(lon: float, lat: float):
    """The service area at a point: bounding boxes narrow it down in the
    database, point-in-polygon decides. Strictly inside beats on a boundary;
    among overlapping areas the smallest (most specific) wins."""
    candidates = (
        ServiceArea.objects.defer(None)
        .select_related("region")
        .filter(bbox_west__lte=lon, bbox_east__gte=lon, bbox_south__lte=lat, bbox_north__gte=lat)
    )
    best, best_key = None, None
    for area in candidates:
        where = geo.locate_point(area.shape, lon, lat)
        if where < 0:
            continue
        size = (area.bbox_east - area.bbox_west) * (area.bbox_north - area.bbox_south)
        key = (-where, size, area.slug)
        if best_key is None or key < best_key:
            best, best_key = area, key
    return best
