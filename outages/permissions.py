"""Row-level permissions of the ops console: regional teams.

A team owns regions (and, through them, their sub-regions and areas). An
operator sees and edits only incidents that touch at least one area of
their teams' regions, and can only pick those areas. Superusers see all.
A staff user in no team sees no incident.

Every path asks these: the admin in its querysets, forms, actions and
views, the management API and the Alertmanager receiver (a token acts as its
user), the report actions. So a crafted POST or a token gets what the menus
show: nothing outside the team's regions.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ContactRequest, Incident, IncidentArea, Region, ServiceArea, Team, TeamRegion

_CACHE_ATTR = "_ops_region_ids"


def sees_everything(user) -> bool:
    return bool(user and user.is_active and user.is_superuser)


def region_ids(user) -> set[int] | None:
    """The regions the user works on (None: all of them). Two queries, cached on the user object."""
    if sees_everything(user):
        return None
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    ids: set[int] = set()
    if user is not None and user.is_active and user.pk is not None:
        ids = with_subregions(set(TeamRegion.objects.filter(team__members=user).values_list("region_id", flat=True)))
    setattr(user, _CACHE_ATTR, ids)
    return ids


def with_subregions(ids: set[int]) -> set[int]:
    """The regions and every region below them. One query (none for no regions)."""
    return _expand(ids, _children()) if ids else set()


def team_region_ids() -> dict[int, set[int]]:
    """Each team's regions with their sub-regions, by team id: two queries."""
    owned: dict[int, set[int]] = {}
    for team_id, region_id in TeamRegion.objects.values_list("team_id", "region_id"):
        owned.setdefault(team_id, set()).add(region_id)
    children = _children()
    return {team_id: _expand(ids, children) for team_id, ids in owned.items()}


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for pk, parent in Region.objects.exclude(parent=None).values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    return children


def _expand(ids: set[int], children: dict[int, list[int]]) -> set[int]:
    ids, stack = set(ids), list(ids)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in ids:
                ids.add(child)
                stack.append(child)
    return ids


def areas_for(user, queryset: QuerySet | None = None) -> QuerySet:
    """The areas the user may pick."""
    queryset = queryset if queryset is not None else ServiceArea.objects.all()
    ids = region_ids(user)
    return queryset if ids is None else queryset.filter(region_id__in=ids)


def incidents_for(user, queryset: QuerySet | None = None) -> QuerySet:
    """The incidents (and maintenance windows) the user may see and edit."""
    queryset = queryset if queryset is not None else Incident.objects.all()
    ids = region_ids(user)
    if ids is None:
        return queryset
    touching = IncidentArea.objects.filter(area__region_id__in=ids).values("incident_id")
    return queryset.filter(pk__in=touching)


def can_manage(user, incident: Incident) -> bool:
    return incidents_for(user, Incident.objects.filter(pk=incident.pk)).exists()


def areas_outside(user, areas) -> list[ServiceArea]:
    """The areas of `areas` the user may not pick (none for a superuser): a write
    naming any of them is refused, whichever path it comes by."""
    ids = region_ids(user)
    return [] if ids is None else [area for area in areas if area.region_id not in ids]


def may_use_areas(user, areas) -> bool:
    return not areas_outside(user, areas)


def may_use_area(user, area: ServiceArea) -> bool:
    return may_use_areas(user, [area])


def hidden_area_ids(user, incident: Incident) -> set[int]:
    """Areas of the incident outside the user's regions: kept as they are when the user edits it."""
    ids = region_ids(user)
    if ids is None or not incident.pk:
        return set()
    return set(incident.incident_areas.exclude(area__region_id__in=ids).values_list("area_id", flat=True))


def teams_for(user) -> QuerySet:
    """The teams whose callback and message queues the user works (all of them for a superuser)."""
    if sees_everything(user):
        return Team.objects.all()
    if user is None or not user.is_active or user.pk is None:
        return Team.objects.none()
    return Team.objects.filter(members=user)


def contact_requests_for(user, queryset: QuerySet | None = None) -> QuerySet:
    """The callbacks and messages the user may see and act on: their teams' only.
    They hold phone numbers and texts, so a team never sees another's."""
    queryset = queryset if queryset is not None else ContactRequest.objects.all()
    if sees_everything(user):
        return queryset
    return queryset.filter(team__in=teams_for(user))


OPERATOR_GROUP = "Operators"
OPERATOR_PERMISSIONS = [
    "add_incident",
    "change_incident",
    "view_incident",
    "add_maintenancewindow",
    "change_maintenancewindow",
    "view_maintenancewindow",
    "view_servicearea",
    "view_region",
    "view_service",
    "view_team",
    "view_updatetemplate",
    "view_auditentry",
    "view_contactrequest",
    "change_contactrequest",
]


def operator_group():
    """The group that gives staff users the console's incident permissions (rows still follow their team)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="outages", codename__in=OPERATOR_PERMISSIONS)
    )
    return group
