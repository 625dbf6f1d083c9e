"""Plain dicts from models, for the JSON API: Statuspage v2 shapes and our native ones.

Statuspage words: areas are components, regions are component groups,
incidents and maintenance windows are incidents. Ids are strings, as in
Statuspage: incidents and updates keep their number ("42"); components read
"area-<pk>" and groups "region-<pk>" so the two can never clash.

Fields Statuspage does not have are added with the prefix ``x_`` (Statuspage
never uses it): ``x_eta``, ``x_cause``, ``x_cause_text``, ``x_services``,
``x_kind`` on incidents, ``x_eta`` on updates, ``x_slug`` on components.

Crew status, customers affected and the next-update promise are serialised
in ``incident_extras`` below, as ``x_crew_status``,
``x_customers_affected`` and ``x_next_update_at``, and in ``native_incident``
(``crew_status``, ``customers_affected``, ``next_update_at``); the OpenAPI
document (outages/openapi.py) lists them in IncidentExtras and NativeIncident.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify

from ..models import (
    AREA_STATUS_RANK,
    CLOSED_STATUSES,
    AreaStatus,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceStatus,
    Region,
    ServiceArea,
    area_status_for,
)
from ..queries import announcements, credits, current, estimates
from ..queries.current import Components
from ..site import absolute, site_name

# Statuspage's indicator and its usual wording, from the worst area status.
INDICATORS = {
    AreaStatus.OPERATIONAL: ("none", "All Systems Operational"),
    AreaStatus.MAINTENANCE: ("none", "Service Under Maintenance"),
    AreaStatus.DEGRADED: ("minor", "Minor Service Outage"),
    AreaStatus.PARTIAL: ("major", "Partial System Outage"),
    AreaStatus.MAJOR: ("critical", "Major Service Outage"),
}
MONITORING_STATUSES = {IncidentStatus.MONITORING, MaintenanceStatus.VERIFYING}


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as Statuspage writes them."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def parse_timestamp(value) -> datetime | None:
    """An RFC 3339 date-time (what OpenAPI's format: date-time means), or None."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper())
        parsed.astimezone(UTC)  # years 1 and 9999 may not fit once in UTC
    except (ValueError, OverflowError):
        return None
    return parsed


def page_id() -> str:
    return slugify(settings.SITE_NAME) or "status"


def page(updated_at: datetime | None) -> dict:
    return {
        "id": page_id(),
        "name": site_name(),
        "url": settings.SITE_URL,
        "time_zone": settings.TIME_ZONE,
        "updated_at": timestamp(updated_at),
    }


def status(area_status: str) -> dict:
    indicator, description = INDICATORS[AreaStatus(area_status)]
    return {"indicator": indicator, "description": description}


def area_component_id(area_id: int) -> str:
    return f"area-{area_id}"


def region_component_id(region_id: int) -> str:
    return f"region-{region_id}"


def component(area: ServiceArea, comps: Components) -> dict:
    return {
        "id": area_component_id(area.pk),
        "name": area.localized_name,
        "status": comps.status_of(area),
        "created_at": timestamp(area.created_at),
        "updated_at": timestamp(comps.updated_at(area)),
        "position": area.position,
        "description": area.localized_description or None,
        "showcase": True,
        "start_date": None,
        "group_id": region_component_id(area.region_id),
        "page_id": page_id(),
        "group": False,
        "only_show_if_degraded": False,
        "x_slug": area.slug,
    }


def group(region: Region, areas: list[ServiceArea], comps: Components) -> dict:
    """A region as a component group; it has no dates of its own, so it takes its areas'."""
    return {
        "id": region_component_id(region.pk),
        "name": region.localized_name,
        "status": comps.overall_of(areas),
        "created_at": timestamp(min(area.created_at for area in areas)),
        "updated_at": timestamp(max(comps.updated_at(area) for area in areas)),
        "position": region.position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id(),
        "group": True,
        "only_show_if_degraded": False,
        "components": [area_component_id(area.pk) for area in areas],
        "x_slug": region.slug,
    }


def components(comps: Components) -> list[dict]:
    """Each region group followed by its areas, in page order."""
    by_region: dict[int, list[ServiceArea]] = {}
    for area in comps.areas:
        by_region.setdefault(area.region_id, []).append(area)
    listed = []
    for region in comps.regions:
        areas = by_region[region.pk]
        listed.append(group(region, areas, comps))
        listed.extend(component(area, comps) for area in areas)
    return listed


def _update(update: IncidentUpdate, incident: Incident, old_status: str, new_status: str) -> dict:
    changed = [
        {
            "code": area_component_id(area.pk),
            "name": area.localized_name,
            "old_status": old_status,
            "new_status": new_status,
        }
        for area in incident.areas.all()
    ]
    return {
        "id": str(update.pk),
        "status": update.status,
        "body": update.message,
        "incident_id": str(incident.pk),
        "created_at": timestamp(update.created_at),
        "updated_at": timestamp(update.created_at),
        "display_at": timestamp(update.created_at),
        # Only when the update moved the areas' status, as Statuspage does.
        "affected_components": changed if old_status != new_status else None,
        "x_eta": timestamp(update.eta),
    }


def incident_updates(incident: Incident) -> list[dict]:
    """Newest first. Each update's effect on the areas is this incident's alone."""
    updates = list(incident.updates.all())  # prefetched newest first
    serialised = []
    old_status = AreaStatus.OPERATIONAL
    for update in reversed(updates):
        new_status = area_status_for(incident.kind, update.status, incident.impact)
        serialised.append(_update(update, incident, old_status, new_status))
        old_status = new_status
    serialised.reverse()
    return serialised


def incident_extras(incident: Incident) -> dict:
    """Our fields Statuspage lacks, under the x_ prefix."""
    return {
        "x_kind": incident.kind,
        "x_eta": timestamp(incident.eta),
        "x_cause": incident.cause or None,
        "x_cause_text": incident.cause_text or None,
        "x_services": [service.localized_name for service in incident.services.all()],
        "x_crew_status": incident.crew_status,
        "x_customers_affected": incident.customers_affected,
        "x_next_update_at": next_update_at(incident),
        "x_credits": [notice.as_json() for notice in credits.notices_for(incident)],
        "x_estimate": estimate(incident),
        "x_eta_stage": incident.eta_stage,
    }


def estimate(incident: Incident) -> dict | None:
    """The automatic first estimate while no operator ETA is given (never an ETA):
    {"minutes": the time most similar outages were fixed within, "samples": how many, "text": the sentence}."""
    if not estimates.shown(incident):
        return None
    return {
        "minutes": incident.estimate_minutes,
        "samples": incident.estimate_samples,
        "text": announcements.estimate_text(incident),
    }


def next_update_at(incident: Incident) -> str | None:
    """The promised next update while it stands; a passed promise is not shown."""
    return timestamp(incident.next_update_at) if current.promise_open(incident) else None


def incident(incident: Incident, comps: Components) -> dict:
    updates = list(incident.updates.all())
    monitoring = [update.created_at for update in updates if update.status in MONITORING_STATUSES]
    data = {
        "id": str(incident.pk),
        "name": incident.localized_title,
        "status": incident.status,
        "created_at": timestamp(incident.created_at),
        "updated_at": timestamp(incident.updated_at),
        "monitoring_at": timestamp(min(monitoring)) if monitoring else None,
        "resolved_at": timestamp(incident.resolved_at if incident.status in CLOSED_STATUSES else None),
        "impact": incident.impact,
        "shortlink": absolute(incident.get_absolute_url()),
        "started_at": timestamp(incident.started_at),
        "page_id": page_id(),
        "incident_updates": incident_updates(incident),
        "components": [component(area, comps) for area in incident.areas.all()],
    }
    if incident.is_maintenance:
        data["scheduled_for"] = timestamp(incident.scheduled_for)
        data["scheduled_until"] = timestamp(incident.scheduled_until)
    data.update(incident_extras(incident))
    return data


# --- native ----------------------------------------------------------------------


def native_area(area: ServiceArea, area_status: str) -> dict:
    return {
        "slug": area.slug,
        "name": area.localized_name,
        "region": {"slug": area.region.slug, "name": area.region.localized_name},
        "status": area_status,
        "status_label": str(AreaStatus(area_status).label),
        "time_zone": area.time_zone,
        "url": absolute(reverse("area", args=[area.slug])),
        "api_url": absolute(reverse("api-area", args=[area.slug])),
    }


def native_incident(incident: Incident, area: ServiceArea | None = None) -> dict:
    """An incident as the native API shows it (with_card_data annotations expected);
    customers_affected is the area's own estimate when ops gave one."""
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "title": incident.localized_title,
        "status": incident.status,
        "impact": incident.impact,
        "area_status": incident.area_status,
        "cause": incident.cause or None,
        "cause_text": incident.cause_text or None,
        "started_at": timestamp(incident.started_at),
        "eta": timestamp(incident.eta),
        "estimate": estimate(incident),
        "eta_stage": incident.eta_stage,
        "scheduled_for": timestamp(incident.scheduled_for),
        "scheduled_until": timestamp(incident.scheduled_until),
        "crew_status": incident.crew_status,
        "customers_affected": current.customers_affected(incident, area),
        "next_update_at": next_update_at(incident),
        "credits": [notice.as_json() for notice in credits.notices_for(incident, area=area)],
        "latest_message": getattr(incident, "latest_message", None) or "",
        "latest_update_at": timestamp(getattr(incident, "latest_update_at", None)),
        "areas": [area.slug for area in incident.areas.all()],
        "services": [service.localized_name for service in incident.services.all()],
        "url": absolute(incident.get_absolute_url()),
    }


def latest_eta(incidents) -> datetime | None:
    """When everything known will be fixed: the latest ETA among the active incidents that have one."""
    return max((incident.eta for incident in incidents if incident.eta), default=None)


def native_area_detail(snapshot: dict) -> dict:
    area, active = snapshot["area"], snapshot["active_incidents"]
    incidents = [native_incident(incident, area) for incident in active]
    # The area's headline facts are those of its worst active incident.
    worst = max(active, key=lambda incident: AREA_STATUS_RANK[incident.area_status], default=None)
    promises = [item["next_update_at"] for item in incidents if item["next_update_at"]]
    counts = [item["customers_affected"] for item in incidents if item["customers_affected"] is not None]
    return {
        **native_area(area, snapshot["status"]),
        "description": area.localized_description,
        "postcodes": area.postcode_list,
        "eta": timestamp(latest_eta(active)),
        "next_update_at": min(promises, default=None),
        "cause": (worst.cause or None) if worst else None,
        "crew_status": worst.crew_status if worst else None,
        "customers_affected": sum(counts) if counts else None,
        "active_incidents": incidents,
    }
