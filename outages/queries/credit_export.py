"""The billing export of service credits: `manage.py credits_csv` and the
admin's export write the same CSV (columns documented in the README)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from ..models import Incident, WaitCredit
from .credits import Credit, credits_for, with_credit_data

# Billing export--------------------------------------------------------

CSV_COLUMNS = [
    "incident_id",
    "incident_title",
    "incident_kind",
    "area_slug",
    "area_name",
    "service_slug",
    "service_name",
    "policy_id",
    "threshold_minutes",
    "credit",
    "start",
    "end",
    "duration_seconds",
    "duration_minutes",
    "eligible_at",
    # Added last, so the columns before it keep their places: "outage" or "wait" (a late callback or answer).
    "kind",
]


def parse_bound(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 date-time (UTC if it names no offset)."""
    text = (text or "").strip()
    try:
        value = parse_datetime(text)
        if value is None:
            day = parse_date(text)
            value = datetime.combine(day, time(), tzinfo=UTC) if day else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(_("“%(value)s” is not a date (YYYY-MM-DD) or an ISO 8601 date-time.") % {"value": text})
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def eligible_credits(since: datetime, until: datetime, now: datetime | None = None) -> list[Credit]:
    """Credits earned in [since, until): each appears in exactly one of
    back-to-back ranges, at the moment its threshold was passed."""
    now = now or timezone.now()
    incidents = with_credit_data(
        Incident.objects.filter(started_at__lt=until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=since))
        .filter(pk__in=Incident.objects.filter(services__credit_policies__active=True).values("pk"))
        .order_by("started_at", "id")
    )
    rows = [
        credit for incident in incidents for credit in credits_for(incident, now) if since <= credit.crossed_at < until
    ]
    rows.sort(key=lambda c: (c.crossed_at, c.incident.pk, c.area.name, c.service.position, c.policy.pk))
    return rows


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def write_credits_csv(out, since: datetime, until: datetime, now: datetime | None = None) -> int:
    """Write the billing CSV (columns: CSV_COLUMNS, documented in the README) to a text stream; returns the row count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = eligible_credits(since, until, now)
    for credit in rows:
        seconds = int(credit.duration.total_seconds())
        writer.writerow(
            [
                credit.incident.pk,
                _csv_text(credit.incident.title),
                credit.incident.kind,
                credit.area.slug,
                _csv_text(credit.area.name),
                credit.service.slug,
                _csv_text(credit.service.name),
                credit.policy.pk,
                credit.policy.min_duration,
                _csv_text(credit.policy.credit),
                _utc(credit.start),
                _utc(credit.end),
                seconds,
                seconds // 60,
                _utc(credit.crossed_at),
                "outage",
            ]
        )
    waits = list(
        WaitCredit.objects.filter(recorded_at__gte=since, recorded_at__lt=until)
        .select_related("request__area", "request__service", "request__incident", "policy")
        .order_by("recorded_at", "id")
    )
    for wait in waits:
        request = wait.request
        writer.writerow(
            [
                request.incident_id or "",
                _csv_text(request.incident.title) if request.incident else "",
                request.incident.kind if request.incident else "",
                request.area.slug,
                _csv_text(request.area.name),
                request.service.slug if request.service else "",
                _csv_text(request.service.name) if request.service else "",
                wait.policy_id,
                wait.policy.threshold_minutes,
                _csv_text(wait.credit),
                _utc(request.promised_at),
                _utc(request.done_at),
                wait.minutes_late * 60,
                wait.minutes_late,
                _utc(wait.recorded_at),
                "wait",
            ]
        )
    return len(rows) + len(waits)


def _csv_text(value: str) -> str:
    # Operator text opened in a spreadsheet must not run as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
