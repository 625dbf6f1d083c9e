"""The incident life cycle and its invariants, through outages.services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from outages import services
from outages.models import AreaStatus, Impact, Incident, IncidentStatus
from outages.queries import current
from tests import factories

pytestmark = pytest.mark.django_db


def test_opening_an_incident_records_its_first_update_and_eta():
    district = factories.area("District 5")
    eta = timezone.now() + timedelta(hours=3)
    incident = services.open_incident(title="Cable cut", areas=[district], message="Crew sent.", eta=eta)
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.eta == eta
    [update] = incident.updates.all()
    assert (update.status, update.message, update.eta) == (IncidentStatus.INVESTIGATING, "Crew sent.", eta)


def test_incident_status_and_eta_follow_the_latest_update():
    incident = factories.incident()
    new_eta = timezone.now() + timedelta(hours=5)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Found it.", eta=new_eta)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED
    assert incident.eta == new_eta
    latest = incident.updates.latest()
    assert latest.previous_eta is not None and latest.eta == new_eta and latest.eta_changed


def test_update_without_eta_keeps_the_current_eta_and_explicit_none_withdraws_it():
    incident = factories.incident()
    eta = incident.eta
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Still on it.")
    incident.refresh_from_db()
    assert incident.eta == eta
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Unsure now.", eta=None)
    incident.refresh_from_db()
    assert incident.eta is None


def test_eta_in_the_past_is_refused_with_a_clear_error_and_changes_nothing():
    incident = factories.incident()
    with pytest.raises(ValidationError) as error:
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, eta=timezone.now() - timedelta(minutes=1))
    assert "future" in str(error.value)
    assert incident.updates.count() == 1


def test_opening_with_a_past_eta_is_refused():
    with pytest.raises(ValidationError, match="future"):
        factories.incident(eta_in=timedelta(minutes=-5))
    assert not Incident.objects.exists()


def test_resolving_sets_resolved_time_and_clears_eta():
    incident = factories.incident()
    services.resolve(incident, message="Fixed.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at is not None and incident.resolved_at >= incident.started_at
    assert incident.eta is None


def test_resolved_incident_takes_no_new_status_without_explicit_reopen():
    incident = factories.incident()
    services.resolve(incident)
    with pytest.raises(ValidationError, match="Reopen"):
        services.post_update(incident, status=IncidentStatus.INVESTIGATING, message="Back again")
    services.post_update(incident, status=IncidentStatus.INVESTIGATING, message="Back again", reopen=True)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING and incident.resolved_at is None


def test_database_refuses_a_resolution_before_the_start():
    incident = factories.incident()
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(resolved_at=incident.started_at - timedelta(minutes=1))


def test_update_cannot_be_dated_before_the_previous_one():
    incident = factories.incident()
    with pytest.raises(ValidationError, match="previous"):
        services.resolve(incident, at=incident.started_at - timedelta(minutes=1))


def test_unknown_status_or_impact_is_refused():
    incident = factories.incident()
    with pytest.raises(ValidationError):
        services.post_update(incident, status="exploded")
    with pytest.raises(ValidationError):
        factories.incident(impact="apocalyptic")


def test_area_status_is_the_worst_over_its_active_incidents():
    district = factories.area()
    other = factories.area()
    factories.incident(district, impact=Impact.MINOR)
    worst = factories.incident(district, impact=Impact.CRITICAL)
    statuses = current.area_statuses()
    assert statuses[district.pk] == AreaStatus.MAJOR
    assert other.pk not in statuses
    services.resolve(worst)
    assert current.area_statuses()[district.pk] == AreaStatus.DEGRADED


def test_resolved_incident_leaves_area_operational():
    district = factories.area()
    services.resolve(factories.incident(district))
    assert current.area_statuses().get(district.pk, AreaStatus.OPERATIONAL) == AreaStatus.OPERATIONAL


def test_area_added_to_a_growing_incident_counts_from_when_it_was_added():
    first, later = factories.area(), factories.area()
    incident = factories.incident(first)
    services.edit_incident(incident, areas=[first, later])
    added = {link.area_id: link.added_at for link in incident.incident_areas.all()}
    assert added[first.pk] == incident.started_at
    assert added[later.pk] > incident.started_at


def test_postcodes_are_normalised_for_lookup():
    district = factories.area(postcodes="1051, 1052\nsw1a 1aa")
    assert district.postcode_list == ["1051", "1052", "SW1A1AA"]
    assert current.areas_for_postcode("SW1A 1AA") == [district]
    assert current.areas_for_postcode("105") == []


def test_maintenance_window_puts_its_areas_under_maintenance_only_while_in_progress():
    from outages.models import MaintenanceStatus

    district = factories.area()
    start = timezone.now() + timedelta(hours=1)
    window = services.schedule_maintenance(
        title="Exchange upgrade", areas=[district], scheduled_for=start, scheduled_until=start + timedelta(hours=2)
    )
    assert window.status == MaintenanceStatus.SCHEDULED and not window.is_active
    assert district.pk not in current.area_statuses()
    services.post_update(window, status=MaintenanceStatus.IN_PROGRESS, message="Started early")
    window.refresh_from_db()
    assert window.started_at <= timezone.now()
    assert current.area_statuses()[district.pk] == AreaStatus.MAINTENANCE
    factories.incident(district, impact=Impact.MINOR)
    assert current.area_statuses()[district.pk] == AreaStatus.DEGRADED  # an outage outranks maintenance
    services.resolve(window)
    window.refresh_from_db()
    assert window.status == MaintenanceStatus.COMPLETED and window.resolved_at is not None


def test_maintenance_takes_only_maintenance_statuses_and_a_sane_window():
    district = factories.area()
    start = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationError, match="end after"):
        services.schedule_maintenance(title="X", areas=[district], scheduled_for=start, scheduled_until=start)
    window = services.schedule_maintenance(
        title="X", areas=[district], scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    with pytest.raises(ValidationError):
        services.post_update(window, status=IncidentStatus.IDENTIFIED)
