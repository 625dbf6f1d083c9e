"""Hebrew laid out as Hebrew, in Chromium at a phone's width and a desktop's:
what is text mirrors (forms, the page's columns), what is a picture of the
world or of time does not (the map's geography, the day bars: oldest on the
left in every language), times and the relative ETA keep their own order
inside right-to-left sentences, and no English data word is left on the
Hebrew and Hungarian demo pages where the demo data gives a translation."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from outages import services
from outages.management.commands import seed_demo
from outages.models import Incident, IncidentStatus, IncidentUpdate, ServiceArea
from tests import factories

from .test_bidi_browser import VISUAL_ORDER_JS
from .test_customer_pages_browser import AREA, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX_JS = "(el) => { const r = el.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; }"


@pytest.fixture
def demo(server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    factories.seed_demo_unannounced()
    incident = Incident.objects.active().filter(incident_areas__area__slug=AREA).first()
    # The area's clock reads daytime whenever the suite runs, so an ETA two hours
    # on reads "13:55 CET" (or PST, CST) with no date before it.
    zone = factories.daytime_zone()
    ServiceArea.objects.filter(slug=AREA).update(time_zone=zone)
    eta = timezone.now() + timedelta(hours=2)
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="Crew on site", eta=eta)
    # The clock's zone as the page must write it ("CET", "PST", "CST").
    incident.clock_zone = timezone.localtime(eta, ZoneInfo(zone)).tzname()
    return incident


def box(page, selector):
    return page.locator(selector).first.evaluate(BOX_JS)


@pytest.mark.parametrize("width", [320, 390])
def test_times_and_the_relative_eta_keep_their_order_inside_hebrew(server, demo, browser, width):
    page, problems = open_page(browser, server, f"/areas/{AREA}/?lang=he", language="he", size=(width, 800))
    answer = page.locator(".hero__answer")
    clock = answer.locator("time:not([data-relative])").first
    relative = answer.locator("time[data-relative]").first
    # The clock ("13:55 CET") reads left to right as written; the relative time
    # ("בעוד 4 שעות") right to left; both are isolates, so the dash between them
    # and any parentheses around them stay where the sentence puts them.
    text = clock.inner_text()
    assert re.fullmatch(rf"\d{{1,2}}:\d\d {demo.clock_zone}", text), text
    assert clock.evaluate("(el) => getComputedStyle(el).direction") == "ltr"
    assert relative.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
    for time in page.locator("time").all():
        assert time.evaluate("(el) => getComputedStyle(el).unicodeBidi") == "isolate"
    hour, zone = text.split(" ")
    assert clock.evaluate(VISUAL_ORDER_JS.replace("el.firstChild", "el.childNodes[0]")) == hour
    assert (
        clock.locator("abbr").evaluate(BOX_JS)[0]
        > clock.evaluate(
            "(el) => { const r = document.createRange(); r.selectNodeContents(el.childNodes[0]);"
            " return r.getBoundingClientRect().right; }"
        )
        - 1
    ), "the zone comes after the clock, on its right"
    # Right to left: the relative time (later in the sentence) is left of the clock.
    assert (
        relative.evaluate(BOX_JS)[1] <= clock.evaluate(BOX_JS)[0] + 1
        or relative.evaluate(BOX_JS)[2] > clock.evaluate(BOX_JS)[2]
    ), "the relative time follows the clock, to its left (or on the next line)"
    assert problems == []
    page.context.close()


def test_forms_mirror_in_hebrew_and_the_map_and_the_day_bars_do_not(server, demo, browser):
    layout = {}
    for language in ("en", "he"):
        facts = {}
        page, _ = open_page(browser, server, f"/search/?lang={language}", language=language, size=(390, 844))
        facts["search field"], facts["search button"] = box(page, "#area-q"), box(page, ".area-search button")
        facts["search label"], facts["search form"] = box(page, "label[for=area-q]"), box(page, ".area-search form")
        page.context.close()
        page, _ = open_page(browser, server, f"/areas/{AREA}/?lang={language}", language=language, size=(1280, 800))
        days = page.locator(".days .day")
        facts["oldest day"], facts["today"] = days.first.evaluate(BOX_JS), days.last.evaluate(BOX_JS)
        facts["legend from"], facts["legend today"] = (
            box(page, ".days__legend > span:first-child"),
            box(page, ".days__legend > span:last-child"),
        )
        days.first.hover()
        facts["tip direction"] = days.first.locator(".day__tip").evaluate("(el) => getComputedStyle(el).direction")
        page.context.close()
        page, _ = open_page(browser, server, f"/map/?lang={language}", language=language, size=(1280, 800))
        page.wait_for_selector("path.map-area[data-slug]")
        facts["map"] = page.eval_on_selector_all(
            "path.map-area[data-slug]",
            "paths => Object.fromEntries(paths.map(p => { const r = p.getBoundingClientRect();"
            " return [p.dataset.slug, [Math.round(r.left), Math.round(r.top), Math.round(r.width)]]; }))",
        )
        facts["map box"], facts["map list"] = box(page, ".map"), box(page, ".map-layout > :last-child")
        page.context.close()
        layout[language] = facts
    en, he = layout["en"], layout["he"]
    # Forms mirror: in Hebrew the field comes first from the right, its button to
    # its left, and the label starts at the right edge.
    assert en["search field"][0] < en["search button"][0]
    assert he["search field"][0] > he["search button"][0]
    assert (
        abs(he["search label"][1] - he["search form"][1]) < 2 and abs(en["search label"][0] - en["search form"][0]) < 2
    )
    # The page's columns mirror (the map's list beside it moves to the left)...
    assert en["map list"][0] > en["map box"][0] and he["map list"][0] < he["map box"][0]
    # ...but the map is geography: every area's shape is where it is in English, relative to the map.
    shift = he["map box"][0] - en["map box"][0]
    assert en["map"].keys() == he["map"].keys() and len(en["map"]) > 10
    for slug, (left, top, width) in en["map"].items():
        assert abs(he["map"][slug][0] - shift - left) <= 1 and he["map"][slug][1:] == [top, width], slug
    # The day bars are a time axis: oldest on the left, today on the right, in both,
    # with the legend to match; the day's text reads right to left in Hebrew.
    for facts in (en, he):
        assert facts["oldest day"][0] < facts["today"][0]
        assert facts["legend from"][0] < facts["legend today"][0]
    assert en["tip direction"] == "ltr" and he["tip direction"] == "rtl"


def _english_leftovers(text: str, language: str) -> list[str]:
    """English data text on a page in `language` (innerText) where the demo data gives a translation."""
    leftovers = set()
    for model in seed_demo.TRANSLATED_MODELS:
        for row in model.objects.all():
            for field in model.translated_fields:
                english, translated = getattr(row, field), getattr(row, f"{field}_translations").get(language)
                if english and translated and english not in translated and english in text:
                    leftovers.add(english)
    for update in IncidentUpdate.objects.exclude(message=""):
        translated = update.message_translations.get(language)
        if translated and update.message not in translated and update.message in text:
            leftovers.add(update.message)
    return sorted(leftovers)


@pytest.mark.parametrize("language", ["hu", "he"])
def test_demo_pages_in_chromium_show_no_english_data_word_where_a_translation_is_given(server, demo, browser, language):
    pages = ("/", f"/areas/{AREA}/", f"/incidents/{demo.pk}/", "/history/", "/summary/", "/map/")
    more = ("/search/?q=district", f"/subscribe/?area={AREA}", f"/areas/{AREA}/contact/", f"/embed/areas/{AREA}/")
    for path in pages + more:
        separator = "&" if "?" in path else "?"
        page, _ = open_page(browser, server, f"{path}{separator}lang={language}", language="en", size=(1280, 800))
        assert page.evaluate("document.documentElement.lang") == language
        text = page.evaluate("document.body.innerText") + " " + page.title()
        assert _english_leftovers(text, language) == [], path
        page.context.close()
