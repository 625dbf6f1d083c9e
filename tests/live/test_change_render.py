"""A change's push shows exactly what a reload would: the area's and the
incident's fragments, built from the home page's data in one pass, equal the
snapshots each page renders on its own, in every language."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from outages import services
from outages.live import fragments
from outages.live.groups import area_group, incident_group
from outages.models import IncidentStatus
from outages.queries import current

from .. import factories

pytestmark = pytest.mark.django_db


def window(area, title, hours):
    start = timezone.now() + timedelta(hours=hours)
    return services.schedule_maintenance(
        title=title, areas=[area], scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )


def pushed(change, group, language):
    """A change's fragment as a client of that language (no ?lang= link) gets it."""
    return fragments.for_client(change[group][language], language)


def standalone(area, incident, language):
    """The fragments as a connecting client's snapshot renders them, page by page."""
    return (
        fragments.render_group_snapshot(area_group(area.slug), language),
        fragments.render_group_snapshot(incident_group(incident.pk), language),
    )


def test_the_change_fragments_equal_each_page_own_snapshot():
    here = factories.area("Here", slug="here")
    there = factories.area("There", slug="there")
    with time_machine.travel(timezone.now(), tick=False):
        ours = factories.incident(here, title="Cable cut")
        factories.incident(there, title="Elsewhere")
        both = factories.incident(here, there, title="Regional")
        services.post_update(both, status=IncidentStatus.RESOLVED, message="Fixed")
        window(here, "Here work", 5)
        window(there, "There work", 6)
        services.post_update(ours, status=IncidentStatus.IDENTIFIED, message="Crew on site")
        change = fragments.render_change(ours.pk, [here.pk])
        for language in ("en", "hu", "he"):
            area_html, incident_html = standalone(here, ours, language)
            assert pushed(change, area_group("here"), language) == area_html, language
            assert pushed(change, incident_group(ours.pk), language) == incident_html, language
        assert "Here work" in change[area_group("here")]["en"]
        assert "There work" not in change[area_group("here")]["en"]
        assert "Elsewhere" not in change[area_group("here")]["en"]


def test_a_resolved_incident_and_a_full_list_of_windows_are_read_as_the_pages_read_them():
    here = factories.area("Here", slug="here")
    there = factories.area("There", slug="there")
    with time_machine.travel(timezone.now(), tick=False):
        # More windows elsewhere than the site's list holds: the area's own comes after them.
        for hour in range(current.UPCOMING_MAINTENANCE_LIMIT):
            window(there, f"There work {hour}", 2 + hour)
        window(here, "Late here work", 48)
        incident = factories.incident(here, title="Cable cut")
        services.post_update(incident, status=IncidentStatus.RESOLVED, message="Fixed")
        change = fragments.render_change(incident.pk, [here.pk])
        area_html, incident_html = standalone(here, incident, "en")
        assert pushed(change, area_group("here"), "en") == area_html
        assert pushed(change, incident_group(incident.pk), "en") == incident_html
        assert "Late here work" in area_html
        assert "Fixed" in incident_html
