"""Plain helpers that build test data through the service layer."""

import dataclasses
import io
from contextlib import contextmanager
from datetime import timedelta
from itertools import count
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone

from outages import events, services
from outages.models import Impact, IncidentStatus, Region, Service, ServiceArea

_seq = count(1)


@contextmanager
def unannounced():
    """Writes through the services whose after-commit work (live push,
    subscriber notices) is skipped: for setting up data before any page or
    subscriber is there to receive it. With a server running, every commit
    would otherwise render each changed fragment in every language."""
    real = events.receivers()
    events.connect(dataclasses.replace(real, publish=lambda **change: None, deliver=lambda event_id: None))
    try:
        yield
    finally:
        events.connect(real)


def seed_demo_unannounced() -> None:
    """The demo data for a browser test, seeded before any page is open: nothing to push."""
    with unannounced():
        call_command("seed_demo", stdout=io.StringIO())


def daytime_zone() -> str:
    """A real time zone whose clock now reads 06:00-17:59 (of three zones eight
    hours apart, one always does): an ETA a few hours on falls the same day there,
    so a test of how it is written does not depend on the hour the suite runs."""
    now = timezone.now()
    for name in ("Europe/Budapest", "America/Los_Angeles", "Asia/Shanghai"):
        if 6 <= timezone.localtime(now, ZoneInfo(name)).hour < 18:
            return name
    raise AssertionError("three zones eight hours apart cover the day")


def region(name: str | None = None, **fields) -> Region:
    n = next(_seq)
    name = name or f"Region {n}"
    return Region.objects.create(name=name, slug=fields.pop("slug", f"region-{n}"), **fields)


def area(name: str | None = None, *, region_obj: Region | None = None, postcodes="", **fields) -> ServiceArea:
    n = next(_seq)
    name = name or f"Area {n}"
    return ServiceArea.objects.create(
        name=name,
        slug=fields.pop("slug", f"area-{n}"),
        region=region_obj or region(),
        postcodes=postcodes,
        **fields,
    )


def service(name: str = "Fiber internet", slug: str | None = None) -> Service:
    return Service.objects.create(name=name, slug=slug or f"service-{next(_seq)}")


def incident(*areas: ServiceArea, title="Fiber outage", impact=Impact.MAJOR, eta_in=timedelta(hours=2), **kwargs):
    areas = areas or (area(),)
    return services.open_incident(
        title=title,
        areas=areas,
        impact=impact,
        status=kwargs.pop("status", IncidentStatus.INVESTIGATING),
        message=kwargs.pop("message", "We are looking into it."),
        eta=timezone.now() + eta_in if eta_in else None,
        **kwargs,
    )
