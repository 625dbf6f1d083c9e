"""Idempotent, realistic demo data: regions, ~30 areas with postcodes,
services, credit policies, the local teams' contact settings and a wait
credit, active incidents with ETAs and some resolved history (several of
which earned customers a credit)."""

import secrets
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from outages import permissions, services
from outages.models import (
    Cause,
    CreditPolicy,
    CrewStatus,
    Impact,
    Incident,
    IncidentArea,
    IncidentStatus,
    IncidentUpdate,
    Kind,
    Region,
    Service,
    ServiceArea,
    Team,
    TeamContact,
    TeamRegion,
    UpdateTemplate,
    WaitCreditPolicy,
)
from outages.services import area_import

ROMAN = [
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
    "XXI",
    "XXII",
    "XXIII",
]
# Budapest postcodes are 1DDN: DD is the district number.
BUDAPEST = [
    (f"Budapest District {ROMAN[n - 1]}", f"budapest-district-{n}", [f"1{n:02d}{k}" for k in range(1, 8)])
    for n in range(1, 24)
]
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
# One credit policy per service (created only if the service has none, so ops' edits stay).
CREDIT_POLICIES = [
    ("fiber", 20, "one day's service charge"),
    ("mobile", 60, "one day's service charge"),
    ("landline", 120, "one day's line rental"),
    ("tv", 180, "one day's TV subscription"),
]

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
            (
                IncidentStatus.INVESTIGATING,
                "We know that fiber internet and TV are down in Districts V and VI and are looking into it.",
                None,
            ),
            (
                IncidentStatus.IDENTIFIED,
                "A cable was cut during road works. A repair crew is on its way.",
                timedelta(hours=3),
            ),
            (
                IncidentStatus.IDENTIFIED,
                "The crew is splicing the cable; the repair takes longer than planned.",
                timedelta(hours=4, minutes=30),
            ),
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
            (
                IncidentStatus.INVESTIGATING,
                "Some customers see slow mobile data. Calls and SMS work normally.",
                timedelta(hours=2),
            ),
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
            (
                IncidentStatus.MONITORING,
                "Service is back for most customers; we are watching the repaired lines.",
                timedelta(hours=1),
            ),
        ],
    },
]
# Facts for the active incidents: customers affected, crew, promised next update.
FACTS = {
    "Fiber internet outage after a cable cut": (4200, CrewStatus.ON_SITE, timedelta(minutes=45)),
    "Slow mobile data around Debrecen": (900, CrewStatus.ASSIGNED, timedelta(minutes=30)),
    "Storm damage: landline and internet in Szentendre": (350, CrewStatus.RESTORING, None),
}
PER_AREA_CUSTOMERS = {
    ("Fiber internet outage after a cable cut", "budapest-district-5"): 2600,
    ("Fiber internet outage after a cable cut", "budapest-district-6"): 1600,
}
MAINTENANCE = [
    (
        "Network upgrade in District XIII",
        ["budapest-district-13"],
        ["fiber", "tv"],
        timedelta(days=1, hours=1),
        4,
        "We are upgrading the fiber network. Internet and TV may drop for up to 30 minutes during the window.",
    ),
    (
        "Exchange maintenance in Gödöllő",
        ["godollo"],
        ["landline"],
        timedelta(days=3),
        2,
        "Planned work at the Gödöllő exchange; landline calls may be interrupted briefly.",
    ),
    (
        "Mobile mast replacement in Debrecen",
        ["debrecen"],
        ["mobile"],
        timedelta(days=6, hours=3),
        6,
        "A mast is being replaced; mobile coverage in the city centre may be weaker.",
    ),
]
TEAMS = [
    (
        "Budapest network operations",
        "Budapest Network Team",
        "+36 1 555 0100 · budapest-support@example.invalid",
        ["budapest"],
    ),
    ("Regional operations east", "Regional Service Team (East)", "+36 52 555 0100", ["pest-county", "hajdu-bihar"]),
]
# The local teams' contact settings (created only if a team has none, so ops' edits stay).
TEAM_INTROS = {
    "Budapest network operations": "We look after the fiber, mobile and landline network in all 23 districts.",
    "Regional operations east": "We look after Pest County and Hajdú-Bihar, from Szentendre to Debrecen.",
}
TEAM_HOURS = {**{str(day): ["08:00", "20:00"] for day in range(5)}, "5": ["09:00", "14:00"]}
# Late callbacks earn a credit (created only if there is no wait credit policy).
WAIT_CREDIT_POLICIES = [(30, "a €5 credit on your next bill")]
TEMPLATES = [
    (
        "Investigating",
        "",
        IncidentStatus.INVESTIGATING,
        CrewStatus.NOT_ASSIGNED,
        "We know about a problem in {area} and are looking into it. Next update by {next_update}.",
    ),
    (
        "Crew on the way",
        "",
        IncidentStatus.IDENTIFIED,
        CrewStatus.EN_ROUTE,
        "We found the cause. A repair crew is on its way to {area}; we expect service back by {eta}.",
    ),
    ("Crew on site", "", "", CrewStatus.ON_SITE, "The crew is on site in {area}. Expected fix: {eta}."),
    (
        "Fixed, monitoring",
        "",
        IncidentStatus.MONITORING,
        CrewStatus.RESTORING,
        "Service is coming back in {area}. We are watching it closely.",
    ),
    (
        "Cable cut (open)",
        "Fiber internet outage after a cable cut",
        IncidentStatus.IDENTIFIED,
        CrewStatus.ASSIGNED,
        "A fiber cable was cut in {area}. A crew has been assigned; expected fix {eta}.",
    ),
]

RESOLVED = [
    ("Mobile outage in District XI", ["budapest-district-11"], ["mobile"], Impact.MAJOR, Cause.POWER, 3, 95),
    ("Fiber maintenance overran in Érd", ["erd"], ["fiber"], Impact.MINOR, Cause.PLANNED, 6, 50),
    ("TV channels missing in Vác", ["vac"], ["tv"], Impact.MINOR, Cause.THIRD_PARTY, 9, 30),
    (
        "Internet outage in Districts I and II",
        ["budapest-district-1", "budapest-district-2"],
        ["fiber"],
        Impact.CRITICAL,
        Cause.EQUIPMENT,
        14,
        180,
    ),
]

# Varied past outages over the last 90 days, for the day bars and ETA honesty:
# (title, areas, services, impact, cause, days ago, local start hour, minutes
# to fix, [(minutes after start an update was posted, its ETA in minutes after start)]).
HISTORY = [
    (
        "Fiber outage in District V",
        ["budapest-district-5"],
        ["fiber"],
        Impact.MAJOR,
        Cause.CABLE_CUT,
        4,
        9,
        140,
        [(10, 150)],
    ),
    (
        "Mobile data slow in District VI",
        ["budapest-district-6"],
        ["mobile"],
        Impact.MINOR,
        Cause.EQUIPMENT,
        11,
        14,
        45,
        [(5, 60)],
    ),
    (
        "Night outage in District V",
        ["budapest-district-5", "budapest-district-6"],
        ["fiber", "tv"],
        Impact.CRITICAL,
        Cause.POWER,
        19,
        23,
        150,
        [(15, 90), (80, 180)],
    ),
    ("Landline fault in Szentendre", ["szentendre"], ["landline"], Impact.MAJOR, Cause.STORM, 23, 6, 300, [(30, 240)]),
    ("TV outage in Gödöllő", ["godollo"], ["tv"], Impact.MAJOR, Cause.THIRD_PARTY, 27, 20, 70, [(10, 90)]),
    (
        "Internet outage in Debrecen",
        ["debrecen"],
        ["fiber"],
        Impact.CRITICAL,
        Cause.EQUIPMENT,
        33,
        11,
        210,
        [(20, 120), (110, 240)],
    ),
    ("Mobile outage in Vác", ["vac"], ["mobile"], Impact.MAJOR, Cause.POWER, 38, 8, 55, [(5, 60)]),
    (
        "Fiber outage in District V after road works",
        ["budapest-district-5"],
        ["fiber"],
        Impact.MAJOR,
        Cause.CABLE_CUT,
        45,
        13,
        400,
        [(20, 180), (170, 420)],
    ),
    ("Slow internet in Érd", ["erd"], ["fiber"], Impact.MINOR, Cause.EQUIPMENT, 52, 16, 90, []),
    (
        "Storm damage in Pest County",
        ["szentendre", "dunakeszi", "vac"],
        ["landline", "fiber"],
        Impact.CRITICAL,
        Cause.STORM,
        60,
        2,
        720,
        [(60, 480), (400, 780)],
    ),
    (
        "Mobile outage in District XI",
        ["budapest-district-11"],
        ["mobile"],
        Impact.MAJOR,
        Cause.EQUIPMENT,
        68,
        10,
        35,
        [(5, 45)],
    ),
    (
        "TV channels missing in District VI",
        ["budapest-district-6"],
        ["tv"],
        Impact.MINOR,
        Cause.THIRD_PARTY,
        75,
        19,
        100,
        [(10, 60)],
    ),
    ("Fiber outage in Budaörs", ["budaors"], ["fiber"], Impact.MAJOR, Cause.CABLE_CUT, 83, 7, 260, [(15, 300)]),
]


# The demo's words in Hungarian and Hebrew, keyed by the English text: one pass
# at the end (_translate) gives every translated field and update message its
# languages, so the hu and he demo pages show no English data word.
DEMO_TRANSLATIONS = {
    # Regions, services, credits, teams
    "Budapest": ("Budapest", "בודפשט"),
    "Pest County": ("Pest vármegye", "מחוז פשט"),
    "Hajdú-Bihar": ("Hajdú-Bihar", "האידו-ביהר"),
    "Fiber internet": ("Optikai internet", "אינטרנט סיבים"),
    "Mobile": ("Mobil", "סלולר"),
    "Landline": ("Vezetékes telefon", "טלפון קווי"),
    "TV": ("TV", "טלוויזיה"),
    "one day's service charge": ("egynapi szolgáltatási díjat", "דמי שירות של יום אחד"),
    "one day's line rental": ("egynapi vonalbérleti díjat", "דמי שכירות קו של יום אחד"),
    "one day's TV subscription": ("egynapi TV-előfizetési díjat", "דמי מנוי טלוויזיה של יום אחד"),
    "Budapest Network Team": ("Budapesti hálózati csapat", "צוות הרשת של בודפשט"),
    "Regional Service Team (East)": ("Regionális szervizcsapat (Kelet)", "צוות השירות האזורי (מזרח)"),
    # The local teams' introductions and the wait credit
    TEAM_INTROS["Budapest network operations"]: (
        "Mind a 23 kerületben mi gondozzuk az optikai, a mobil- és a vezetékes hálózatot.",
        "אנחנו מטפלים ברשת הסיבים, הסלולר והטלפון הקווי בכל 23 הרובעים.",
    ),
    TEAM_INTROS["Regional operations east"]: (
        "Pest vármegyét és Hajdú-Bihart gondozzuk, Szentendrétől Debrecenig.",
        "אנחנו מטפלים במחוז פשט ובהאידו-ביהר, מסנטנדרה ועד דברצן.",
    ),
    "a €5 credit on your next bill": ("5 € jóváírás a következő számláján", "זיכוי של 5 אירו בחשבון הבא"),
    # Towns (Hungarian names stay; Hebrew spells them out)
    "Szentendre": ("Szentendre", "סנטנדרה"),
    "Gödöllő": ("Gödöllő", "גדלה"),
    "Vác": ("Vác", "ואץ"),
    "Érd": ("Érd", "ארד"),
    "Budaörs": ("Budaörs", "בודאורש"),
    "Dunakeszi": ("Dunakeszi", "דונקסי"),
    "Szigetszentmiklós": ("Szigetszentmiklós", "סיגטסנטמיקלוש"),
    "Debrecen": ("Debrecen", "דברצן"),
    # Active incidents
    "Fiber internet outage after a cable cut": (
        "Optikai internet kimaradás kábelszakadás miatt",
        "הפסקת אינטרנט סיבים בעקבות חיתוך כבל",
    ),
    "Cable cut by road works on Andrássy út": (
        "Útépítés vágta el a kábelt az Andrássy úton",
        "כבל נחתך בעבודות כביש ברחוב אנדראשי",
    ),
    "We know that fiber internet and TV are down in Districts V and VI and are looking into it.": (
        "Tudjuk, hogy az V. és VI. kerületben nem működik az optikai internet és a TV, vizsgáljuk a hibát.",
        "ידוע לנו שאינטרנט הסיבים והטלוויזיה אינם פועלים ברובעים V ו-VI, ואנו בודקים זאת.",
    ),
    "A cable was cut during road works. A repair crew is on its way.": (
        "Útépítés közben elvágtak egy kábelt. A javítócsapat úton van.",
        "כבל נחתך במהלך עבודות כביש. צוות תיקון בדרך.",
    ),
    "The crew is splicing the cable; the repair takes longer than planned.": (
        "A csapat toldja a kábelt; a javítás a tervezettnél tovább tart.",
        "הצוות מחבר את הכבל; התיקון נמשך יותר מהמתוכנן.",
    ),
    "Slow mobile data around Debrecen": ("Lassú mobilinternet Debrecen környékén", "גלישה סלולרית איטית באזור דברצן"),
    "Some customers see slow mobile data. Calls and SMS work normally.": (
        "Egyes ügyfeleknél lassú a mobilinternet. A hívások és az SMS rendben működnek.",
        "חלק מהלקוחות חווים גלישה סלולרית איטית. שיחות ו-SMS פועלים כרגיל.",
    ),
    "Storm damage: landline and internet in Szentendre": (
        "Viharkár: vezetékes telefon és internet Szentendrén",
        "נזקי סערה: טלפון קווי ואינטרנט בסנטנדרה",
    ),
    "The storm damaged overhead lines north of the town.": (
        "A vihar megrongálta a légvezetékeket a várostól északra.",
        "הסערה פגעה בקווים העיליים מצפון לעיר.",
    ),
    "Service is back for most customers; we are watching the repaired lines.": (
        "A legtöbb ügyfélnél helyreállt a szolgáltatás; figyeljük a javított vezetékeket.",
        "השירות חזר לרוב הלקוחות; אנו עוקבים אחר הקווים שתוקנו.",
    ),
    # Planned maintenance
    "Network upgrade in District XIII": ("Hálózatfejlesztés a XIII. kerületben", "שדרוג רשת ברובע XIII"),
    "Exchange maintenance in Gödöllő": ("Központkarbantartás Gödöllőn", "תחזוקת מרכזייה בגדלה"),
    "Mobile mast replacement in Debrecen": ("Mobiltorony cseréje Debrecenben", "החלפת תורן סלולרי בדברצן"),
    "We are upgrading the fiber network. Internet and TV may drop for up to 30 minutes during the window.": (
        "Fejlesztjük az optikai hálózatot. Az internet és a TV legfeljebb 30 percre kieshet.",
        "אנו משדרגים את רשת הסיבים. האינטרנט והטלוויזיה עלולים להתנתק עד 30 דקות במהלך החלון.",
    ),
    "Planned work at the Gödöllő exchange; landline calls may be interrupted briefly.": (
        "Tervezett munka a gödöllői központban; a vezetékes hívások rövid időre megszakadhatnak.",
        "עבודה מתוכננת במרכזיית גדלה; שיחות בטלפון הקווי עלולות להיקטע לזמן קצר.",
    ),
    "A mast is being replaced; mobile coverage in the city centre may be weaker.": (
        "Tornyot cserélünk; a belvárosban gyengébb lehet a mobillefedettség.",
        "מוחלף תורן; הקליטה הסלולרית במרכז העיר עלולה להיות חלשה יותר.",
    ),
    # Update templates
    "We know about a problem in {area} and are looking into it. Next update by {next_update}.": (
        "Tudunk egy hibáról itt: {area}, és vizsgáljuk. Következő tájékoztatás legkésőbb: {next_update}.",
        "ידוע לנו על תקלה ב{area} ואנו בודקים אותה. העדכון הבא עד {next_update}.",
    ),
    "We found the cause. A repair crew is on its way to {area}; we expect service back by {eta}.": (
        "Megtaláltuk az okot. A javítócsapat úton van ide: {area}; a szolgáltatás várhatóan {eta}-ig helyreáll.",
        "מצאנו את הסיבה. צוות תיקון בדרך ל{area}; אנו צופים שהשירות יחזור עד {eta}.",
    ),
    "The crew is on site in {area}. Expected fix: {eta}.": (
        "A csapat a helyszínen van: {area}. Várható javítás: {eta}.",
        "הצוות נמצא במקום ב{area}. תיקון צפוי: {eta}.",
    ),
    "Service is coming back in {area}. We are watching it closely.": (
        "A szolgáltatás helyreáll itt: {area}. Szorosan figyeljük.",
        "השירות חוזר ב{area}. אנו עוקבים מקרוב.",
    ),
    "A fiber cable was cut in {area}. A crew has been assigned; expected fix {eta}.": (
        "Elvágtak egy optikai kábelt itt: {area}. Csapatot rendeltünk ki; várható javítás: {eta}.",
        "כבל סיבים נחתך ב{area}. צוות שובץ; תיקון צפוי {eta}.",
    ),
    # Past outages
    "Mobile outage in District XI": ("Mobilkimaradás a XI. kerületben", "הפסקה סלולרית ברובע XI"),
    "Fiber maintenance overran in Érd": ("Elhúzódott optikai karbantartás Érden", "תחזוקת סיבים בארד התארכה"),
    "TV channels missing in Vác": ("Hiányzó TV-csatornák Vácon", "ערוצי טלוויזיה חסרים בואץ"),
    "Internet outage in Districts I and II": (
        "Internetkimaradás az I. és II. kerületben",
        "הפסקת אינטרנט ברובעים I ו-II",
    ),
    "Fiber outage in District V": ("Optikai kimaradás az V. kerületben", "הפסקת סיבים ברובע V"),
    "Mobile data slow in District VI": ("Lassú mobilinternet a VI. kerületben", "גלישה סלולרית איטית ברובע VI"),
    "Night outage in District V": ("Éjszakai kimaradás az V. kerületben", "הפסקה לילית ברובע V"),
    "Landline fault in Szentendre": ("Vezetékes hiba Szentendrén", "תקלה בטלפון הקווי בסנטנדרה"),
    "TV outage in Gödöllő": ("TV-kimaradás Gödöllőn", "הפסקת טלוויזיה בגדלה"),
    "Internet outage in Debrecen": ("Internetkimaradás Debrecenben", "הפסקת אינטרנט בדברצן"),
    "Mobile outage in Vác": ("Mobilkimaradás Vácon", "הפסקה סלולרית בואץ"),
    "Fiber outage in District V after road works": (
        "Optikai kimaradás az V. kerületben útépítés után",
        "הפסקת סיבים ברובע V אחרי עבודות כביש",
    ),
    "Slow internet in Érd": ("Lassú internet Érden", "אינטרנט איטי בארד"),
    "Storm damage in Pest County": ("Viharkár Pest vármegyében", "נזקי סערה במחוז פשט"),
    "TV channels missing in District VI": ("Hiányzó TV-csatornák a VI. kerületben", "ערוצי טלוויזיה חסרים ברובע VI"),
    "Fiber outage in Budaörs": ("Optikai kimaradás Budaörsön", "הפסקת סיבים בבודאורש"),
    "Service has been restored. Sorry for the trouble.": (
        "A szolgáltatás helyreállt. Elnézést a kellemetlenségért.",
        "השירות חזר. סליחה על אי הנוחות.",
    ),
    "We are investigating reports of a problem.": ("Vizsgáljuk a hibabejelentéseket.", "אנו בודקים דיווחים על תקלה."),
    "We have found the cause and are working on a fix.": (
        "Megtaláltuk az okot, és dolgozunk a javításon.",
        "מצאנו את הסיבה ואנו עובדים על תיקון.",
    ),
}
# The models whose translated fields _translate fills (the tests read the same list).
TRANSLATED_MODELS = (
    Region,
    ServiceArea,
    Service,
    Team,
    CreditPolicy,
    UpdateTemplate,
    Incident,
    TeamContact,
    WaitCreditPolicy,
)
# Budapest's districts: "Budapest District V" is "Budapest V. kerület" and "בודפשט רובע V".
DEMO_TRANSLATIONS.update(
    {f"Budapest District {numeral}": (f"Budapest {numeral}. kerület", f"בודפשט רובע {numeral}") for numeral in ROMAN}
)


class Command(BaseCommand):
    help = "Load demo regions, areas, services and incidents (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        self._areas()
        self._teams()
        created = self._incidents() + self._maintenance()
        self._translate()
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
                    defaults={
                        "name": name,
                        "region": region,
                        "postcodes": ",".join(postcodes),
                        "position": position,
                        "time_zone": "Europe/Budapest",
                    },
                )
        area_import.run(DEMO_SHAPES.read_bytes(), DEMO_SHAPES.name)
        for position, (name, slug) in enumerate(SERVICES):
            Service.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})
        for slug, minutes, credit in CREDIT_POLICIES:
            service = Service.objects.get(slug=slug)
            if not CreditPolicy.objects.filter(service=service).exists():
                CreditPolicy.objects.create(
                    service=service, min_duration=minutes, min_impact=Impact.MAJOR, credit=credit
                )

    def _teams(self):
        for name, public_name, contact, region_slugs in TEAMS:
            team, _ = Team.objects.update_or_create(
                name=name, defaults={"public_name": public_name, "support_contact": contact}
            )
            for region in Region.objects.filter(slug__in=region_slugs):
                TeamRegion.objects.update_or_create(region=region, defaults={"team": team})
            if name in TEAM_INTROS and not TeamContact.objects.filter(team=team).exists():
                TeamContact.objects.create(team=team, intro=TEAM_INTROS[name], hours=TEAM_HOURS)
        if not WaitCreditPolicy.objects.exists():
            for minutes, credit in WAIT_CREDIT_POLICIES:
                WaitCreditPolicy.objects.create(threshold_minutes=minutes, credit=credit)
        for position, (name, title, status, crew, message) in enumerate(TEMPLATES):
            UpdateTemplate.objects.update_or_create(
                name=name,
                defaults={
                    "title": title,
                    "status": status,
                    "crew_status": crew,
                    "message": message,
                    "position": position,
                    "cause": Cause.CABLE_CUT if title else "",
                },
            )

    def _maintenance(self) -> int:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        created = 0
        for title, areas, service_slugs, starts_in, hours, message in MAINTENANCE:
            if Incident.objects.filter(kind=Kind.MAINTENANCE, title=title).exists():
                continue
            services.schedule_maintenance(
                title=title,
                areas=ServiceArea.objects.filter(slug__in=areas),
                services=Service.objects.filter(slug__in=service_slugs),
                scheduled_for=now + starts_in,
                scheduled_until=now + starts_in + timedelta(hours=hours),
                message=message,
            )
            created += 1
        return created

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
            customers, crew, next_update = FACTS.get(spec["title"], (None, None, None))
            for position, (status, message, eta) in enumerate(spec["updates"][1:], start=2):
                last = position == len(spec["updates"])
                services.post_update(
                    incident,
                    status=status,
                    message=message,
                    eta=now + eta if eta else None,
                    crew_status=crew if last else None,
                    next_update_at=now + next_update if last and next_update else None,
                )
            if len(spec["updates"]) == 1 and (crew or next_update):
                services.post_update(
                    incident,
                    status=first_status,
                    crew_status=crew,
                    next_update_at=now + next_update if next_update else None,
                )
            services.edit_incident(
                incident,
                customers_affected=customers,
                area_customers={
                    link.area_id: PER_AREA_CUSTOMERS[(spec["title"], link.area.slug)]
                    for link in IncidentArea.objects.filter(incident=incident).select_related("area")
                    if (spec["title"], link.area.slug) in PER_AREA_CUSTOMERS
                },
            )
            created += 1
        for title, areas, service_slugs, impact, cause, days_ago, minutes in RESOLVED:
            if Incident.objects.filter(title=title).exists():
                continue
            started = now - timedelta(days=days_ago)
            incident = self._past_outage(title, areas, service_slugs, impact, cause, started)
            services.resolve(
                incident,
                message="Service has been restored. Sorry for the trouble.",
                at=started + timedelta(minutes=minutes),
            )
            created += 1
        created += self._history(now)
        return created

    @staticmethod
    def _past_outage(title, areas, service_slugs, impact, cause, started):
        return services.open_incident(
            title=title,
            areas=ServiceArea.objects.filter(slug__in=areas),
            services=Service.objects.filter(slug__in=service_slugs),
            impact=impact,
            cause=cause,
            message="We are investigating reports of a problem.",
            started_at=started,
        )

    def _history(self, now) -> int:
        created = 0
        zone = timezone.get_default_timezone()
        today = timezone.localtime(now, zone).date()
        for title, areas, service_slugs, impact, cause, days_ago, hour, minutes, etas in HISTORY:
            if Incident.objects.filter(title=title).exists():
                continue
            day = today - timedelta(days=days_ago)
            started = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
            incident = self._past_outage(title, areas, service_slugs, impact, cause, started)
            for posted, eta in etas:
                services.post_update(
                    incident,
                    status=IncidentStatus.IDENTIFIED,
                    message="We have found the cause and are working on a fix.",
                    eta=started + timedelta(minutes=eta),
                    at=started + timedelta(minutes=posted),
                )
            services.resolve(
                incident,
                message="Service has been restored. Sorry for the trouble.",
                at=started + timedelta(minutes=minutes),
            )
            created += 1
        return created

    @staticmethod
    def _translate():
        """Hungarian and Hebrew for every translated field and update message the
        demo wrote (and that no operator has translated since)."""
        for model in TRANSLATED_MODELS:
            for row in model.objects.all():
                changed = []
                for field in model.translated_fields:
                    words = DEMO_TRANSLATIONS.get(getattr(row, field))
                    slots = getattr(row, f"{field}_translations") or {}
                    if words and not (set(slots) - {settings.LANGUAGE_CODE}):
                        setattr(row, f"{field}_translations", {**slots, "hu": words[0], "he": words[1]})
                        changed.append(field)
                if changed:
                    row.save(update_fields=changed)
        for update in IncidentUpdate.objects.filter(message_translations={}):
            words = DEMO_TRANSLATIONS.get(update.message)
            if words:
                update.message_translations = {"hu": words[0], "he": words[1]}
                update.save(update_fields=["message_translations"])

    def _demo_login(self):
        user_model = get_user_model()
        if user_model.objects.filter(username="ops").exists():
            self.stdout.write("Demo ops login: user 'ops' exists (reset with: python manage.py changepassword ops).")
            return
        password = secrets.token_urlsafe(9)
        user_model.objects.create_superuser("ops", "ops@example.invalid", password)
        self.stdout.write(self.style.WARNING(f"Demo ops login (shown once): user 'ops', password '{password}'"))
        # A regional operator: sees only incidents touching Budapest.
        operator = user_model.objects.create_user("ops-budapest", "budapest@example.invalid", password, is_staff=True)
        operator.groups.add(permissions.operator_group())
        Team.objects.get(name=TEAMS[0][0]).members.add(operator)
        self.stdout.write(
            self.style.WARNING("Regional operator (Budapest team only): user 'ops-budapest', same password")
        )
