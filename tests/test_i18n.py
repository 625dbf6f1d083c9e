"""English, Hungarian and Hebrew: complete catalogues, the language of each
request, the switcher, right to left, and operators' messages in several
languages on pages, in the live push, in notifications, the widget and IVR."""

import asyncio
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from outages import services
from outages.live import census as live_census
from outages.live import relay
from outages.models import Channel, IncidentStatus, LiveChange
from statuspage.asgi import application
from tests import factories
from tests.conftest import ROOT, missing

TRANSLATED = ["hu", "he"]
MESSAGES = {
    "en": "Crew on site, cable being spliced",
    "hu": "A szerelők a helyszínen, a kábelt toldják",
    "he": "הצוות באתר, הכבל מחובר מחדש",
}
ARTIFACTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request through LocaleMiddleware leaves its language active in this
    thread; later tests expect the default."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


def post_translated_update(incident):
    return services.post_update(
        incident,
        status=IncidentStatus.IDENTIFIED,
        message=MESSAGES["en"],
        message_translations={"hu": MESSAGES["hu"], "he": MESSAGES["he"]},
    )


# The catalogues -------------------------------------------------------------


def _gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"GNU gettext's {name} is not installed (apt-get install gettext)")
    return path


def test_no_user_facing_string_is_left_untranslated_in_hungarian_or_hebrew(tmp_path):
    """A fresh extraction (makemessages on a copy of the code, merged into a copy
    of the catalogues) leaves no message empty or fuzzy in hu or he."""
    _gettext_tool("xgettext")
    msgattrib = _gettext_tool("msgattrib")
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for folder in ["outages", "templates", "statuspage", "locale"]:
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--no-location", *[f"--locale={code}" for code in TRANSLATED]],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "PYTHONPATH": str(copy)},
    )
    assert result.returncode == 0, result.stderr
    for code in TRANSLATED:
        catalogue = copy / "locale" / code / "LC_MESSAGES" / "django.po"
        entries = catalogue.read_text().count('\nmsgid "')
        assert entries > 600, f"{code}: only {entries} messages extracted"
        for option, problem in [("--untranslated", "untranslated"), ("--only-fuzzy", "fuzzy")]:
            found = subprocess.run(
                [msgattrib, option, "--no-obsolete", "--no-wrap", str(catalogue)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            msgids = [line for line in found.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
            assert not msgids, f"{code}: {problem} messages: {msgids[:20]}"


def test_catalogues_compile_and_translate_at_run_time():
    from django.utils import translation

    for code, expected in [("hu", "Minden szolgáltatás rendben működik"), ("he", "כל השירותים פועלים כרגיל")]:
        assert (ROOT / "locale" / code / "LC_MESSAGES" / "django.mo").exists()
        with translation.override(code):
            assert translation.gettext("All services operating normally") == expected


# Pages ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hungarian_browser_gets_a_hungarian_left_to_right_page(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="hu-HU,hu;q=0.9,en;q=0.5")
    assert response.headers["Content-Language"] == "hu"
    assert '<html lang="hu" dir="ltr">' in response.text
    assert "Minden szolgáltatás rendben működik" in response.text
    assert "All services operating normally" not in response.text
    assert 'ws-connect="/ws/status/?lang=hu"' in response.text  # the live push in the same language


@pytest.mark.django_db
def test_a_hebrew_browser_gets_a_hebrew_right_to_left_page(client):
    district = factories.area("Budapest District V", slug="district-5", time_zone="Europe/Budapest")
    factories.incident(district, title="Fiber cut", eta_in=timedelta(hours=2))
    response = client.get("/areas/district-5/", HTTP_ACCEPT_LANGUAGE="he")
    assert '<html lang="he" dir="rtl">' in response.text
    assert "תקלה חלקית" in response.text  # Partial outage
    assert "Budapest District V" in response.text  # names stay as they are
    assert 'ws-connect="/ws/areas/district-5/?lang=he"' in response.text
    assert "Partial outage" not in response.text


@pytest.mark.django_db
def test_the_language_switcher_is_a_plain_form_and_remembers_the_choice(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'action="/language/" method="post"' in page
    assert 'name="language" value="he" lang="he" dir="rtl"' in page and "עברית" in page
    assert 'name="language" value="hu" lang="hu" dir="ltr"' in page and "Magyar" in page
    response = client.post("/language/", {"language": "he", "next": "/history/"})
    assert response.status_code == 302 and response["Location"] == "/history/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "he"
    # Remembered over the browser's own preference, on every page.
    again = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert (
        '<html lang="he" dir="rtl">' in again.text
        and 'value="he" lang="he" dir="rtl"\n            class="language-switcher__choice" aria-current="true"'
        in again.text
    )
    assert "he" == client.get("/history/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"]
    # An unknown language is ignored, not an error.
    assert client.post("/language/", {"language": "xx", "next": "/"}).status_code == 302


@pytest.mark.django_db
def test_an_update_message_is_shown_in_each_readers_language_and_the_default_otherwise(client):
    district = factories.area("District 5", slug="district-5")
    incident = factories.incident(district)
    post_translated_update(incident)
    for code, message in MESSAGES.items():
        for path in [f"/incidents/{incident.pk}/", "/areas/district-5/", "/"]:
            text = client.get(path, HTTP_ACCEPT_LANGUAGE=code).text
            assert message in text, (code, path)
            assert all(other not in text for other_code, other in MESSAGES.items() if other_code != code), (code, path)
    # An update given only in the default language reads the same for everyone.
    services.post_update(incident, status=IncidentStatus.MONITORING, message="Fixed, watching it")
    assert "Fixed, watching it" in client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="he").text


@pytest.mark.django_db
def test_the_widget_and_the_voice_line_speak_the_language_asked_for(client):
    district = factories.area("Szentendre", slug="szentendre", time_zone="Europe/Budapest")
    post_translated_update(factories.incident(district))
    widget = client.get("/embed/areas/szentendre/?lang=he")
    assert '<html lang="he" dir="rtl"' in widget.text and MESSAGES["he"] in widget.text
    assert 'ws-connect="/ws/areas/szentendre/?lang=he&amp;link=1"' in widget.text
    assert MESSAGES["hu"] in client.get("/embed/areas/szentendre/?lang=hu").text
    spoken = client.get("/areas/szentendre/announcement.txt?lang=hu").text
    assert "Szentendre" in spoken and "következő területen" in spoken


@pytest.mark.django_db
def test_feeds_carry_the_readers_language(client):
    district = factories.area("District 5", slug="district-5")
    post_translated_update(factories.incident(district))
    feed = client.get("/history.atom", HTTP_ACCEPT_LANGUAGE="hu").text
    assert MESSAGES["hu"] in feed and "Állapot" in feed


@pytest.mark.django_db
def test_operators_give_translations_in_the_admins_post_an_update_form(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    district = factories.area("District 5")
    incident = factories.incident(district)
    form = client.get(f"/admin/outages/incident/{incident.pk}/change/").text
    assert 'name="update_message_hu"' in form and 'name="update_message_he"' in form
    response = client.post(
        f"/admin/outages/incident/{incident.pk}/change/",
        {
            "title": incident.title,
            "impact": incident.impact,
            "cause": "",
            "cause_detail": "",
            "areas": [district.pk],
            "update_status": "identified",
            "update_message": MESSAGES["en"],
            "update_message_hu": MESSAGES["hu"],
            "update_message_he": MESSAGES["he"],
            "update_message_xx": "ignored",
            "update_eta": "",
            "seen_version": incident.version,
        },
    )
    assert response.status_code == 302
    update = incident.updates.order_by("-created_at", "-id").first()
    assert update.message == MESSAGES["en"]
    assert update.message_translations == {"hu": MESSAGES["hu"], "he": MESSAGES["he"]}


@pytest.mark.django_db
def test_services_refuse_a_translation_into_a_language_the_site_does_not_offer():
    from django.core.exceptions import ValidationError

    incident = factories.incident()
    with pytest.raises(ValidationError):
        services.post_update(incident, status="identified", message="x", message_translations={"de": "Kabel"})
    with pytest.raises(ValidationError):
        services.post_update(incident, status="identified", message="x", message_translations={"en": "same as message"})
    assert incident.updates.count() == 1


@pytest.mark.django_db
def test_dates_follow_each_languages_own_format_in_the_areas_zone():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import translation

    from outages.templatetags.status_tags import local_time

    when = datetime(2026, 11, 26, 15, 30, tzinfo=ZoneInfo("UTC"))  # a Thursday, 16:30 in Budapest
    with translation.override("hu"):
        assert "2026.11.26. 16:30" in local_time(when, "Europe/Budapest") and ">CET<" in local_time(
            when, "Europe/Budapest"
        )
    with translation.override("he"):
        assert "חמישי, 26 בנובמבר, 16:30" in local_time(when, "Europe/Budapest")
    with translation.override("en"):
        assert "Thu 26 Nov, 16:30" in local_time(when, "Europe/Budapest")


# Live push ------------------------------------------------------------------

ORIGIN = (b"origin", b"http://testserver")


async def _connect(path: str, *headers) -> tuple[WebsocketCommunicator, str]:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_from(timeout=10)


async def _census_reads(group: str, languages: set[str], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await sync_to_async(live_census.listening)() or {}).get(group) != languages:
        assert asyncio.get_running_loop().time() < deadline, "the census never recorded the clients"
        await asyncio.sleep(0.05)


@pytest.mark.django_db(transaction=True)
async def test_a_live_push_is_rendered_once_per_language_and_each_client_gets_its_own(settings):
    settings.LIVE_CENSUS_SECONDS = 0.1
    district = await sync_to_async(factories.area)("District 5", slug="district-5")
    incident = await sync_to_async(factories.incident)(district)
    connections = {
        "en": ("/ws/areas/district-5/",),
        "hu": ("/ws/areas/district-5/?lang=hu",),
        "he": ("/ws/areas/district-5/?lang=he",),
        "he-by-cookie": ("/ws/areas/district-5/", (b"cookie", f"{settings.LANGUAGE_COOKIE_NAME}=he".encode())),
        "hu-by-header": ("/ws/areas/district-5/", (b"accept-language", b"hu-HU,hu;q=0.9")),
    }
    clients = {}
    try:
        for name, arguments in connections.items():
            clients[name] = await _connect(*arguments)
        assert "Részleges üzemzavar" in clients["hu"][1] and "תקלה חלקית" in clients["he"][1]
        # The census has them: the change is rendered for the languages read, and only those.
        await _census_reads("area-district-5", {"en", "hu", "he"})
        before = await sync_to_async(LiveChange.objects.count)()
        await sync_to_async(post_translated_update)(incident)
        pushed = {name: await communicator.receive_from(timeout=3) for name, (communicator, _) in clients.items()}
        for name, html in pushed.items():
            code = name.split("-")[0]
            assert MESSAGES[code] in html, name
            assert all(text not in html for other, text in MESSAGES.items() if other != code), name
        # One change, one render per language whatever the number of clients.
        assert await sync_to_async(LiveChange.objects.count)() == before + 1
        change = await sync_to_async(LiveChange.objects.latest)("id")
        assert set(change.fragments["area-district-5"]) == {"en", "hu", "he"}
        # Nobody has the home page or the incident's page open: not rendered, only named.
        assert change.fragments["status"] == change.fragments[f"incident-{incident.pk}"] == {}
        for communicator, _ in clients.values():
            assert await communicator.receive_nothing(timeout=0.3)
    finally:
        for communicator, _ in clients.values():
            await communicator.disconnect()
        if relay.Relay.current is not None:
            await relay.Relay.current.stop()


@pytest.mark.django_db
def test_the_polling_fallback_answers_in_the_pages_language(client):
    district = factories.area("District 5", slug="district-5")
    post_translated_update(factories.incident(district))
    assert MESSAGES["he"] in client.get("/ws/areas/district-5/?lang=he").text
    assert MESSAGES["hu"] in client.get("/ws/areas/district-5/", HTTP_ACCEPT_LANGUAGE="hu").text


# Notifications --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_notification_carries_the_update_in_the_subscribers_language(settings):
    from django.core.cache import cache

    from outages.services import subscriptions
    from tests.receivers import SMTPSink, run_worker, text_part

    cache.clear()
    sink = SMTPSink().start()
    settings.MAILERS = sink.mailer_settings()
    try:
        district = factories.area("Szeged", time_zone="Europe/Budapest")
        incident = factories.incident(district)
        for code in ["en", "hu", "he"]:
            outcome = subscriptions.subscribe(
                channel=Channel.EMAIL, address=f"{code}@example.com", areas=[district], language=code
            )
            subscriptions.confirm(outcome.subscriber)
        run_worker()
        sink.messages.clear()
        post_translated_update(incident)
        run_worker()
        notices = {m["To"]: text_part(m) for m in sink.messages if m["Message-ID"].startswith("<notice.")}
        assert set(notices) == {"en@example.com", "hu@example.com", "he@example.com"}
        for code, message in MESSAGES.items():
            assert message in notices[f"{code}@example.com"]
            assert all(text not in notices[f"{code}@example.com"] for other, text in MESSAGES.items() if other != code)
        assert "Leiratkozás" in notices["hu@example.com"] and "ביטול הרשמה" in notices["he@example.com"]
    finally:
        sink.stop()
        cache.clear()


# Screenshots in headless Chromium ---------------------------------------------


@pytest.mark.browser
def test_screenshots_of_home_area_and_widget_in_each_language_read_in_the_right_direction(server, browser):
    from tests.views.test_widget_browser import off_loop

    district = off_loop(
        factories.area, "Budapest District V", slug="district-5", time_zone="Europe/Budapest", postcodes="1051, 1052"
    )
    off_loop(factories.area, "Szentendre", slug="szentendre", time_zone="Europe/Budapest")
    incident = off_loop(
        factories.incident,
        district,
        title="Fiber cut on Andrássy út",
        eta_in=timedelta(hours=3),
        customers_affected=1200,
    )
    off_loop(post_translated_update, incident)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = {"home": "/", "area": "/areas/district-5/", "widget": "/embed/areas/district-5/"}
    for code in ["en", "hu", "he"]:
        context = browser.new_context(
            viewport={"width": 900, "height": 1100}, locale=code, extra_http_headers={"Accept-Language": code}
        )
        page = context.new_page()
        for name, path in pages.items():
            url = server.url + path + (f"?lang={code}" if name == "widget" else "")
            page.goto(url)
            page.wait_for_selector("#live[data-state=live]", timeout=10000)
            assert page.evaluate("document.documentElement.lang") == code
            direction = page.evaluate("getComputedStyle(document.body).direction")
            assert direction == ("rtl" if code == "he" else "ltr"), (code, name)
            target = ARTIFACTS / f"{name}-{code}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
            if name != "widget":
                # Right to left: the site name starts at the right edge, the switcher sits at the left.
                name_box = page.locator(".site-name").bounding_box()
                switcher = page.locator(".language-switcher").bounding_box()
                if code == "he":
                    assert name_box["x"] > 450 and switcher["x"] < name_box["x"], (name, name_box, switcher)
                else:
                    assert name_box["x"] < 450 and switcher["x"] > name_box["x"], (name, name_box, switcher)
            # The operator's message in this language, and the area's Latin name intact.
            assert MESSAGES[code] in page.inner_text("main" if name != "widget" else "body")
            assert "Budapest District V" in page.inner_text("body") or name == "widget"
        context.close()
    assert len(list(ARTIFACTS.glob("*-*.png"))) >= 9
