"""Live fragments: the HTML a change touches, rendered once per change and
per language, never once per client.

Fragments are shared by every visitor of a language: rendered without a
request (so no CSRF token or nonce can leak in). The page, the widget, the
polling fallback and the push render the same template partials.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from .. import i18n
from ..models import Incident, ServiceArea
from ..queries import current
from .groups import STATUS_GROUP, STATUS_SUMMARY, area_group, area_slug, incident_group, incident_pk

# Where a page keeps its ?lang= in its links ({{ lang_query }} / {{ lang_amp }}):
# a fragment is rendered once per language with these marks, and each client
# gets it with the marks filled for its page (for_client). Operator text is
# escaped, so it can never contain a raw "<": the marks cannot be forged.
LANG_QUERY_MARK = "<lang?>"
LANG_AMP_MARK = "<lang&>"
# A client whose page came by a ?lang= link: its language variant ends so.
LINKED = "+link"


def variant(language: str, linked: bool) -> str:
    """The relay's key for a client: "hu", or "hu+link" when its page's links carry ?lang=hu."""
    return f"{language}{LINKED}" if linked else language


def for_client(html: str, client_variant: str) -> str:
    """A fragment with its links as the client's page has them."""
    language = client_variant.removesuffix(LINKED)
    linked = client_variant != language
    return html.replace(LANG_QUERY_MARK, f"?lang={language}" if linked else "").replace(
        LANG_AMP_MARK, f"&amp;lang={language}" if linked else ""
    )


def _render(template: str, context: dict) -> str:
    """A fragment in the active language (callers choose it with translation.override)."""
    marks = {"lang_query": mark_safe(LANG_QUERY_MARK), "lang_amp": mark_safe(LANG_AMP_MARK)}
    return render_to_string(template, {**marks, **context}).strip()


def _last_updated() -> str:
    return _render("outages/live.html#last-updated", {"now": timezone.now()})


def _status_html(snapshot: dict, *, summary: bool = False) -> str:
    # The summary snapshot is the widget's first frame: it shows no planned
    # work, so it is not sent (a later push may carry it; the widget hides it).
    incidents = {**snapshot, "upcoming_maintenance": []} if summary else snapshot
    parts = [
        _render("outages/home.html#banner", snapshot),
        _render("outages/home.html#active-incidents", incidents),
    ]
    if not summary:
        parts.append(_summary_html(snapshot))
        parts.append(_render("outages/home.html#regions", snapshot))
    return "\n".join([*parts, _last_updated()])


def _summary_html(snapshot: dict) -> str:
    """The storm summary table (home page and /summary/), in its default order."""
    table = snapshot["summary"]
    return _render("outages/summary.html#summary-table", {"summary": table, "rows": table.rows, "sort": ""})


def _area_html(snapshot: dict) -> str:
    return "\n".join([_render("outages/area.html#status-card", snapshot), _last_updated()])


def _incident_html(snapshot: dict) -> str:
    return "\n".join(
        [
            _render("outages/incident.html#card", {**snapshot, "heading": True}),
            _render("outages/incident.html#timeline", snapshot),
            _last_updated(),
        ]
    )


def render_status_snapshot() -> str:
    return _status_html(current.home_snapshot())


def render_status_summary_snapshot() -> str:
    return _status_html(current.home_snapshot(), summary=True)


def render_area_snapshot(area: ServiceArea) -> str:
    return _area_html(current.area_card(area))


def render_incident_snapshot(incident: Incident) -> str:
    return _incident_html(current.incident_snapshot(incident))


def render_group_snapshot(group: str, language: str | None = None) -> str | None:
    """The fresh state a (re)connecting client of this group needs, in its
    language variant (default: the site's language), or None if the group is unknown."""
    code = i18n.client_language((language or "").removesuffix(LINKED))
    html = _group_snapshot(group, code)
    return None if html is None else for_client(html, variant(code, bool(language and language.endswith(LINKED))))


def _group_snapshot(group: str, language: str) -> str | None:
    with translation.override(language):
        if group == STATUS_GROUP:
            return render_status_snapshot()
        if group == STATUS_SUMMARY:
            return render_status_summary_snapshot()
        if (slug := area_slug(group)) is not None:
            area = ServiceArea.objects.select_related("region").filter(slug=slug).first()
            return render_area_snapshot(area) if area else None
        if (pk := incident_pk(group)) is not None:
            incident = Incident.objects.filter(pk=pk).first()
            return render_incident_snapshot(incident) if incident else None
    return None


def render_change(
    incident_id: int | None, area_ids, listening: dict[str, set[str]] | None = None
) -> dict[str, dict[str, str]]:
    """Every fragment a change touches, keyed by the group that shows it and
    then by language: {group: {"en": html, "hu": html, "he": html}}.

    `listening` (census.listening()): the languages read in each group now;
    only those are rendered, and a group nobody has open is listed with no
    language ({group: {}}), so a relay whose client the census has not seen
    yet knows to serve it (Relay.deliver). None: every language of every group.

    The data is read once (the areas' and the incident's cards are the home
    page's when the home page is rendered too); each language is one render of it."""
    areas = ServiceArea.objects.filter(pk__in=list(area_ids))
    # Nobody's page to render here (a one-shot publisher): the groups' names are all it reads.
    areas = areas.only("slug").order_by() if listening == {} else areas.select_related("region")
    return _render_change(incident_id, areas, listening)


def render_named_change(groups, listening: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """A change known by the groups it names (render_change's keys), rendered
    for the languages `listening` asks: what a server renders for its own
    clients when the publisher left that to it (outages.live.relay)."""
    slugs = [slug for group in groups if (slug := area_slug(group)) is not None]
    incident_id = next((pk for group in groups if (pk := incident_pk(group)) is not None), None)
    areas = ServiceArea.objects.select_related("region").filter(slug__in=slugs)
    return _render_change(incident_id, areas, listening)


def _render_change(incident_id: int | None, areas, listening: dict[str, set[str]] | None) -> dict[str, dict[str, str]]:
    areas = list(areas)

    def wanted(group: str) -> list[str]:
        every = i18n.languages()
        if listening is None:
            return every
        read = listening.get(group, set())
        return [code for code in every if code in read]

    fragments: dict[str, dict[str, str]] = {}
    status_languages = wanted(STATUS_GROUP)
    snapshot = current.home_snapshot() if status_languages else None
    if snapshot is not None:
        rows = {row.area.pk: row for group in snapshot["regions"] for row in group.rows}
        changed_rows = [rows[pk] for pk in sorted(area.pk for area in areas) if pk in rows]

        def status_html() -> str:
            return "\n".join(
                [
                    _render("outages/home.html#banner", snapshot),
                    _render("outages/home.html#active-incidents", snapshot),
                    _summary_html(snapshot),
                    *[_render("outages/home.html#area-row", {"row": row}) for row in changed_rows],
                    _last_updated(),
                ]
            )

        fragments[STATUS_GROUP] = i18n.in_every_language(status_html, status_languages)
    else:
        fragments[STATUS_GROUP] = {}
    # A group nobody reads is named with no language, and its data is not read.
    for area in areas:
        codes = wanted(area_group(area.slug))
        area_data = current.area_card(area, snapshot) if codes else None
        fragments[area_group(area.slug)] = i18n.in_every_language(lambda: _area_html(area_data), codes)
    if incident_id is not None:
        codes = wanted(incident_group(incident_id))
        # Read only if someone has its page open; one deleted meanwhile is left out.
        incident = Incident.objects.filter(pk=incident_id).first() if codes else None
        if incident is not None or not codes:
            incident_data = current.incident_snapshot(incident, snapshot) if codes else None
            fragments[incident_group(incident_id)] = i18n.in_every_language(
                lambda: _incident_html(incident_data), codes
            )
    return fragments
