"""Make outages/demo/areas.geojson: plausible shapes for the demo areas.

Not survey data: each demo area gets the Voronoi cell of its real centre
among all the demo centres (so neighbours share edges and never overlap),
cut to a rough circle around the centre, with a little deterministic wobble
on long edges so the map does not look like a diagram. Budapest's districts
are small cells packed in the city, the Pest County towns and Debrecen larger
ones on their own.

    DEBUG=1 .venv/bin/python outages/demo/generate_areas.py

The output is committed; the app never runs this.
"""

import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from outages.management.commands.seed_demo import BUDAPEST, HAJDU, PEST_COUNTY  # noqa: E402

# (lat, lon) of each district's or town's centre, and the cell's radius in km.
CENTRES = {
    "budapest-district-1": (47.4968, 19.0375, 2.0),
    "budapest-district-2": (47.5393, 18.9850, 6),
    "budapest-district-3": (47.5672, 19.0365, 6),
    "budapest-district-4": (47.5625, 19.0900, 4),
    "budapest-district-5": (47.5000, 19.0520, 1.5),
    "budapest-district-6": (47.5070, 19.0650, 1.5),
    "budapest-district-7": (47.5005, 19.0720, 1.5),
    "budapest-district-8": (47.4890, 19.0860, 2.5),
    "budapest-district-9": (47.4760, 19.0800, 3.0),
    "budapest-district-10": (47.4820, 19.1560, 4.5),
    "budapest-district-11": (47.4600, 19.0200, 5),
    "budapest-district-12": (47.4990, 18.9900, 5),
    "budapest-district-13": (47.5300, 19.0700, 3.0),
    "budapest-district-14": (47.5200, 19.1100, 3.0),
    "budapest-district-15": (47.5620, 19.1400, 5),
    "budapest-district-16": (47.5150, 19.1900, 5.5),
    "budapest-district-17": (47.4800, 19.2600, 7),
    "budapest-district-18": (47.4300, 19.2000, 6),
    "budapest-district-19": (47.4450, 19.1450, 3.0),
    "budapest-district-20": (47.4330, 19.1100, 2.5),
    "budapest-district-21": (47.4150, 19.0650, 6),
    "budapest-district-22": (47.4200, 19.0250, 5.5),
    "budapest-district-23": (47.3800, 19.1300, 6.5),
    "szentendre": (47.6694, 19.0756, 9),
    "godollo": (47.5967, 19.3552, 10),
    "vac": (47.7784, 19.1331, 9),
    "erd": (47.3919, 18.9046, 9),
    "budaors": (47.4621, 18.9530, 6),
    "dunakeszi": (47.6364, 19.1386, 7),
    "szigetszentmiklos": (47.3439, 19.0436, 8),
    "debrecen": (47.5316, 21.6273, 12),
}
LAT0 = 47.5
KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(LAT0))


def to_km(lat, lon):
    return lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT


def to_lonlat(x, y):
    return round(x / KM_PER_DEG_LON, 6), round(y / KM_PER_DEG_LAT, 6)


def clip(polygon, a, b, c):
    """Keep the part of a convex polygon where a*x + b*y <= c (Sutherland-Hodgman)."""
    out = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        p_in, q_in = a * p[0] + b * p[1] <= c, a * q[0] + b * q[1] <= c
        if p_in:
            out.append(p)
        if p_in != q_in:
            t = (c - a * p[0] - b * p[1]) / (a * (q[0] - p[0]) + b * (q[1] - p[1]))
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def wobble(polygon):
    """Bend long edges a little, the same way from both sides so neighbours still meet."""
    out = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        out.append(p)
        length = math.dist(p, q)
        if length < 0.8:
            continue
        # Walk the edge in a fixed direction whichever cell draws it.
        a, b = sorted([p, q])
        nx, ny = -(b[1] - a[1]) / length, (b[0] - a[0]) / length
        steps = int(length / 0.4)
        points = []
        for s in range(1, steps):
            t = s / steps
            bend = 0.1 * math.sin(t * math.tau) * math.sin(t * math.pi)
            points.append((a[0] + t * (b[0] - a[0]) + nx * bend, a[1] + t * (b[1] - a[1]) + ny * bend))
        out.extend(points if (a, b) == (p, q) else points[::-1])
    return out


def cell(slug):
    lat, lon, radius = CENTRES[slug]
    cx, cy = to_km(lat, lon)
    polygon = [
        (cx + radius * math.cos(k * math.tau / 24), cy + radius * math.sin(k * math.tau / 24)) for k in range(24)
    ]
    for other, (olat, olon, _) in CENTRES.items():
        if other == slug:
            continue
        ox, oy = to_km(olat, olon)
        # Points nearer to this centre than to the other: the bisector half-plane.
        polygon = clip(polygon, ox - cx, oy - cy, (ox * ox + oy * oy - cx * cx - cy * cy) / 2)
    return polygon


def main():
    features = []
    for region, rows in [("budapest", BUDAPEST), ("pest-county", PEST_COUNTY), ("hajdu-bihar", HAJDU)]:
        for name, slug, postcodes in rows:
            ring = [to_lonlat(x, y) for x, y in wobble(cell(slug))]
            # Counter-clockwise outer ring (RFC 7946), closed.
            area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]))
            if area < 0:
                ring.reverse()
            ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": name, "slug": slug, "region": region, "postcodes": postcodes},
                    "geometry": {"type": "Polygon", "coordinates": [[list(point) for point in ring]]},
                }
            )
    document = {"type": "FeatureCollection", "features": features}
    target = Path(__file__).with_name("areas.geojson")
    target.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(features)} areas to {target}")


if __name__ == "__main__":
    main()
