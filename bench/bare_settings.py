"""The framework's ceiling for bench/storm.py: the project's settings with no
middleware and one trivial view, served by the same `manage.py serve`."""

from statuspage.settings import *  # noqa: F403

MIDDLEWARE = []
ROOT_URLCONF = "bench.bare_urls"
