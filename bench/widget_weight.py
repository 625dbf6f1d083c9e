"""How much the widget transfers on a first load, compressed, as a browser sees it.

Budget: under 40 KB. Production-like: DEBUG=0, collectstatic with
WhiteNoise's compressed storage (it serves the .gz files), the demo data,
one daphne; headless Chromium with an empty cache loads the area widget of the
demo area with the most active incidents (and the whole-service widget), and
every response's encoded body and headers are summed, plus the websocket's
first frame (the snapshot, counted uncompressed).

    .venv/bin/python bench/widget_weight.py          # prints a table, exits 1 over budget

Uses a throw-away SQLite database; the collected files go to staticfiles/
(as `make run` does).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET = 40 * 1024
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def main() -> int:
    from tests.conftest import free_port

    workdir = Path(tempfile.mkdtemp(prefix="widget-weight-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}},
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)

    os.environ.update(env)
    import django

    django.setup()
    from django.db.models import Count, Q

    from outages.models import ACTIVE_STATUSES, ServiceArea

    area = (
        ServiceArea.objects.annotate(active=Count("incidents", filter=Q(incidents__status__in=ACTIVE_STATUSES)))
        .order_by("-active", "slug")
        .first()
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        results = [
            measure(base + f"/embed/areas/{area.slug}/", f"area widget ({area.slug}, {area.active} active)"),
            measure(base + "/embed/", "whole-service widget"),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    worst = max(total for total in results)
    print(f"\nbudget {BUDGET / 1024:.1f} KB: {'OK' if worst < BUDGET else 'OVER'}")
    return 0 if worst < BUDGET else 1


def measure(url: str, label: str) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        requests, frames = [], []
        page.on("requestfinished", lambda request: requests.append(request))
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
        page.goto(url)
        page.wait_for_selector("#live[data-state=live]", timeout=15000)
        page.wait_for_timeout(500)
        rows = []
        for request in requests:
            sizes = request.sizes()
            response = request.response()
            encoding = response.headers.get("content-encoding", "identity") if response else "?"
            rows.append(
                (
                    request.url.removeprefix(url.split("/embed")[0]),
                    encoding,
                    sizes["responseBodySize"],
                    sizes["responseHeadersSize"],
                )
            )
        browser.close()
    snapshot = len(frames[0].encode() if isinstance(frames[0], str) else frames[0]) if frames else 0
    print(f"\n{label}: {url}")
    print(f"  {'resource':58} {'encoding':>8} {'body':>7} {'headers':>7}")
    for path, encoding, body, headers in rows:
        print(f"  {path[:58]:58} {encoding:>8} {body:7d} {headers:7d}")
    print(f"  {'websocket snapshot (first frame, uncompressed)':58} {'':>8} {snapshot:7d}")
    bodies = sum(row[2] for row in rows) + snapshot
    total = bodies + sum(row[3] for row in rows)
    print(f"  total: {bodies / 1024:.1f} KB of bodies, {total / 1024:.1f} KB with response headers")
    return total


if __name__ == "__main__":
    sys.exit(main())
