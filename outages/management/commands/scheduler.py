"""Run the periodic jobs of outages.jobs in a loop (or once, with --once)."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from outages import jobs


class Command(BaseCommand):
    help = "Run periodic jobs (maintenance windows, credit thresholds, clean-up) every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between ticks (default 10)")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")

    def handle(self, *args, interval, once, **options):
        while True:
            results = jobs.tick()
            if once:
                for name, result in results.items():
                    self.stdout.write(f"{name}: {result}")
                return
            time.sleep(interval)
            # A long-running loop must not keep a connection the database dropped.
            close_old_connections()
