"""How fast the outage map draws 500 areas on a slow phone.

Builds a throwaway SQLite database with N detailed areas (irregular
polygons of ~80 points, a tenth of them affected by incidents), imports them
with the real importer, serves them with daphne, and loads /map/ in headless
Chromium with the CPU slowed down 4x (CDP Emulation.setCPUThrottlingRate),
the usual stand-in for a mid-range phone. Every load is a fresh browser
context (nothing cached in the browser). Reports, over several loads:

- navigation start -> map painted: the page draws the shapes in its HTML;
  the map's script (right after the map) marks `map-parsed`, then
  `map-painted` two animation frames later, i.e. once a frame with the
  map in it has been painted; the browser's own first contentful paint too
- navigation start -> the map answers (its script has read the shapes and
  the page's area list: `map-drawn`, with DOMContentLoaded)
- the size of the page and of the GeoJSON (for other clients), raw and
  gzipped, and the import time.

    .venv/bin/python bench/map_render.py [--areas 500] [--runs 5] [--throttle 4]
"""

import argparse
import gzip
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_areas(count: int) -> bytes:
    """A grid of wobbly, touching-ish cells around Budapest: ~80 points each."""
    rng = random.Random(14)
    columns = math.ceil(math.sqrt(count * 1.5))
    size = 0.6 / columns
    features = []
    for n in range(count):
        cx = 18.7 + (n % columns) * size * 1.02
        cy = 47.2 + (n // columns) * size * 0.68 * 1.02
        ring = []
        for k in range(80):
            angle = k * math.tau / 80
            radius = size / 2 * (0.85 + 0.15 * math.sin(angle * 5 + n) + rng.uniform(-0.03, 0.03))
            ring.append([round(cx + radius * math.cos(angle), 6), round(cy + radius * math.sin(angle) * 0.68, 6)])
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": f"Bench area {n}",
                    "slug": f"bench-{n}",
                    "region": f"Bench region {n // 50}",
                    "postcodes": [str(5000 + n)],
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--areas", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--throttle", type=float, default=4)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="map-bench-"))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from outages import services
    from outages.models import Impact, ServiceArea
    from outages.services import area_import

    call_command("migrate", verbosity=0)
    data = make_areas(args.areas)
    started = time.perf_counter()
    area_import.run(data, "bench.geojson")
    import_seconds = time.perf_counter() - started
    slugs = [f"bench-{n}" for n in range(0, args.areas, 10)]
    for impact, chunk in zip([Impact.MINOR, Impact.MAJOR, Impact.CRITICAL], [slugs[0::3], slugs[1::3], slugs[2::3]]):
        services.open_incident(title=f"Bench {impact}", areas=ServiceArea.objects.filter(slug__in=chunk), impact=impact)

    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(args.port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts daphne slowly
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        raw = urllib.request.urlopen(base + "/map/areas.geojson").read()
        request = urllib.request.Request(base + "/map/areas.geojson", headers={"Accept-Encoding": "gzip"})
        zipped = urllib.request.urlopen(request).read()
        # The page's first, uncached render (it warms the page cache, as the first visitor would;
        # the GeoJSON requests above warm the shapes).
        started = time.perf_counter()
        html = urllib.request.urlopen(base + "/map/").read()
        first_render = time.perf_counter() - started

        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        painted, ready, stages = [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for _ in range(args.runs):
                context = browser.new_context(
                    viewport={"width": 412, "height": 915}, device_scale_factor=2, is_mobile=True, has_touch=True
                )
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
                page.goto(base + "/map/")
                page.wait_for_selector("#map[data-painted][data-drawn]", state="attached", timeout=60000)
                assert page.get_attribute("#map", "data-drawn") == str(args.areas)
                marks = page.evaluate(
                    "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
                )
                timing = page.evaluate("""() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                    return {html: nav.responseEnd, dom: nav.domContentLoadedEventEnd, fcp: fcp ? fcp.startTime : NaN};
                }""")
                stages.append({**timing, **marks})
                painted.append(marks["map-painted"])
                ready.append(marks["map-drawn"])
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"areas: {args.areas}, CPU throttling: {args.throttle}x, runs: {args.runs}, viewport 412x915 @2x")
    print(f"import ({args.areas} areas, ~80 points each): {import_seconds:.2f} s")
    print(
        f"page /map/: {len(html) / 1024:.0f} KiB raw, {len(gzip.compress(html)) / 1024:.0f} KiB gzipped; "
        f"first render {first_render * 1000:.0f} ms (uncached, CPU not throttled)"
    )
    print(f"GeoJSON (not used by the page): {len(raw) / 1024:.0f} KiB raw, {len(zipped) / 1024:.0f} KiB gzipped")
    print(
        f"navigation start -> map painted: median {statistics.median(painted):.0f} ms "
        f"(min {min(painted):.0f}, max {max(painted):.0f})"
    )
    print(
        f"navigation start -> map answers input: median {statistics.median(ready):.0f} ms "
        f"(min {min(ready):.0f}, max {max(ready):.0f})"
    )
    for name in ["html", "map-parsed", "fcp", "map-painted", "dom", "map-drawn"]:
        print(f"  {name}: median {statistics.median(stage[name] for stage in stages):.0f} ms")
    verdict = "under" if statistics.median(painted) < 1000 else "OVER"
    print(f"target: 500 areas on screen in under 1 s -> {verdict}")


if __name__ == "__main__":
    main()
