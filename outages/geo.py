"""Area shapes: validation, point-in-polygon and simplification, in plain Python.

Geometries are GeoJSON Polygon or MultiPolygon dicts with [lon, lat]
positions (RFC 7946). No GIS library: the shapes of a few thousand service
areas are small enough for straightforward code, and the embedded default
must run on a bare machine.

Boundaries: a point on an edge or a vertex of an area counts as inside it
(a customer standing on the line between two districts belongs to both, and
the caller picks one); a point on the edge of a hole is on the area's
boundary, so it is inside too; a point strictly inside a hole is outside.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

# Coordinates are rounded to this many decimals when stored (about 1 cm)
# and in the map's GeoJSON (DISPLAY_DECIMALS, about 1 m).
STORE_DECIMALS = 7
DISPLAY_DECIMALS = 5
# Douglas-Peucker tolerance for the map, in degrees (about 15-20 m): invisible at
# city zoom, and it makes detailed survey outlines a fraction of their size.
DISPLAY_TOLERANCE = 0.0002
MAX_POSITIONS = 100_000
_EPSILON = 1e-12

Position = tuple[float, float]
Ring = list[Position]


class GeometryError(ValueError):
    """A geometry that cannot be used, with a reason a person can act on."""


# Validation -----------------------------------------------------------------


def validate(geometry) -> dict:
    """A clean copy of a Polygon or MultiPolygon geometry, or GeometryError saying what is wrong."""
    if not isinstance(geometry, dict):
        raise GeometryError(_("the geometry is missing or is not an object"))
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coordinates, None)]
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise GeometryError(_("a MultiPolygon needs a non-empty list of polygons"))
        polygons = [_polygon(polygon, number) for number, polygon in enumerate(coordinates, 1)]
    else:
        raise GeometryError(
            _("geometry type %(kind)s is not supported (use Polygon or MultiPolygon)") % {"kind": str(kind)[:40]}
        )
    if sum(len(ring) for polygon in polygons for ring in polygon) > MAX_POSITIONS:
        raise GeometryError(_("the shape has more than %(max)d points") % {"max": MAX_POSITIONS})
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _as_lists(polygons[0])}
    return {"type": "MultiPolygon", "coordinates": [_as_lists(polygon) for polygon in polygons]}


def _where(polygon_number: int | None, ring_number: int) -> str:
    ring = _("outer ring") if ring_number == 0 else _("hole %(n)d") % {"n": ring_number}
    if polygon_number is None:
        return ring
    return _("polygon %(p)d, %(ring)s") % {"p": polygon_number, "ring": ring}


def _polygon(rings, polygon_number: int | None) -> list[Ring]:
    if not isinstance(rings, list) or not rings:
        raise GeometryError(_("a polygon needs a list of rings"))
    clean = [_ring(ring, _where(polygon_number, number)) for number, ring in enumerate(rings)]
    outer, holes = clean[0], clean[1:]
    for number, hole in enumerate(holes, 1):
        if any(_locate_in_ring(point, outer) < 0 for point in hole):
            raise GeometryError(_("%(where)s is not inside the outer ring") % {"where": _where(polygon_number, number)})
    return clean


def _ring(ring, where: str) -> Ring:
    if not isinstance(ring, list):
        raise GeometryError(_("%(where)s is not a list of positions") % {"where": where})
    points: Ring = []
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in position[:2])
        ):
            raise GeometryError(_("%(where)s has a position that is not [longitude, latitude]") % {"where": where})
        lon, lat = float(position[0]), float(position[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise GeometryError(
                _("%(where)s has a position out of range: [%(lon)s, %(lat)s] (longitude first, then latitude)")
                % {"where": where, "lon": position[0], "lat": position[1]}
            )
        points.append((round(lon, STORE_DECIMALS), round(lat, STORE_DECIMALS)))
    if len(points) < 4:
        raise GeometryError(_("%(where)s has fewer than 4 positions") % {"where": where})
    if points[0] != points[-1]:
        raise GeometryError(_("%(where)s is not closed (its last position must repeat the first)") % {"where": where})
    if abs(_signed_area(points)) < _EPSILON:
        raise GeometryError(_("%(where)s has no area") % {"where": where})
    return points


def _as_lists(polygon: list[Ring]) -> list[list[list[float]]]:
    return [[[lon, lat] for lon, lat in ring] for ring in polygon]


def _signed_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


# Reading ---------------------------------------------------------------------


def polygons(geometry: dict) -> list[list[Ring]]:
    """Every polygon of a geometry as a list of rings (outer first)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def bbox(geometry: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north)."""
    lons = [point[0] for polygon in polygons(geometry) for point in polygon[0]]
    lats = [point[1] for polygon in polygons(geometry) for point in polygon[0]]
    return min(lons), min(lats), max(lons), max(lats)


def label_point(geometry: dict) -> list[float]:
    """Where to put a label: the centroid of the largest polygon's outer ring,
    or its bounding box centre if the centroid falls outside (odd shapes)."""
    outer = max((polygon[0] for polygon in polygons(geometry)), key=lambda ring: abs(_signed_area(ring)))
    area = _signed_area(outer)
    cx = sum((x1 + x2) * (x1 * y2 - x2 * y1) for (x1, y1), (x2, y2) in zip(outer, outer[1:])) / (6 * area)
    cy = sum((y1 + y2) * (x1 * y2 - x2 * y1) for (x1, y1), (x2, y2) in zip(outer, outer[1:])) / (6 * area)
    if not contains({"type": "Polygon", "coordinates": [outer]}, cx, cy):
        lons = [point[0] for point in outer]
        lats = [point[1] for point in outer]
        cx, cy = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    return [round(cx, DISPLAY_DECIMALS), round(cy, DISPLAY_DECIMALS)]


# Point in polygon ---------------------------------------------------------------


def _on_segment(px, py, x1, y1, x2, y2) -> bool:
    cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    scale = max(abs(x2 - x1), abs(y2 - y1), 1e-9)
    if abs(cross) > _EPSILON * scale * 1e3:
        return False
    return (
        min(x1, x2) - _EPSILON <= px <= max(x1, x2) + _EPSILON
        and min(y1, y2) - _EPSILON <= py <= max(y1, y2) + _EPSILON
    )


def _locate_in_ring(point, ring) -> int:
    """1 strictly inside, 0 on the boundary, -1 outside (even-odd ray casting)."""
    px, py = point[0], point[1]
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if _on_segment(px, py, x1, y1, x2, y2):
            return 0
        # Half-open rule on y: a ray through a vertex is counted once.
        if (y1 > py) != (y2 > py):
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            if px < x_cross:
                inside = not inside
    return 1 if inside else -1


def locate_point(geometry: dict, lon: float, lat: float) -> int:
    """1 strictly inside the geometry, 0 on its boundary (holes' edges included), -1 outside."""
    best = -1
    for polygon in polygons(geometry):
        where = _locate_in_ring((lon, lat), polygon[0])
        if where < 0:
            continue
        for hole in polygon[1:]:
            in_hole = _locate_in_ring((lon, lat), hole)
            if in_hole > 0:
                where = -1
                break
            if in_hole == 0:
                where = 0
        best = max(best, where)
        if best == 1:
            return 1
    return best


def contains(geometry: dict, lon: float, lat: float) -> bool:
    """The point is inside the geometry or on its boundary."""
    return locate_point(geometry, lon, lat) >= 0


# Simplification ------------------------------------------------------------------


def _segment_distance(point, start, end) -> float:
    (px, py), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(px - x1, py - y1)
    t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (x1 + t * dx), py - (y1 + t * dy))


def douglas_peucker(points: list, tolerance: float) -> list:
    """Keep the points that matter at this tolerance (iterative, no recursion limit)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        index, distance = 0, 0.0
        for i in range(first + 1, last):
            d = _segment_distance(points[i], points[first], points[last])
            if d > distance:
                index, distance = i, d
        if distance > tolerance:
            keep[index] = True
            stack.extend([(first, index), (index, last)])
    return [point for point, kept in zip(points, keep) if kept]


def _simplify_ring(ring: list, tolerance: float) -> list | None:
    # A closed ring starts and ends at the same point, so split it at the
    # point farthest from the start to give Douglas-Peucker two real chords.
    start = ring[0]
    far = max(range(len(ring)), key=lambda i: math.hypot(ring[i][0] - start[0], ring[i][1] - start[1]))
    if far == 0:
        return None
    simplified = douglas_peucker(ring[: far + 1], tolerance)[:-1] + douglas_peucker(ring[far:], tolerance)
    if len(simplified) < 4:
        return None
    return simplified


def simplify(geometry: dict, tolerance: float = DISPLAY_TOLERANCE, decimals: int = DISPLAY_DECIMALS) -> dict:
    """A lighter copy for display: Douglas-Peucker per ring, rounded. A ring that
    would collapse keeps its original points (outer) or is dropped (a tiny hole)."""
    out = []
    for polygon in polygons(geometry):
        rings = []
        for number, ring in enumerate(polygon):
            simplified = _simplify_ring(ring, tolerance)
            if simplified is None:
                if number > 0:
                    continue
                simplified = ring
            rings.append([[round(x, decimals), round(y, decimals)] for x, y in simplified])
        out.append(rings)
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": out[0]}
    return {"type": "MultiPolygon", "coordinates": out}


def count_positions(geometry: dict) -> int:
    return sum(len(ring) for polygon in polygons(geometry) for ring in polygon)


# The map's drawing -----------------------------------------------------------------
# Web Mercator in pixels of 256-pixel tiles, so a tile layer lines up with the shapes.
# The map's zoom is chosen so that every area together is MAP_UNITS_ACROSS units wide
# at most: a unit is then a fraction of a screen pixel whatever the data's extent, so
# coordinates can be whole numbers and simplified to that resolution.

TILE = 256
MAP_UNITS_ACROSS = 4000
MAX_MAP_ZOOM = 20
# Douglas-Peucker again in map units, after projecting and rounding: half a unit is
# below a screen pixel at the map's widest and first views.
MAP_TOLERANCE = 0.5


def mercator(lon: float, lat: float, zoom: int) -> Position:
    """Web Mercator pixels at this zoom (the same formula as the map's script)."""
    scale = TILE * 2**zoom
    sin = max(min(math.sin(math.radians(lat)), 0.9999), -0.9999)
    return (lon + 180) / 360 * scale, (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale


def map_zoom(geometries: list[dict]) -> tuple[int, list[float]]:
    """The zoom that fits every geometry, and the box (x, y, width, height) that shows them all."""
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    for geometry in geometries:
        w, s, e, n = bbox(geometry)
        west, south, east, north = min(west, w), min(south, s), max(east, e), max(north, n)
    span = max(east - west, (north - south) * 1.5, 0.001)
    zoom = max(0, min(MAX_MAP_ZOOM, math.floor(math.log2(MAP_UNITS_ACROSS * 360 / (span * TILE)))))
    (x0, y0), (x1, y1) = mercator(west, north, zoom), mercator(east, south, zoom)
    pad = max(x1 - x0, y1 - y0) * 0.03
    return zoom, [x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad]


def _path_numbers(numbers: list[int]) -> str:
    # A minus sign separates two numbers by itself.
    return "".join(str(n) if n < 0 or i == 0 else f" {n}" for i, n in enumerate(numbers))


def svg_path(geometry: dict, zoom: int) -> tuple[str, list[int]]:
    """An SVG path (whole map units, each ring an absolute move then relative lines) and
    its bounding box (x, y, width, height), from an already simplified geometry."""
    parts, xs, ys = [], [], []
    for polygon in polygons(geometry):
        for number, ring in enumerate(polygon):
            points = []
            for lon, lat in ring:
                x, y = mercator(lon, lat, zoom)
                point = (round(x), round(y))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) > 4:
                points = _simplify_ring(points, MAP_TOLERANCE) or points
            if len(points) > 1:
                points.pop()  # the ring's closing point: "z" draws that line
            if len(points) < 3 and number > 0:
                continue  # a hole smaller than a unit
            xs.extend(x for x, _ in points)
            ys.extend(y for _, y in points)
            deltas = [n for (x1, y1), (x2, y2) in zip(points, points[1:]) for n in (x2 - x1, y2 - y1)]
            parts.append(f"M{points[0][0]} {points[0][1]}" + (f"l{_path_numbers(deltas)}" if deltas else "") + "z")
    if not xs:
        return "", [0, 0, 0, 0]
    return "".join(parts), [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def fit_box(boxes: list[list[float]], min_width: float = 0) -> list[float] | None:
    """The view (x, y, width, height) around these boxes with a margin, not narrower
    than min_width (the map's script fits a region's areas the same way)."""
    if not boxes:
        return None
    x0, y0 = min(box[0] for box in boxes), min(box[1] for box in boxes)
    x1, y1 = max(box[0] + box[2] for box in boxes), max(box[1] + box[3] for box in boxes)
    pad = max(x1 - x0, y1 - y0) * 0.05
    x, y, width, height = x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    if width and width < min_width:  # not so close that one small area fills the map
        grown = min_width * height / width
        x, y, width, height = x - (min_width - width) / 2, y - (grown - height) / 2, min_width, grown
    return [x, y, width, height]
