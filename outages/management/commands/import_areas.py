"""Create or update service areas from a GeoJSON or CSV file (see outages.services.area_import).

    python manage.py import_areas areas.geojson
    python manage.py import_areas areas.csv --skip-invalid
    python manage.py import_areas areas.geojson --dry-run

Every bad row is reported with its line (CSV) or feature (GeoJSON) number;
by default one bad row means nothing is imported and the exit status is 1.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outages.services import area_import

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Create or update service areas (by slug) from a GeoJSON FeatureCollection or a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .geojson/.json or .csv file, or - for standard input")
        parser.add_argument("--format", choices=area_import.FORMATS, help="default: from the file name or content")
        parser.add_argument("--skip-invalid", action="store_true", help="import the good rows and skip the bad ones")
        parser.add_argument("--dry-run", action="store_true", help="validate and show what would change; write nothing")

    def handle(self, *args, file, format, skip_invalid, dry_run, **options):
        data, name = self._read(file)
        try:
            if dry_run:
                plan = area_import.plan(data, name, format)
            else:
                plan = area_import.run(data, name, format, skip_invalid=skip_invalid, progress=self._progress())
        except area_import.ImportFileError as error:
            raise CommandError(f"{name}: {error}") from None
        except area_import.ImportRefused as refused:
            self._report_errors(name, refused.plan)
            raise CommandError(
                f"{len(refused.plan.errors)} invalid rows; nothing was imported "
                "(fix them, or use --skip-invalid to import the rest)"
            ) from None
        self._report_errors(name, plan)
        if plan.new_regions:
            self.stdout.write(("Would create" if dry_run else "Created") + " regions: " + ", ".join(plan.new_regions))
        prefix = "Dry run, nothing written: " if dry_run else ""
        skipped = f" ({len(plan.errors)} invalid rows skipped)" if plan.errors and not dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{plan.summary()}{skipped}."))

    def _read(self, file: str) -> tuple[bytes, str]:
        if file == "-":
            return sys.stdin.buffer.read(), "<stdin>"
        path = Path(file)
        try:
            return path.read_bytes(), path.name
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None

    def _report_errors(self, name: str, plan) -> None:
        for error in plan.errors:
            self.stderr.write(f"{name}, {error}")

    def _progress(self):
        """A progress bar on a terminal; nothing when output goes to a file or pipe."""
        if not self.stdout.isatty():
            return None

        def show(done: int, total: int) -> None:
            filled = BAR_WIDTH * done // max(total, 1)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending="")
            if done == total:
                self.stdout.write("")
            self.stdout.flush()

        return show
