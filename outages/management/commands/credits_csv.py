"""Billing export: the service credits earned in a date range, as CSV on stdout."""

import io

from django.core.management.base import BaseCommand, CommandError

from outages.queries import credit_export as credits


class Command(BaseCommand):
    help = (
        "Write the service credits earned in [--since, --until) as CSV (times in UTC; columns in the README). "
        "DATE is YYYY-MM-DD (midnight UTC) or an ISO 8601 date-time such as 2026-03-29T00:00+01:00."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, metavar="DATE", help="start of the range, inclusive")
        parser.add_argument("--until", required=True, metavar="DATE", help="end of the range, exclusive")

    def handle(self, *args, since, until, **options):
        try:
            start, end = credits.parse_bound(since), credits.parse_bound(until)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if end <= start:
            raise CommandError("--until must be after --since.")
        buffer = io.StringIO()
        credits.write_credits_csv(buffer, start, end)
        self.stdout.write(buffer.getvalue(), ending="")
