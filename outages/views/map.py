"""The outage map: the page, the shapes of every area as one GeoJSON, and
"use my location" (a point looked up against the shapes, on this server).

The shapes and the statuses travel separately: the GeoJSON changes only
when areas are imported or edited, so it is cached hard (server cache, ETag,
public Cache-Control, gzip); the statuses are in the page's area list, which
the live push keeps current, and the map's script colours shapes from it.
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


@require_safe
@pagecache.cached()
def map_page(request: HttpRequest) -> HttpResponse:
    snapshot = current.home_snapshot()
    # The statuses the map starts with, so it can draw before the area list
    # below it has loaded; from then on that list (kept live) is the truth.
    affected = [row for group in snapshot["regions"] for row in group.rows if row.status != AreaStatus.OPERATIONAL]
    context = {
        **snapshot,
        "live_url": groups.live_url(groups.status_path()),
        "snapshot_prefix": groups.AREA_PREFIX,
        "statuses": [(status, status.label) for status in AreaStatus],
        "initial_statuses": " ".join(f"{row.area.slug}:{row.status}" for row in affected),
        "status_icons": " ".join(f"{status}:{icon}" for status, icon in STATUS_ICONS.items()),
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
