"""The voice line: one or two short sentences, as text and as SSML."""

import re
import xml.etree.ElementTree as ET
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from outages import services
from outages.models import Impact
from outages.queries import announcements, current
from tests import factories

pytestmark = pytest.mark.django_db
BUDAPEST = zoneinfo.ZoneInfo("Europe/Budapest")


def fiber_outage_in_district_5(eta: datetime):
    area = factories.area(
        "Budapest District 5", slug="budapest-district-5", postcodes="1051", time_zone="Europe/Budapest"
    )
    incident = factories.incident(area, services=[factories.service("Fiber internet", slug="fiber")], eta_in=None)
    services.post_update(incident, status="identified", eta=eta)
    return area, active_incidents(area)


def active_incidents(area):
    return current.area_incidents_now([area.pk]).get(area.pk, [])


def test_says_what_is_wrong_and_when_it_will_be_fixed_in_the_areas_time():
    now = timezone.now()
    eta = (now + timedelta(days=1)).astimezone(BUDAPEST).replace(hour=16, minute=30, second=0, microsecond=0)
    area, incidents = fiber_outage_in_district_5(eta)
    same_day_morning = eta.replace(hour=9)
    with translation.override("en"):
        text = announcements.announce(area, incidents, now=same_day_morning).text()
    assert text == (
        "There is a fiber internet outage in Budapest District 5. We expect service to be restored by 4:30 PM."
        " Latest update: We are looking into it."
    )


def test_a_later_day_is_named():
    now = timezone.now()
    eta = (now + timedelta(days=1)).astimezone(BUDAPEST).replace(hour=16, minute=30, second=0, microsecond=0)
    area, incidents = fiber_outage_in_district_5(eta)
    with translation.override("en"):
        text = announcements.announce(area, incidents, now=eta - timedelta(days=1)).text()
    assert "restored by 4:30 PM tomorrow." in text


def test_area_announcement_txt_and_ssml_say_the_same(client):
    eta = timezone.now() + timedelta(hours=3)
    fiber_outage_in_district_5(eta)
    text = client.get("/areas/budapest-district-5/announcement.txt")
    assert text.status_code == 200 and text["Content-Type"] == "text/plain; charset=utf-8"
    body = text.content.decode()
    assert body.startswith(
        "There is a fiber internet outage in Budapest District 5. We expect service to be restored by "
    )
    assert re.search(r"by \d{1,2}:\d{2} (AM|PM)( tomorrow)?\. Latest update: ", body.strip())
    ssml = client.get("/areas/budapest-district-5/announcement.ssml")
    assert ssml["Content-Type"].startswith("application/ssml+xml")
    root = ET.fromstring(ssml.content)
    assert root.tag == "speak"
    say_as = root.find(".//say-as")
    assert say_as is not None and say_as.get("interpret-as") == "time"
    spoken = "".join(root.itertext())
    assert "There is a fiber internet outage in Budapest District 5." in spoken


def test_nothing_wrong_says_so(client):
    factories.area("Érd", slug="erd")
    assert client.get("/areas/erd/announcement.txt").content.decode().strip() == "There are no known problems in Érd."


def test_unknown_eta_is_said_plainly(client):
    area = factories.area("Vác", slug="vac")
    factories.incident(area, eta_in=None, impact=Impact.MINOR)
    body = client.get("/areas/vac/announcement.txt").content.decode()
    assert body.strip().startswith(
        "There is a service disruption in Vác. We do not yet know when service will be restored."
    )


def test_operator_text_is_escaped_in_ssml(client):
    factories.area("Tom & Jerry <Town>", slug="tj")
    root = ET.fromstring(client.get("/areas/tj/announcement.ssml").content)
    assert "Tom & Jerry <Town>" in "".join(root.itertext())


def test_by_postcode_the_worst_covering_area_speaks(client):
    factories.area("Quiet", slug="quiet", postcodes="2000")
    broken = factories.area("Broken", slug="broken", postcodes="2000")
    factories.incident(broken)
    body = client.get("/announcement.txt?postcode=2000").content.decode()
    assert "in Broken." in body
    assert client.get("/announcement.txt?postcode=9999").status_code == 404
    assert client.get("/announcement.txt").status_code == 400
    assert client.get("/announcement.ssml?postcode=2000").status_code == 200


def test_language_is_chosen_with_lang_and_bad_values_are_a_400(client):
    area = factories.area("Szentendre", slug="szentendre", time_zone="Europe/Budapest")
    factories.incident(area, eta_in=timedelta(hours=2))
    hungarian = client.get("/areas/szentendre/announcement.txt?lang=hu")
    assert hungarian.status_code == 200 and hungarian["Content-Language"] == "hu"
    assert re.search(r"\b\d{1,2}:\d{2}\b", hungarian.content.decode()) and "PM" not in hungarian.content.decode()
    bad = client.get("/areas/szentendre/announcement.txt?lang=xx")
    assert bad.status_code == 400 and bad.json()["error"]["parameters"] == ["lang"]
    assert client.get("/areas/nowhere/announcement.txt").status_code == 404


@pytest.mark.parametrize(
    ("lang", "message", "title"),
    [("hu", "A szerelők a helyszínen vannak.", "Optikai internet"), ("he", "הצוות נמצא במקום.", "אינטרנט סיבים")],
)
def test_the_operators_message_is_read_in_the_callers_language(client, lang, message, title):
    area = factories.area("Budapest District 5", slug="d5", name_translations={"hu": "V. kerület", "he": "רובע V"})
    fiber = factories.service("Fiber internet", slug="fiber")
    fiber.name_translations = {"hu": "Optikai internet", "he": "אינטרנט סיבים"}
    fiber.save()
    incident = factories.incident(area, services=[fiber])
    services.post_update(
        incident,
        status="identified",
        message="The crew is on site.",
        message_translations={"hu": "A szerelők a helyszínen vannak.", "he": "הצוות נמצא במקום."},
    )
    body = client.get("/areas/d5/announcement.txt", {"lang": lang}).content.decode()
    assert message in body and "The crew is on site." not in body
    assert {"hu": "V. kerület", "he": "רובע V"}[lang] in body
    assert title.lower()[:5] in body.lower()
    ssml = client.get("/areas/d5/announcement.ssml", {"lang": lang})
    assert message in "".join(ET.fromstring(ssml.content).itertext())
