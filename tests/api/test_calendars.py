"""Planned maintenance as calendars: read back by icalendar and by vobject."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from django.utils import timezone

from outages import services
from outages.models import MaintenanceStatus
from tests import factories

pytestmark = pytest.mark.django_db


def hours(n: float) -> datetime:
    return (timezone.now() + timedelta(hours=n)).replace(microsecond=0)


@pytest.fixture
def windows():
    district = factories.area("District 5", slug="district-5", time_zone="Europe/Budapest")
    haifa = factories.area("Haifa", slug="haifa", time_zone="Asia/Jerusalem")
    fiber = factories.service("Fiber internet", slug="fiber")
    cable = services.schedule_maintenance(
        title="Cable <b>swap</b> & tidy",
        areas=[district],
        services=[fiber],
        scheduled_for=hours(24),
        scheduled_until=hours(27),
        message="Short breaks, <script>x</script>.",
    )
    elsewhere = services.schedule_maintenance(
        title="Mast work",
        areas=[haifa],
        scheduled_for=hours(48),
        scheduled_until=hours(50),
    )
    return {"district": district, "cable": cable, "elsewhere": elsewhere}


def get(client, path, headers=None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def events(content: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(content)
    return {str(item["uid"]): item for item in calendar.walk("VEVENT")}


def test_site_calendar_parses_with_both_parsers_and_lists_every_window(client, windows):
    content = get(client, "/maintenance.ics").content
    parsed = events(content)
    cable = parsed[f"maintenance-{windows['cable'].pk}@127.0.0.1"]
    assert len(parsed) == 2
    assert cable.decoded("dtstart") == windows["cable"].scheduled_for.astimezone(UTC)
    assert cable.decoded("dtend") == windows["cable"].scheduled_until.astimezone(UTC)
    assert b"DTSTART:" in content and b"Z\r\n" in content  # UTC, no floating times
    assert str(cable["summary"]) == "Planned maintenance: Cable <b>swap</b> & tidy"  # text, as typed
    assert str(cable["status"]) == "CONFIRMED"
    assert str(cable["url"]) == f"http://127.0.0.1:8000/incidents/{windows['cable'].pk}/"
    description = str(cable["description"])
    assert description.startswith("Planned maintenance in District 5 from ")
    assert "Short breaks, <script>x</script>." in description and "Fiber internet" in description
    assert description.endswith(f"/incidents/{windows['cable'].pk}/")
    # A second, independent parser reads the same events.
    second = vobject.readOne(content.decode())
    by_uid = {item.uid.value: item for item in second.vevent_list}
    other = by_uid[f"maintenance-{windows['cable'].pk}@127.0.0.1"]
    assert other.dtstart.value == windows["cable"].scheduled_for.astimezone(UTC)
    assert other.summary.value == "Planned maintenance: Cable <b>swap</b> & tidy"
    assert int(other.sequence.value) == windows["cable"].version
    assert second.contents["x-wr-timezone"][0].value == "Europe/Budapest"


def test_area_calendar_holds_only_that_area_and_names_its_time_zone(client, windows):
    content = get(client, "/areas/haifa/maintenance.ics").content
    calendar = icalendar.Calendar.from_ical(content)
    assert [str(e["uid"]) for e in calendar.walk("VEVENT")] == [f"maintenance-{windows['elsewhere'].pk}@127.0.0.1"]
    assert str(calendar["x-wr-timezone"]) == "Asia/Jerusalem"
    assert "Haifa" in str(calendar["x-wr-calname"])
    # The description's local times are Haifa's (IST / IDT), not UTC.
    assert "IST" in str(calendar.walk("VEVENT")[0]["description"]) or "IDT" in str(
        calendar.walk("VEVENT")[0]["description"]
    )
    assert vobject.readOne(content.decode()).vevent.uid.value.startswith("maintenance-")


def test_a_moved_window_keeps_its_uid_with_a_higher_sequence(client, windows):
    uid = f"maintenance-{windows['cable'].pk}@127.0.0.1"
    before = events(get(client, "/maintenance.ics").content)[uid]
    moved_to = hours(30)
    services.edit_incident(windows["cable"], scheduled_for=moved_to, scheduled_until=hours(33))
    after = events(get(client, "/maintenance.ics").content)[uid]
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtstart") == moved_to.astimezone(UTC)
    assert after.decoded("dtstart") != before.decoded("dtstart")


def test_a_window_closed_before_it_began_is_cancelled_with_a_higher_sequence(client, windows):
    uid = f"maintenance-{windows['cable'].pk}@127.0.0.1"
    before = events(get(client, "/maintenance.ics").content)[uid]
    services.post_update(windows["cable"], status=MaintenanceStatus.COMPLETED, message="Not needed after all.")
    after = events(get(client, "/maintenance.ics").content)[uid]
    assert str(after["status"]) == "CANCELLED"
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtstart") == before.decoded("dtstart")  # the announced window, as announced
    assert "cancelled" in str(after["description"])
    # A window that ran is not cancelled when it completes.
    services.start_maintenance(windows["elsewhere"])
    services.complete_maintenance(windows["elsewhere"])
    done = events(get(client, "/maintenance.ics").content)[f"maintenance-{windows['elsewhere'].pk}@127.0.0.1"]
    assert str(done["status"]) == "CONFIRMED"


def test_the_description_follows_lang_then_accept_language(client, windows):
    uid = f"maintenance-{windows['cable'].pk}@127.0.0.1"
    english = str(events(get(client, "/maintenance.ics").content)[uid]["description"])
    hungarian = get(client, "/maintenance.ics?lang=hu")
    assert hungarian["Content-Language"] == "hu"
    hu_text = str(events(hungarian.content)[uid]["description"])
    by_header = get(client, "/maintenance.ics", {"Accept-Language": "he,en;q=0.5"})
    assert by_header["Content-Language"] == "he"
    he_text = str(events(by_header.content)[uid]["description"])
    assert len({english, hu_text, he_text}) == 3
    assert "District 5" in hu_text and "District 5" in he_text
    assert client.get("/maintenance.ics?lang=xx").status_code == 400


def test_calendars_are_cached_with_etags_and_answer_conditional_gets(client, windows):
    first = get(client, "/maintenance.ics")
    assert first["Cache-Control"].startswith("public") and "max-age=60" in first["Cache-Control"]
    assert client.get("/maintenance.ics", headers={"if-none-match": first["ETag"]}).status_code == 304
    since = client.get("/maintenance.ics", headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304
    # A change gives a new ETag at once.
    services.edit_incident(windows["cable"], title="Cable swap")
    assert get(client, "/maintenance.ics")["ETag"] != first["ETag"]
    assert client.get("/areas/atlantis/maintenance.ics").status_code == 404
    assert client.get("/maintenance.ics?x=1").status_code == 400
    assert client.post("/maintenance.ics").status_code == 405


def test_maintenance_lists_offer_the_calendar_as_webcal_and_as_a_download(client, windows):
    home = client.get("/").content.decode()
    assert 'href="webcal://127.0.0.1:8000/maintenance.ics?lang=en"' in home
    assert 'href="http://127.0.0.1:8000/maintenance.ics?lang=en" download="maintenance.ics"' in home
    area = client.get("/areas/district-5/", headers={"Accept-Language": "hu"}).content.decode()
    assert 'href="webcal://127.0.0.1:8000/areas/district-5/maintenance.ics?lang=hu"' in area
    assert 'download="maintenance-district-5.ics"' in area
