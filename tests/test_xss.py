"""Hostile operator text on every channel: 600 payloads (tests/xss_corpus.py)
as incident titles, update messages, area, region and team names, posted
through the services and the admin; every channel's output is parsed and no
element or attribute from the payloads may be live."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from selectolax.lexbor import LexborHTMLParser

from outages import services
from outages.live import fragments as live_fragments
from outages.live import groups
from outages.models import Impact, Incident, NotificationEvent, Region, ServiceArea, Subscriber, Team, TeamRegion
from outages.notify.compose import Composer
from tests import factories
from tests.xss_corpus import PROBE, payloads, short

pytestmark = pytest.mark.django_db

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping", "srcset"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg")
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "isindex", "template", "noscript"}
SSML_TAGS = {"speak", "p", "s", "say-as", "break"}


def parse(html: str, *, page: bool = True):
    """Every element of `html` as a browser builds it: lexbor (C, follows the
    HTML Standard's tree construction as html5lib does, at a tenth of the
    cost), a whole document or a fragment in a <div>."""
    root = LexborHTMLParser(html, is_fragment=not page).root  # None: an empty fragment
    return [node for node in root.traverse() if node.is_element_node] if root is not None else []


def assert_inert(html: str, where: str, *, page: bool = True) -> int:
    """No element or attribute in `html` can run code or make a request the
    templates did not put there. Returns the number of elements checked."""
    ids = Counter()
    count = 0
    for element in parse(html, page=page):
        count += 1
        tag = element.tag.lower()
        attributes = {name.lower(): value or "" for name, value in element.attributes.items()}
        # The widget's own <base target="_blank"> sets no address.
        assert tag not in FORBIDDEN_TAGS or (tag == "base" and set(attributes) == {"target"}), f"{where}: live <{tag}>"
        if tag == "script":
            # Only the site's own files: no inline code, nothing from elsewhere.
            assert attributes.get("src", "").startswith("/static/") and not element.text(deep=True).strip(), (
                f"{where}: live script {element.html[:200]!r}"
            )
        if tag == "meta":
            assert attributes.get("http-equiv", "").lower() != "refresh", f"{where}: meta refresh"
        # Names as the parser gives them: xlink:href stays whole (it ends in :href).
        for name, value in attributes.items():
            assert not name.startswith("on"), f"{where}: event handler {name}={value!r} on <{tag}>"
            assert name != "srcdoc", f"{where}: srcdoc on <{tag}>"
            squeezed = "".join(ch for ch in value if ch > " ").lower()
            if name in URL_ATTRIBUTES or name.endswith(":href"):
                assert not squeezed.startswith(DANGEROUS_SCHEMES), f"{where}: {name}={value!r}"
            if name.startswith(("hx-", "data-hx-", "ws-", "data-ws-", "sse-")):
                assert "xss-probe" not in squeezed and "alert" not in squeezed, (
                    f"{where}: operator htmx attribute {name}={value!r}"
                )
                assert not name.startswith(("hx-on", "data-hx-on")), f"{where}: {name}"
            # A link back to the same page (a language alternate) may carry the probe
            # percent-encoded in its query: inert as long as nothing is left raw.
            encoded_link = name in URL_ATTRIBUTES and not any(ch in value for ch in "<>\"'")
            assert (
                "xss-probe" not in squeezed
                or encoded_link
                or name in {"title", "alt", "aria-label", "value", "content"}
            ), f"{where}: {name}={value!r}"
        if attributes.get("id"):
            ids[attributes["id"]] += 1
    for landmark in ("banner", "live", "main", "active-incidents"):
        assert ids[landmark] <= 1, f"{where}: operator text added a second #{landmark}"
    return count


def assert_json_escaped(response, where: str):
    assert response["Content-Type"].startswith("application/json"), where
    assert response["X-Content-Type-Options"] == "nosniff", where
    return json.loads(response.content)


def strings_in(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value)) if value else set()
    return set()


@pytest.fixture
def hostile():
    """Every payload as an incident title, an update message, an area, a region and a team name."""
    corpus = payloads()
    titles = short(corpus, 200)
    n = len(corpus)
    regions = Region.objects.bulk_create(Region(name=p, slug=f"h-r{i}") for i, p in enumerate(short(corpus, 120)))
    teams = Team.objects.bulk_create(Team(name=p, public_name=p, support_contact=p[:120]) for p in short(corpus, 120))
    TeamRegion.objects.bulk_create(TeamRegion(team=t, region=r) for t, r in zip(teams, regions))
    areas = ServiceArea.objects.bulk_create(
        ServiceArea(name=p, slug=f"h-{i}", region=regions[i], postcodes=str(1000 + i))
        for i, p in enumerate(short(corpus, 120))
    )
    incidents = []
    for i, area in enumerate(areas):
        incident = services.open_incident(
            title=titles[i], areas=[area], impact=Impact.MAJOR, status="investigating", message=corpus[(i + 1) % n]
        )
        if i % 2:
            services.resolve(incident, message=corpus[(i + 2) % n])
        incidents.append(incident)
    return corpus, areas, incidents


@pytest.mark.slow
# As served: every write is done before the first page is read, so no cached
# page can hide one, and what pages share (the site-wide availability) is read once.
@pytest.mark.page_cache
def test_six_hundred_payloads_render_inert_on_every_channel(client, hostile):
    corpus, areas, incidents = hostile
    assert len(corpus) >= 500
    started = time.monotonic()
    figures = Counter()

    def page(url: str, data=None):
        response = client.get(url, data, follow=True)  # a search with one match opens its area
        assert response.status_code == 200, f"{url}: {response.status_code}"
        return response

    # Pages and the widget: the lists carry every payload at once, the detail pages one each.
    for url in ["/", "/history/", "/map/", "/embed/", "/embed/?compact=1", "/subscribe/"]:
        figures["page elements"] += assert_inert(page(url).text, url)
        figures["pages"] += 1
    for payload in corpus[::10]:
        figures["page elements"] += assert_inert(page("/search/", {"q": payload}).text, f"search {payload!r}")
        figures["pages"] += 1
    # Every area page (team names show only there); the rest sampled: their
    # text is already on the list pages above.
    for index, area in enumerate(areas):
        for url in [f"/areas/{area.slug}/"] + ([f"/embed/areas/{area.slug}/"] if index % 5 == 0 else []):
            figures["page elements"] += assert_inert(page(url).text, url)
            figures["pages"] += 1
    for incident in incidents[::3]:
        url = f"/incidents/{incident.pk}/"
        figures["page elements"] += assert_inert(page(url).text, url)
        figures["pages"] += 1

    # The live push: the fragments a change sends, and every group's snapshot.
    for incident in incidents[:3]:
        for group, by_language in live_fragments.render_change(
            incident.pk, {a.pk for a in incident.areas.all()}
        ).items():
            for language, html in by_language.items():
                figures["live elements"] += assert_inert(html, f"push {group} ({language})", page=False)
    for group in [
        groups.STATUS_GROUP,
        groups.STATUS_SUMMARY,
        *(groups.area_group(a.slug) for a in areas[::3]),
        *(groups.incident_group(i.pk) for i in incidents[1::3]),
    ]:
        figures["live elements"] += assert_inert(
            live_fragments.render_group_snapshot(group), f"snapshot {group}", page=False
        )
        figures["live snapshots"] += 1

    # JSON: well-formed, served as JSON with nosniff, and the text comes back exactly as typed.
    texts = set()
    for url in ["/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/components.json", "/api/areas/"]:
        texts |= strings_in(assert_json_escaped(page(url), url))
        figures["json documents"] += 1
    assert set(Incident.objects.exclude(status="resolved").values_list("title", flat=True)) <= texts, (
        "incident titles are not returned verbatim in the JSON"
    )
    assert {a.name for a in areas} <= texts, "area names are not returned verbatim in the JSON"

    # Feeds: well-formed XML; any HTML inside them inert once unescaped.
    for url in ["/history.atom", "/history.rss", *(f"/areas/{a.slug}/history.atom" for a in areas[1:40:2])]:
        root = ET.fromstring(page(url).content)
        for element in root.iter():
            if element.text and element.tag.rpartition("}")[2] in {"summary", "content", "description"}:
                figures["feed elements"] += assert_inert(element.text, f"{url} {element.tag}", page=False)
        figures["feeds"] += 1

    # Email, SMS and webhook text for every event.
    reader = Subscriber(language="en")
    for event in NotificationEvent.objects.select_related("incident", "update"):
        rendered = Composer(event).for_subscriber(reader, set(event.area_ids))
        figures["email elements"] += assert_inert(rendered["html"], f"email for event {event.pk}")
        subject = rendered["notice"].subject
        assert "\n" not in subject and "\r" not in subject, f"header injection in {subject!r}"
        assert json.loads(json.dumps(rendered["payload"]))["data"]["incident"]["title"] == event.incident.title
        figures["notices"] += 1

    # IVR: text/plain with nosniff; SSML well-formed with only our own elements.
    for area in areas[::2]:
        text = page(f"/areas/{area.slug}/announcement.txt")
        assert text["Content-Type"].startswith("text/plain") and text["X-Content-Type-Options"] == "nosniff"
        ssml = page(f"/areas/{area.slug}/announcement.ssml")
        tags = {e.tag.rpartition("}")[2] for e in ET.fromstring(ssml.content).iter()}
        assert tags <= SSML_TAGS, f"{area.slug}: operator text became SSML {tags - SSML_TAGS}"
        figures["ivr documents"] += 2

    print(
        f"\n{len(corpus)} payloads x (title, message, area, region, team); checked in "
        f"{time.monotonic() - started:.0f} s: {dict(figures)}"
    )


@pytest.fixture
def ops(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def test_payloads_typed_into_the_admin_are_stored_verbatim_and_shown_inert(ops):
    region = factories.region()
    corpus = payloads()[::20]
    for index, payload in enumerate(corpus):
        response = ops.post(
            "/admin/outages/servicearea/add/",
            {
                "name": payload[:120],
                "slug": f"adm-{index}",
                "region": region.pk,
                "postcodes": "",
                "time_zone": "",
                "customers": "",
                "geometry": "",
            },
        )
        assert response.status_code in {200, 302}, response.status_code
    areas = list(ServiceArea.objects.filter(slug__startswith="adm-"))
    if not areas:  # the area form needs more fields than a plain POST gives: make them here
        areas = [factories.area(p[:120], slug=f"adm-{i}", region_obj=region) for i, p in enumerate(corpus)]
    for index, payload in enumerate(corpus):
        response = ops.post(
            "/admin/outages/incident/add/",
            {
                "title": payload[:200],
                "impact": "major",
                "cause": "",
                "cause_detail": "",
                "areas": [areas[index % len(areas)].pk],
                "update_status": "investigating",
                "update_message": payload,
                "update_eta": "",
            },
        )
        assert response.status_code == 302, f"{payload!r}: {response.status_code}"
    assert set(Incident.objects.values_list("title", flat=True)) == {p[:200] for p in corpus}
    for url in ["/admin/outages/incident/", "/admin/outages/servicearea/", "/"] + [
        f"/admin/outages/incident/{pk}/change/" for pk in Incident.objects.values_list("pk", flat=True)[:10]
    ]:
        response = ops.get(url)
        assert response.status_code == 200, url
        assert_inert(response.text, url, page=True) if not url.startswith("/admin/") else _admin_inert(
            response.text, url
        )


def _admin_inert(html: str, where: str) -> None:
    """The admin has its own inline scripts (Django's); operator text still may not add handlers or htmx."""
    for element in parse(html):
        for name, value in element.attributes.items():
            value = value or ""
            assert not name.lower().startswith("on"), f"{where}: {name}={value!r}"
            assert not name.lower().startswith(("hx-", "data-hx-")), f"{where}: {name}={value!r}"
            if name.lower() in URL_ATTRIBUTES:
                assert not "".join(ch for ch in value if ch > " ").lower().startswith(DANGEROUS_SCHEMES), where
        assert element.tag.lower() not in {"iframe", "object", "embed", "base"}, where


def test_a_nul_character_is_refused_cleanly_by_the_admin(ops):
    area = factories.area()
    response = ops.post(
        "/admin/outages/incident/add/",
        {
            "title": "Cable\x00cut",
            "impact": "major",
            "cause": "",
            "cause_detail": "",
            "areas": [area.pk],
            "update_status": "investigating",
            "update_message": "x",
            "update_eta": "",
        },
    )
    assert response.status_code == 200 and "Null characters are not allowed" in response.text
    assert not Incident.objects.exists()


@pytest.mark.browser
def test_no_dialog_fires_and_no_operator_htmx_is_active_in_chromium(server, browser):
    corpus = payloads()
    # 600 payloads: 300 area names, 100 titles, 100 messages, 100 region and team names.
    regions = Region.objects.bulk_create(Region(name=p, slug=f"b-r{i}") for i, p in enumerate(short(corpus[500:], 120)))
    teams = Team.objects.bulk_create(Team(name=p, public_name=p) for p in short(corpus[500:], 120))
    TeamRegion.objects.bulk_create(TeamRegion(team=t, region=r) for t, r in zip(teams, regions))
    areas = ServiceArea.objects.bulk_create(
        ServiceArea(name=p, slug=f"b-{i}", region=regions[i % len(regions)])
        for i, p in enumerate(short(corpus[:300], 120))
    )
    # Opened before any page is: nothing to push yet (the push checked is the one below).
    with factories.unannounced():
        incidents = [
            services.open_incident(
                title=corpus[300 + i][:200],
                areas=[areas[i], areas[i + 100], areas[i + 200]],
                impact=Impact.MAJOR,
                status="investigating",
                message=corpus[400 + i],
            )
            for i in range(100)
        ]
    page = browser.new_page()
    dialogs, probes, errors = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "request",
        lambda request: (
            probes.append(request.url) if "xss-probe" in request.url.lower() or "evil.example" in request.url else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    urls = ["/", "/embed/", f"/areas/{areas[0].slug}/", f"/incidents/{incidents[0].pk}/", "/history/"]
    for url in urls:
        page.goto(server.url + url)
        page.wait_for_timeout(700)
    # A live push of hostile text swaps in through the ws extension: still inert.
    page.goto(server.url + "/")
    page.wait_for_selector("#live[data-state=live]", timeout=10000)
    services.post_update(
        incidents[1],
        status="identified",
        message=f'<img src=x onerror=alert(\'push\')><div hx-get="{PROBE}" hx-trigger="load">pushed</div>',
    )
    page.get_by_text("pushed").first.wait_for(timeout=10000)
    page.wait_for_timeout(1000)
    live_attributes = page.evaluate(
        "() => Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)"
        ".filter(a => /^(on|hx-on|data-hx-on)/i.test(a.name) || (/^(data-)?hx-/i.test(a.name) && /xss-probe/i.test(a.value)))"
        ".map(a => e.tagName + ' ' + a.name))"
    )
    print(
        f"\nChromium: {len(corpus)} payloads (areas, regions, teams, titles, messages) on {len(urls) + 1} pages plus one live push; "
        f"dialogs {len(dialogs)}, probe requests {len(probes)}, live attributes {len(live_attributes)}"
    )
    assert dialogs == [] and probes == [] and live_attributes == [], (dialogs, probes, live_attributes)
