"""The console's team queue (read side): per team, its open callbacks and
messages by promised time, each with the active incident in its area and how
long until the promise breaks, and the team's promise record (last 30 days,
per team and per region of the team).

Imports: models, permissions (sub-regions) and callback_slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from ..models import OPEN_CONTACT_STATES, ContactRequest, Incident, IncidentArea, Kind, Team
from ..permissions import with_subregions
from .callback_slots import PromiseRecord, promise_record

QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueRow:
    request: ContactRequest
    incident: Incident | None
    minutes_left: int  # until the promise breaks; negative when already late

    @property
    def late(self) -> bool:
        return self.minutes_left < 0

    @property
    def minutes_late(self) -> int:
        return -self.minutes_left


@dataclass(frozen=True)
class TeamQueue:
    team: Team
    rows: list[QueueRow]
    total: int
    record: PromiseRecord
    regions: list[tuple[str, PromiseRecord]]


def active_incidents_by_area(area_ids: set[int]) -> dict[int, list[Incident]]:
    """The active incidents touching each area, newest first: one query, plus one for their services."""
    if not area_ids:
        return {}
    links = (
        IncidentArea.objects.filter(area_id__in=area_ids, incident__in=Incident.objects.active())
        .filter(incident__kind=Kind.INCIDENT)
        .select_related("incident")
        .prefetch_related("incident__services")
        .order_by("-incident__started_at")
    )
    found: dict[int, list[Incident]] = {}
    for link in links:
        found.setdefault(link.area_id, []).append(link.incident)
    return found


def _covering(incidents: list[Incident], service_id: int | None) -> Incident | None:
    # As callback_slots.deflection: an incident of no particular service covers every service.
    for incident in incidents:
        services = {service.pk for service in incident.services.all()}
        if service_id is None or not services or service_id in services:
            return incident
    return None


def open_requests(team: Team) -> QuerySet:
    return (
        ContactRequest.objects.filter(team=team, state__in=OPEN_CONTACT_STATES)
        .select_related("area", "service", "taken_by")
        .order_by("promised_at", "id")
    )


def team_queues(teams: QuerySet, now: datetime | None = None) -> list[TeamQueue]:
    """Each team's queue, earliest promise first (the first QUEUE_LIMIT rows of it)."""
    now = now or timezone.now()
    queues = []
    for team in teams.prefetch_related("regions"):
        requests = open_requests(team)
        shown = list(requests[:QUEUE_LIMIT])
        incidents = active_incidents_by_area({request.area_id for request in shown})
        rows = [
            QueueRow(
                request,
                _covering(incidents.get(request.area_id, []), request.service_id),
                int((request.promised_at - now).total_seconds() // 60),
            )
            for request in shown
        ]
        regions = [
            (region.name, promise_record(now, team_ids=[team.pk], region_ids=with_subregions({region.pk})))
            for region in team.regions.all()
        ]
        queues.append(
            TeamQueue(
                team=team,
                rows=rows,
                total=len(rows) if len(rows) < QUEUE_LIMIT else requests.count(),
                record=promise_record(now, team_ids=[team.pk]),
                regions=[(name, record) for name, record in regions if record.total],
            )
        )
    return queues
