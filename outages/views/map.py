"""The outage map: the page, the shapes of every area as one GeoJSON, and
"use my location" (a point looked up against the shapes, on this server).

The page carries the map itself: every shape as an SVG path, projected,
simplified to the map's resolution and rounded here (cached until an area is
added or edited), coloured with the statuses of this render and opened on the
worst outage, so the browser paints it without running a script. The map's
script only adds interaction and follows the page's area list, which the live
push keeps current. The GeoJSON is for everyone else: cached hard (server
cache, ETag, public Cache-Control, gzip).
"""

import gzip
import hashlib
import json
import math
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from .. import geo
from ..live import groups, pagecache
from ..models import STATUS_ICONS, AreaStatus, ServiceArea
from ..queries import current

GEOJSON_MAX_AGE = 300
GEOJSON_CACHE_SECONDS = 24 * 3600
ASSUMED_MAP_PIXELS = 800


def tile_origin(url: str) -> str:
    """The origin to allow in img-src for a tile URL template ({s} becomes a wildcard)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def _with_tile_policy(response: HttpResponse) -> HttpResponse:
    if not settings.MAP_TILE_URL:
        return response
    policy = dict(settings.SECURE_CSP)
    policy["img-src"] = [*policy.get("img-src", []), tile_origin(settings.MAP_TILE_URL)]
    return csp_override(policy)(lambda request: response)(None)


def _numbers(values) -> str:
    return " ".join(f"{value:.1f}".removesuffix(".0") for value in values)


def build_map_drawing() -> dict:
    """Every area's path in map units, with what the script needs to place names and
    fit views (bounding box, label point). Statuses are not in it: it is cached
    until an area changes."""
    areas = list(ServiceArea.objects.filter(shape__isnull=False).values_list("slug", "name", "shape"))
    if not areas:
        return {"zoom": 0, "full": [0, 0, 1000, 600], "shapes": []}
    shown = [(slug, name, geo.simplify(shape), geo.label_point(shape)) for slug, name, shape in areas]
    zoom, full = geo.map_zoom([simplified for _, _, simplified, _ in shown])
    shapes = []
    for slug, name, simplified, (lon, lat) in shown:
        d, box = geo.svg_path(simplified, zoom)
        shapes.append(
            {"slug": slug, "name": name, "d": d, "box": box, "at": [round(n) for n in geo.mercator(lon, lat, zoom)]}
        )
    return {"zoom": zoom, "full": full, "shapes": shapes}


def map_drawing() -> dict:
    version = _shapes_version()
    key = f"map-drawing:{version}"
    drawing = cache.get(key)
    if drawing is None:
        drawing = build_map_drawing()
        cache.set(key, drawing, GEOJSON_CACHE_SECONDS)
    return drawing


def _map_context(snapshot: dict) -> dict:
    """The drawing coloured with this render's statuses, opened on the worst outage
    (All areas is one click away)."""
    drawing = map_drawing()
    rows = {row.area.slug: row for group in snapshot["regions"] for row in group.rows}
    shapes = []
    for shape in drawing["shapes"]:
        row = rows.get(shape["slug"])
        status = AreaStatus(row.status if row else AreaStatus.OPERATIONAL)
        shapes.append(
            {
                **shape,
                "name": row.area.localized_name if row else shape["name"],
                "status": status,
                "icon": STATUS_ICONS[status],
                "box_text": _numbers(shape["box"]),
                "at_text": _numbers(shape["at"]),
            }
        )
    full = drawing["full"]
    worst = current.worst(shape["status"] for shape in shapes)
    view = full
    if worst != AreaStatus.OPERATIONAL:
        view = geo.fit_box([shape["box"] for shape in shapes if shape["status"] == worst], full[2] / 6) or full
    # Patterns and labels are sized in map units; until the script has read the map's
    # real width (or without a script), assume a typical one.
    per_pixel = view[2] / ASSUMED_MAP_PIXELS
    return {
        "zoom": drawing["zoom"],
        "full": _numbers(full),
        "view": _numbers(view),
        "shapes": shapes,
        "pattern_scale": f"{per_pixel:.3f}",
        "stroke_em": f"{100 * per_pixel:.2f}",
        "font_size": f"{13 * per_pixel:.2f}",
        "halo": f"{2.5 * per_pixel:.2f}",
    }


@require_safe
@pagecache.cached()
def map_page(request: HttpRequest) -> HttpResponse:
    snapshot = current.home_snapshot()
    context = {
        **snapshot,
        "live_url": groups.live_url(groups.status_path()),
        "snapshot_prefix": groups.AREA_PREFIX,
        "statuses": [(status, status.label) for status in AreaStatus],
        "status_icons": " ".join(f"{status}:{icon}" for status, icon in STATUS_ICONS.items()),
        "map": _map_context(snapshot),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return _with_tile_policy(render(request, "outages/map.html", context))


def _shapes_version() -> str:
    """Changes whenever an area is added, removed or saved. One query."""
    facts = ServiceArea.objects.aggregate(count=Count("id"), last=Max("updated_at"), top=Max("id"))
    last = facts["last"].isoformat() if facts["last"] else "-"
    return hashlib.sha256(f"{facts['count']}:{facts['top']}:{last}".encode()).hexdigest()[:20]


def build_geojson() -> bytes:
    features = []
    rows = ServiceArea.objects.filter(shape__isnull=False).values_list("slug", "name", "name_translations", "shape")
    for slug, name, translations, shape in rows:
        features.append(
            {
                "type": "Feature",
                "id": slug,
                "properties": {
                    "name": name,
                    # Every language's name in the one cached document: the page picks its own.
                    "names": {code: text for code, text in (translations or {}).items() if text},
                    "url": reverse("area", args=[slug]),
                    "label": geo.label_point(shape),
                },
                "geometry": geo.simplify(shape),
            }
        )
    document = {"type": "FeatureCollection", "features": features}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@require_safe
def areas_geojson(request: HttpRequest) -> HttpResponse:
    """Every area's simplified shape in one response, gzipped, cacheable."""
    version = _shapes_version()
    etag = f'"{version}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        key = f"map-geojson:{version}"
        bodies = cache.get(key)
        if bodies is None:
            raw = build_geojson()
            bodies = {"raw": raw, "gzip": gzip.compress(raw, compresslevel=6, mtime=0)}
            cache.set(key, bodies, GEOJSON_CACHE_SECONDS)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response = HttpResponse(bodies["gzip"], content_type="application/geo+json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(bodies["raw"], content_type="application/geo+json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={GEOJSON_MAX_AGE}"
    response["Vary"] = "Accept-Encoding"
    return response


def _coordinate(raw: str | None, limit: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


@require_safe
def locate(request: HttpRequest) -> HttpResponse:
    """The area at ?lat=&lon= (the browser's location, sent only after a click): redirect to its page."""
    lat = _coordinate(request.GET.get("lat"), 90)
    lon = _coordinate(request.GET.get("lon"), 180)
    if lat is None or lon is None:
        return HttpResponseBadRequest(
            _("Give a location as ?lat=47.5&lon=19.05 (latitude -90 to 90, longitude -180 to 180)."),
            content_type="text/plain; charset=utf-8",
        )
    area = current.find_area(lon, lat)
    if area is not None:
        response = redirect("area", slug=area.slug)
    else:
        response = render(request, "outages/map_locate.html", {"lat": lat, "lon": lon}, status=404)
    # A location is personal: never stored by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
