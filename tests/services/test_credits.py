"""Service credits: how long an outage has lasted in each area, the notice a
customer reads once a policy's threshold has passed, the live push at that
moment, and the billing export."""

import csv
import html
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outages import jobs, services
from outages.models import CreditCrossing, CreditPolicy, Impact, IncidentStatus, LiveChange, MaintenanceStatus
from outages.queries import credit_export
from outages.queries import credits as read_credits
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
NOTICE = (
    "This outage has lasted over 20 minutes. Fiber customers in District 5 will receive "
    "one day&#x27;s service charge as a credit automatically."
)


def fiber_policy(**fields) -> CreditPolicy:
    service = fields.pop("service", None) or factories.service("Fiber", slug="fiber")
    fields.setdefault("min_duration", 20)
    fields.setdefault("credit", "one day's service charge")
    return CreditPolicy.objects.create(service=service, **fields)


def fiber_outage(*areas, policy=None, **kwargs):
    """A fiber incident opened at the (frozen) current time, with a 20-minute policy."""
    policy = policy or fiber_policy()
    areas = areas or (factories.area("District 5", slug="district-5"),)
    return factories.incident(*areas, services=[policy.service], **kwargs), policy


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def test_notice_appears_only_once_the_outage_has_lasted_over_the_threshold(client):
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage()
        clock.move_to(T0 + timedelta(minutes=20))  # exactly 20 minutes: not yet "over"
        assert "credit" not in page(client, f"/incidents/{incident.pk}/")
        assert read_credits.credits_for(incident) == []
        clock.move_to(T0 + timedelta(minutes=20, seconds=1))
        assert NOTICE in page(client, f"/incidents/{incident.pk}/")
        assert NOTICE in page(client, "/areas/district-5/")
        assert NOTICE in page(client, "/")
        [credit] = read_credits.credits_for(incident)
        assert credit.crossed_at == T0 + timedelta(minutes=20)
        assert credit.duration == timedelta(minutes=20, seconds=1)


def test_durations_are_given_for_every_area_and_service_with_a_policy():
    with time_machine.travel(T0, tick=False) as clock:
        mobile = CreditPolicy.objects.create(service=factories.service("Mobile"), min_duration=60, credit="a voucher")
        fiber = fiber_policy()
        district_5, district_6 = factories.area("District 5"), factories.area("District 6")
        incident = factories.incident(district_5, district_6, services=[fiber.service, mobile.service])
        clock.move_to(T0 + timedelta(minutes=45))
        outages = read_credits.outages_for(incident)
    assert {(o.area.name, o.service.name, o.duration, o.end) for o in outages} == {
        (area, service, timedelta(minutes=45), None)
        for area in ["District 5", "District 6"]
        for service in ["Fiber", "Mobile"]
    }
    assert {(o.area.name, o.service.name) for o in outages if o.credits} == {
        ("District 5", "Fiber"),
        ("District 6", "Fiber"),
    }


def test_resolved_outage_keeps_its_notice_in_the_past_tense(client):
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage()
        clock.move_to(T0 + timedelta(minutes=30))
        services.resolve(incident)
        clock.move_to(T0 + timedelta(days=2))
        text = page(client, f"/incidents/{incident.pk}/")
        [credit] = read_credits.credits_for(incident)
    assert "This outage lasted over 20 minutes. Fiber customers in District 5 will receive" in text
    assert credit.duration == timedelta(minutes=30) and credit.end == T0 + timedelta(minutes=30)


def test_reopened_incident_counts_only_the_time_it_was_open():
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage()
        clock.move_to(T0 + timedelta(minutes=15))
        services.resolve(incident)
        clock.move_to(T0 + timedelta(hours=1))
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="It is back", reopen=True)
        clock.move_to(T0 + timedelta(hours=1, minutes=5))  # 15 + 5 = 20 minutes open: not over
        incident.refresh_from_db()
        assert read_credits.credits_for(incident) == []
        assert read_credits.outages_for(incident)[0].duration == timedelta(minutes=20)
        clock.move_to(T0 + timedelta(hours=1, minutes=6))
        [credit] = read_credits.credits_for(incident)
    assert credit.crossed_at == T0 + timedelta(hours=1, minutes=5)
    assert credit.duration == timedelta(minutes=21)
    assert credit.start == T0 and credit.end is None


def test_area_added_later_counts_from_when_it_was_added(client):
    with time_machine.travel(T0, tick=False) as clock:
        district_5, district_6 = (
            factories.area("District 5", slug="district-5"),
            factories.area("District 6", slug="district-6"),
        )
        incident, _ = fiber_outage(district_5)
        clock.move_to(T0 + timedelta(minutes=10))
        services.edit_incident(incident, areas=[district_5, district_6])
        clock.move_to(T0 + timedelta(minutes=25))
        assert [c.area.name for c in read_credits.credits_for(incident)] == ["District 5"]
        assert "Fiber customers in District 5 will receive" in page(client, f"/incidents/{incident.pk}/")
        assert "credit" not in page(client, "/areas/district-6/")  # its 15 minutes are not over 20
        clock.move_to(T0 + timedelta(minutes=31))
        assert "Fiber customers in District 5 and District 6 will receive" in page(client, f"/incidents/{incident.pk}/")
        area_page = page(client, "/areas/district-6/")
    # An area page speaks of its own customers only.
    assert "Fiber customers in District 6 will receive" in area_page
    assert "District 5 and" not in area_page


def test_maintenance_windows_earn_no_credit_unless_the_policy_includes_them():
    with time_machine.travel(T0, tick=False) as clock:
        policy = fiber_policy()
        district = factories.area("District 5")
        window = services.schedule_maintenance(
            title="Exchange upgrade",
            areas=[district],
            services=[policy.service],
            impact=Impact.CRITICAL,
            scheduled_for=T0 + timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=3),
        )
        clock.move_to(T0 + timedelta(hours=1))
        services.post_update(window, status=MaintenanceStatus.IN_PROGRESS, message="Started")
        clock.move_to(T0 + timedelta(hours=2))
        window.refresh_from_db()
        assert read_credits.credits_for(window) == []
        policy.include_maintenance = True
        policy.save()
        [credit] = read_credits.credits_for(window)
    # Counted from when the work started, not from when it was announced.
    assert credit.crossed_at == T0 + timedelta(hours=1, minutes=20)


def test_incidents_below_the_minimum_impact_or_under_a_switched_off_policy_earn_nothing(client):
    with time_machine.travel(T0, tick=False) as clock:
        minor, policy = fiber_outage(impact=Impact.MINOR)
        major, _ = fiber_outage(factories.area("District 6"), policy=policy, impact=Impact.MAJOR)
        clock.move_to(T0 + timedelta(hours=1))
        assert read_credits.credits_for(minor) == [] and len(read_credits.credits_for(major)) == 1
        policy.active = False
        policy.save()
        assert read_credits.credits_for(major) == []
        assert "credit" not in page(client, f"/incidents/{major.pk}/")
        assert jobs.tick()["push_credit_crossings"] == 0


def test_incident_without_services_earns_no_credit():
    with time_machine.travel(T0, tick=False) as clock:
        fiber_policy()
        incident = factories.incident(factories.area())
        clock.move_to(T0 + timedelta(hours=5))
        assert read_credits.credits_for(incident) == []


def test_durations_do_not_stretch_or_shrink_across_daylight_saving_changes(client):
    # Budapest: clocks go 02:00 -> 03:00 on 29 March and 03:00 -> 02:00 on 25 October 2026.
    spring = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)  # 01:50 CET
    autumn = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)  # 02:50 CEST
    policy = fiber_policy()
    district = factories.area("District 5", slug="district-5", time_zone="Europe/Budapest")
    with time_machine.travel(spring, tick=False) as clock:
        short_night, _ = fiber_outage(district, policy=policy)
        clock.move_to(spring + timedelta(minutes=25))  # 03:15 CEST: 85 minutes by the wall clock, 25 really
        services.resolve(short_night)
    with time_machine.travel(autumn, tick=False) as clock:
        long_night, _ = fiber_outage(district, policy=policy)
        clock.move_to(autumn + timedelta(minutes=20))  # 02:10 CET: "earlier" by the wall clock, 20 minutes really
        services.resolve(long_night)
        clock.move_to(autumn + timedelta(days=1))
        assert [c.duration for c in read_credits.credits_for(short_night)] == [timedelta(minutes=25)]
        assert read_credits.credits_for(long_night) == []  # exactly 20 minutes is not over 20
        assert read_credits.outages_for(long_night)[0].duration == timedelta(minutes=20)
        out = io.StringIO()
        call_command("credits_csv", "--since", "2026-03-29T00:00+01:00", "--until", "2026-03-30", stdout=out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["start"], row["end"], row["eligible_at"]) == (
        "2026-03-29T00:50:00+00:00",
        "2026-03-29T01:15:00+00:00",
        "2026-03-29T01:10:00+00:00",
    )
    assert row["duration_seconds"] == "1500"


def test_credits_csv_lists_each_credit_once_with_documented_columns_in_utc():
    with time_machine.travel(T0, tick=False) as clock:
        incident, policy = fiber_outage(title="=cmd|' /C calc'!A0")
        clock.move_to(T0 + timedelta(minutes=50))
        services.resolve(incident)
        ongoing, _ = fiber_outage(factories.area("Vác", slug="vac"), policy=policy, title="Still down")
        clock.move_to(T0 + timedelta(hours=2))
        day = io.StringIO()
        call_command("credits_csv", "--since", "2026-05-12", "--until", "2026-05-13", stdout=day)
        before, after = io.StringIO(), io.StringIO()
        call_command("credits_csv", "--since", "2026-05-12", "--until", "2026-05-12T11:30:00+02:00", stdout=before)
        call_command("credits_csv", "--since", "2026-05-12T09:30Z", "--until", "2026-05-13", stdout=after)
    lines = day.getvalue().splitlines()
    assert (
        lines[0]
        == ",".join(credit_export.CSV_COLUMNS)
        == (
            "incident_id,incident_title,incident_kind,area_slug,area_name,service_slug,service_name,policy_id,"
            "threshold_minutes,credit,start,end,duration_seconds,duration_minutes,eligible_at,kind"
        )
    )
    rows = list(csv.DictReader(io.StringIO(day.getvalue())))
    assert [
        (r["incident_id"], r["area_slug"], r["end"], r["duration_seconds"], r["duration_minutes"]) for r in rows
    ] == [
        (str(incident.pk), "district-5", "2026-05-12T09:50:00+00:00", "3000", "50"),
        (str(ongoing.pk), "vac", "", "4200", "70"),  # ongoing: no end, duration so far
    ]
    assert rows[0]["incident_title"].startswith("'=")  # no formula runs in a spreadsheet
    assert rows[0]["credit"] == "one day's service charge" and rows[0]["threshold_minutes"] == "20"
    assert rows[0]["start"] == "2026-05-12T09:00:00+00:00" and rows[0]["eligible_at"] == "2026-05-12T09:20:00+00:00"
    # Back-to-back ranges: each credit falls in exactly one, by when it was earned.
    assert len(before.getvalue().splitlines()) == 2 and len(after.getvalue().splitlines()) == 2


@pytest.mark.parametrize(
    "since, until, message",
    [
        ("yesterday", "2026-05-13", "is not a date"),
        ("2026-05-13", "2026-05-12", "must be after"),
        ("2026-02-30", "2026-03-01", "is not a date"),
    ],
)
def test_credits_csv_refuses_bad_dates_with_a_clear_error(since, until, message):
    with pytest.raises(CommandError, match=message):
        call_command("credits_csv", "--since", since, "--until", until, stdout=io.StringIO())


def test_scheduler_pushes_the_notice_live_once_when_the_threshold_passes(django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as clock:
        incident, policy = fiber_outage()
        clock.move_to(T0 + timedelta(minutes=19))
        before = LiveChange.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.tick()["push_credit_crossings"] == 0
        assert LiveChange.objects.count() == before
        clock.move_to(T0 + timedelta(minutes=20, seconds=10))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.tick()["push_credit_crossings"] == 1
        change = LiveChange.objects.latest("id")
        assert NOTICE in change.fragments[f"incident-{incident.pk}"]["en"]
        assert NOTICE in change.fragments["area-district-5"]["en"] and NOTICE in change.fragments["status"]["en"]
        crossing = CreditCrossing.objects.get()
        assert (crossing.incident, crossing.policy, crossing.crossed_at) == (
            incident,
            policy,
            T0 + timedelta(minutes=20),
        )
        clock.move_to(T0 + timedelta(minutes=40))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.tick()["push_credit_crossings"] == 0  # pushed once, not on every tick
        assert LiveChange.objects.latest("id") == change


def test_scheduler_pushes_a_second_policy_and_a_later_area_separately(django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as clock:
        district_5, district_6 = (
            factories.area("District 5", slug="district-5"),
            factories.area("District 6", slug="district-6"),
        )
        incident, policy = fiber_outage(district_5)
        CreditPolicy.objects.create(service=policy.service, min_duration=240, credit="one week's service charge")
        clock.move_to(T0 + timedelta(hours=1))
        services.edit_incident(incident, areas=[district_5, district_6])
        clock.move_to(T0 + timedelta(hours=1, minutes=30))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.tick()["push_credit_crossings"] == 2  # district 5 at 20 min, district 6 at 20 min
        clock.move_to(T0 + timedelta(hours=4, minutes=1))
        last_id = LiveChange.objects.order_by("-id").values_list("id", flat=True).first()
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.tick()["push_credit_crossings"] == 1  # district 5 passed 4 hours
        assert LiveChange.objects.filter(id__gt=last_id).count() == 1  # one push for the incident
        fragments = LiveChange.objects.latest("id").fragments
        assert "one week" in fragments["area-district-5"]["en"] and "area-district-6" not in fragments


def test_scheduler_ignores_resolved_incidents():
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage()
        clock.move_to(T0 + timedelta(hours=1))
        services.resolve(incident)
        assert jobs.tick()["push_credit_crossings"] == 0


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_credit_notices_add_no_queries_per_incident(client):
    policy = fiber_policy()
    CreditPolicy.objects.create(service=policy.service, min_duration=1, credit="a voucher")
    region = factories.region()

    def populate(count):
        areas = [factories.area(region_obj=region) for _ in range(count)]
        start = datetime.now(UTC) - timedelta(hours=1)
        for index in range(0, count, 3):
            incident = factories.incident(*areas[index : index + 3], services=[policy.service], started_at=start)
            services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="More")
        return areas

    areas = populate(6)
    urls = ["/", f"/areas/{areas[0].slug}/", "/ws/status/"]
    small = [_queries(client, url) for url in urls]
    assert "as a credit automatically" in client.get("/").text
    populate(60)
    assert [_queries(client, url) for url in urls] == small


def test_ops_manage_policies_and_download_the_billing_export_in_the_admin(admin_client):
    service = factories.service("Fiber", slug="fiber")
    response = admin_client.post(
        "/admin/outages/creditpolicy/add/",
        {
            "service": service.pk,
            "min_duration": "20",
            "min_impact": "major",
            "credit": "one day's service charge",
            "active": "on",
        },
    )
    assert response.status_code == 302
    policy = CreditPolicy.objects.get()
    assert (policy.min_duration, policy.include_maintenance, policy.active) == (20, False, True)
    listing = admin_client.get("/admin/outages/creditpolicy/")
    assert "Export credits (CSV)" in listing.text
    form = admin_client.get("/admin/outages/creditpolicy/export/")
    assert form.status_code == 200 and "duration_seconds" in form.text
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage(policy=policy)
        clock.move_to(T0 + timedelta(hours=1))
        download = admin_client.get(
            "/admin/outages/creditpolicy/export/", {"since": "2026-05-01", "until": "2026-06-01"}
        )
    assert download["Content-Type"].startswith("text/csv")
    assert 'filename="credits-20260501-20260601.csv"' in download["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [(r["incident_id"], r["service_slug"]) for r in rows] == [(str(incident.pk), "fiber")]
    bad = admin_client.get("/admin/outages/creditpolicy/export/", {"since": "2026-06-01", "until": "2026-05-01"})
    assert bad.status_code == 400 and "must be after its start" in bad.text


def test_policy_needs_a_positive_duration(admin_client):
    service = factories.service("Fiber", slug="fiber")
    response = admin_client.post(
        "/admin/outages/creditpolicy/add/",
        {"service": service.pk, "min_duration": "0", "min_impact": "major", "credit": "x", "active": "on"},
    )
    assert response.status_code == 200 and not CreditPolicy.objects.exists()


def test_billing_export_needs_permission(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/outages/creditpolicy/export/").status_code == 403


def test_operator_wording_is_escaped_in_the_notice(client):
    with time_machine.travel(T0, tick=False) as clock:
        incident, _ = fiber_outage(policy=fiber_policy(credit="<script>alert(1)</script>"))
        clock.move_to(T0 + timedelta(hours=1))
        text = page(client, f"/incidents/{incident.pk}/")
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_demo_data_includes_an_outage_that_earned_a_credit(client):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert set(CreditPolicy.objects.values_list("service__slug", flat=True)) == {"fiber", "mobile", "landline", "tv"}
    now = datetime.now(UTC)
    earned = credit_export.eligible_credits(now - timedelta(days=30), now + timedelta(minutes=1))
    assert {c.incident.title for c in earned} >= {
        "Mobile outage in District XI",
        "Fiber internet outage after a cable cut",
    }
    assert "as a credit automatically" in page(client, "/areas/budapest-district-5/")


@pytest.mark.parametrize(
    "minutes, text",
    [(20, "20 minutes"), (1, "1 minute"), (60, "1 hour"), (90, "1 hour 30 minutes"), (1440, "24 hours")],
)
def test_thresholds_read_naturally(minutes, text):
    assert read_credits.threshold_text(minutes) == text


def test_open_page_receives_the_notice_when_the_scheduler_sees_the_threshold_pass(make_server):
    """End to end: a real daphne, a websocket client, `manage.py scheduler --once` in its own process."""
    import subprocess
    import sys
    import time

    from websockets.sync.client import connect

    from tests.conftest import ROOT, server_env

    policy = fiber_policy()
    # Room for a busy machine to start the server and connect before the threshold passes.
    started = datetime.now(UTC) - timedelta(minutes=20) + timedelta(seconds=10)
    incident, _ = fiber_outage(policy=policy, started_at=started)
    server = make_server()
    url = server.url.replace("http", "ws") + f"/ws/incidents/{incident.pk}/"
    with connect(url, origin=server.url, open_timeout=10) as socket:
        assert "as a credit automatically" not in socket.recv(timeout=10)
        time.sleep(max(0.0, (started + timedelta(minutes=20, seconds=0.5) - datetime.now(UTC)).total_seconds()))
        run = subprocess.run(
            [sys.executable, "manage.py", "scheduler", "--once"],
            cwd=ROOT,
            env=server_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "push_credit_crossings: 1" in run.stdout
        # Pushes of earlier changes may still arrive first (the outbox poll re-reads recent rows).
        deadline = time.monotonic() + 5
        message = ""
        while NOTICE not in message and time.monotonic() < deadline:
            message = socket.recv(timeout=max(0.01, deadline - time.monotonic()))
        assert NOTICE in message


def test_every_channel_says_the_same_credit_sentence(client):
    from outages.models import NotificationEvent
    from outages.notify.compose import Composer

    with time_machine.travel(T0, tick=False) as clock:
        incident, policy = fiber_outage()
        clock.move_to(T0 + timedelta(minutes=25))
        services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", eta=None)
        area_page = page(client, "/areas/district-5/")
        native = client.get("/api/areas/district-5/").json()["active_incidents"][0]["credits"]
        v2 = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]["x_credits"]
        event = NotificationEvent.objects.filter(update=incident.updates.latest()).get()
        notice = Composer(event).for_subscriber(type("Subscriber", (), {"language": "en"})(), {incident.areas.get().pk})
    sentence = native[0]["text"]
    assert sentence.startswith("This outage has lasted over 20 minutes.")
    assert native[0] | {"areas": None} == {
        "service": policy.service.slug,
        "areas": None,
        "threshold_minutes": 20,
        "credit": policy.credit,
        "text": sentence,
    }
    assert v2[0]["text"] == sentence
    assert sentence in html.unescape(area_page)  # escaped on the page, the same words
    assert (
        sentence in notice["text"] and sentence in notice["sms"] and notice["payload"]["data"]["credits"] == [sentence]
    )
