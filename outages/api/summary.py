"""The storm summary as data, for media and emergency services: per region,
customers out / served, percentage, incidents, earliest and latest ETA, and
the total row (outages.queries.summary). The same table as JSON and CSV."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse

from ..queries import summary
from .http import json_response, public_get

CSV_COLUMNS = [
    "region_slug",
    "region",
    "customers_out",
    "customers_served",
    "percent_out",
    "incidents",
    "earliest_eta",
    "latest_eta",
]


@public_get()
def regions_json(request: HttpRequest) -> HttpResponse:
    table = summary.storm_summary()
    return json_response({"regions": [row.as_json() for row in table.rows], "total": table.total.as_json()})


def _csv_cell(value) -> str:
    """Operator text is data: a cell that a spreadsheet would read as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@public_get()
def regions_csv(request: HttpRequest) -> HttpResponse:
    table = summary.storm_summary()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="regions.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in [*table.rows, table.total]:
        data = row.as_json()
        region = data["region"] or {"slug": "", "name": "Total"}
        writer.writerow(
            [
                _csv_cell(region["slug"]),
                _csv_cell(region["name"]),
                data["customers_out"],
                data["customers_served"],
                "" if data["percent_out"] is None else data["percent_out"],
                data["incidents"],
                data["earliest_eta"] or "",
                data["latest_eta"] or "",
            ]
        )
    return response
