"""Shared data and helpers for the console's browser checks (operator path, screenshots, axe)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from outages import services
from outages.models import Channel, Impact, IncidentStatus, Subscriber
from tests import factories
from tests.conftest import ROOT, axe_source

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WIDTHS = [(1280, 800), (1024, 768)]


def storm_night():
    """A storm: a dozen incidents over two regions, subscribers on District 5 by every channel."""
    north = factories.region("North", slug="north")
    south = factories.region("South", slug="south")
    district = factories.area("District 5", slug="district-5", region_obj=north, time_zone="Europe/Budapest")
    others = [
        factories.area(f"Village {n}", slug=f"village-{n}", region_obj=north if n % 2 else south) for n in range(1, 9)
    ]
    now = timezone.now()
    for n, (channel, address) in enumerate(
        [
            (Channel.EMAIL, "a@example.com"),
            (Channel.EMAIL, "b@example.com"),
            (Channel.EMAIL, "c@example.com"),
            (Channel.SMS, "+36301234567"),
            (Channel.SMS, "+36301234568"),
            (Channel.WEBHOOK, "https://hooks.example.com/x"),
        ]
    ):
        subscriber = Subscriber.objects.create(channel=channel, address=address, confirmed_at=now)
        subscriber.areas.add(district)
    main = factories.incident(
        district,
        others[0],
        title="Fiber cut on the main road after the storm",
        impact=Impact.CRITICAL,
        eta_in=timedelta(hours=1),
        next_update_at=now + timedelta(minutes=45),
    )
    services.post_update(
        main, status=IncidentStatus.IDENTIFIED, message="A crew is on the way; a tree fell on the cable."
    )
    titles = [
        "Power cut: substation flooded",
        "Mobile mast down in the hills",
        "Water pressure low after a burst main",
        "Exchange on battery power, long title so that it wraps in the list of incidents at 1024 px",
        "Street cabinet damaged",
        "TV channels missing",
        "Slow broadband in the evenings",
    ]
    incidents = [main]
    for n, title in enumerate(titles):
        incidents.append(
            factories.incident(
                others[n % len(others)],
                others[(n + 3) % len(others)],
                title=title,
                impact=[Impact.MINOR, Impact.MAJOR, Impact.CRITICAL][n % 3],
                eta_in=timedelta(hours=n + 1) if n % 2 else None,
                next_update_at=now + timedelta(minutes=30 * (n + 1)) if n % 3 else None,
            )
        )
    resolved = factories.incident(others[2], title="Short power dip")
    services.resolve(resolved, message="Power is back.")
    return {"district": district, "main": main, "incidents": incidents, "resolved": resolved}


def sign_in(page, server, path="/admin/outages/incident/"):
    page.goto(f"{server.url}/admin/login/?next={path}")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{path}")


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        """() => document.documentElement.scrollWidth <= document.documentElement.clientWidth
               && [...document.querySelectorAll('#changelist .results, #content-main')]
                    .every(box => box.scrollWidth <= box.clientWidth + 1)"""
    )


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is (run in a context with bypass_csp)."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [node["target"] for node in v["nodes"]][:5]}
        for v in result
    ]


def describe(violations) -> str:
    return json.dumps(violations, indent=1)
