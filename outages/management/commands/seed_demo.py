"""Idempotent, realistic demo data: regions, ~30 areas with postcodes,
services, active incidents with ETAs and some resolved history."""

import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from outages import area_import, services
from outages.models import Cause, Impact, Incident, IncidentStatus, Region, Service, ServiceArea

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
         "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", "XXIII"]
# Budapest postcodes are 1DDN: DD is the district number.
BUDAPEST = [(f"Budapest District {ROMAN[n - 1]}", f"budapest-district-{n}", [f"1{n:02d}{k}" for k in range(1, 8)])
            for n in range(1, 24)]
PEST_COUNTY = [
    ("Szentendre", "szentendre", ["2000"]),
    ("Gödöllő", "godollo", ["2100"]),
    ("Vác", "vac", ["2600"]),
    ("Érd", "erd", ["2030"]),
    ("Budaörs", "budaors", ["2040"]),
    ("Dunakeszi", "dunakeszi", ["2120"]),
    ("Szigetszentmiklós", "szigetszentmiklos", ["2310"]),
]
HAJDU = [("Debrecen", "debrecen", ["4024", "4025", "4026", "4027", "4028", "4029", "4030", "4031", "4032"])]
# Plausible (not surveyed) outlines for the map: outages/demo/generate_areas.py.
DEMO_SHAPES = Path(__file__).resolve().parents[2] / "demo" / "areas.geojson"
SERVICES = [("Fiber internet", "fiber"), ("Mobile", "mobile"), ("Landline", "landline"), ("TV", "tv")]

ACTIVE = [
    {
        "title": "Fiber internet outage after a cable cut",
        "areas": ["budapest-district-5", "budapest-district-6"],
        "services": ["fiber", "tv"],
        "impact": Impact.CRITICAL,
        "cause": Cause.CABLE_CUT,
        "cause_detail": "Cable cut by road works on Andrássy út",
        "started": timedelta(hours=-2),
        "updates": [
            (IncidentStatus.INVESTIGATING, "We know that fiber internet and TV are down in Districts V and VI and are looking into it.", None),
            (IncidentStatus.IDENTIFIED, "A cable was cut during road works. A repair crew is on its way.", timedelta(hours=3)),
            (IncidentStatus.IDENTIFIED, "The crew is splicing the cable; the repair takes longer than planned.", timedelta(hours=4, minutes=30)),
        ],
    },
    {
        "title": "Slow mobile data around Debrecen",
        "areas": ["debrecen"],
        "services": ["mobile"],
        "impact": Impact.MINOR,
        "cause": Cause.EQUIPMENT,
        "cause_detail": "",
        "started": timedelta(minutes=-40),
        "updates": [
            (IncidentStatus.INVESTIGATING, "Some customers see slow mobile data. Calls and SMS work normally.", timedelta(hours=2)),
        ],
    },
    {
        "title": "Storm damage: landline and internet in Szentendre",
        "areas": ["szentendre"],
        "services": ["landline", "fiber"],
        "impact": Impact.MAJOR,
        "cause": Cause.STORM,
        "cause_detail": "",
        "started": timedelta(hours=-5),
        "updates": [
            (IncidentStatus.INVESTIGATING, "The storm damaged overhead lines north of the town.", None),
            (IncidentStatus.MONITORING, "Service is back for most customers; we are watching the repaired lines.", timedelta(hours=1)),
        ],
    },
]
RESOLVED = [
    ("Mobile outage in District XI", ["budapest-district-11"], ["mobile"], Impact.MAJOR, Cause.POWER, 3, 95),
    ("Fiber maintenance overran in Érd", ["erd"], ["fiber"], Impact.MINOR, Cause.PLANNED, 6, 50),
    ("TV channels missing in Vác", ["vac"], ["tv"], Impact.MINOR, Cause.THIRD_PARTY, 9, 30),
    ("Internet outage in Districts I and II", ["budapest-district-1", "budapest-district-2"], ["fiber"], Impact.CRITICAL, Cause.EQUIPMENT, 14, 180),
]


class Command(BaseCommand):
    help = "Load demo regions, areas, services and incidents (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        self._areas()
        created = self._incidents()
        self.stdout.write(f"Demo data ready: {ServiceArea.objects.count()} areas, {created} new incidents.")
        if settings.DEBUG:
            self._demo_login()

    def _areas(self):
        budapest, _ = Region.objects.update_or_create(slug="budapest", defaults={"name": "Budapest", "position": 1})
        pest, _ = Region.objects.update_or_create(slug="pest-county", defaults={"name": "Pest County", "position": 2})
        hajdu, _ = Region.objects.update_or_create(slug="hajdu-bihar", defaults={"name": "Hajdú-Bihar", "position": 3})
        for region, rows in [(budapest, BUDAPEST), (pest, PEST_COUNTY), (hajdu, HAJDU)]:
            for position, (name, slug, postcodes) in enumerate(rows):
                ServiceArea.objects.update_or_create(
                    slug=slug,
                    defaults={"name": name, "region": region, "postcodes": ",".join(postcodes), "position": position,
                              "time_zone": "Europe/Budapest"},
                )
        area_import.run(DEMO_SHAPES.read_bytes(), DEMO_SHAPES.name)
        for position, (name, slug) in enumerate(SERVICES):
            Service.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})

    def _incidents(self) -> int:
        now = timezone.now()
        created = 0
        for spec in ACTIVE:
            if Incident.objects.filter(title=spec["title"]).exists():
                continue
            first_status, first_message, first_eta = spec["updates"][0]
            incident = services.open_incident(
                title=spec["title"],
                areas=ServiceArea.objects.filter(slug__in=spec["areas"]),
                services=Service.objects.filter(slug__in=spec["services"]),
                impact=spec["impact"],
                cause=spec["cause"],
                cause_detail=spec["cause_detail"],
                status=first_status,
                message=first_message,
                eta=now + first_eta if first_eta else None,
                started_at=now + spec["started"],
            )
            for status, message, eta in spec["updates"][1:]:
                services.post_update(incident, status=status, message=message, eta=now + eta if eta else None)
            created += 1
        for title, areas, service_slugs, impact, cause, days_ago, minutes in RESOLVED:
            if Incident.objects.filter(title=title).exists():
                continue
            started = now - timedelta(days=days_ago)
            incident = services.open_incident(
                title=title,
                areas=ServiceArea.objects.filter(slug__in=areas),
                services=Service.objects.filter(slug__in=service_slugs),
                impact=impact,
                cause=cause,
                message="We are investigating reports of a problem.",
                started_at=started,
            )
            services.resolve(
                incident, message="Service has been restored. Sorry for the trouble.", at=started + timedelta(minutes=minutes)
            )
            created += 1
        return created

    def _demo_login(self):
        user_model = get_user_model()
        if user_model.objects.filter(username="ops").exists():
            self.stdout.write("Demo ops login: user 'ops' exists (reset with: python manage.py changepassword ops).")
            return
        password = secrets.token_urlsafe(9)
        user_model.objects.create_superuser("ops", "ops@example.invalid", password)
        self.stdout.write(self.style.WARNING(f"Demo ops login (shown once): user 'ops', password '{password}'"))
