"""Service areas in bulk, from GeoJSON or CSV: parse, validate, preview, apply.

Shared by `manage.py import_areas` and the admin's import page, so both
accept and refuse exactly the same files.

- GeoJSON: a FeatureCollection of Polygon/MultiPolygon features whose
  properties carry name, slug, region and postcodes (a list or a
  comma-separated string).
- CSV: a header row with name, slug, region and (optionally) postcodes; no
  shapes, so an area keeps the shape it has.
- Both may give customers_served: per service slug, how many customers the
  area has ("fiber=1200; power=800" in CSV, or an object {"fiber": 1200} in
  GeoJSON). Services it does not name keep their number; empty changes nothing.

Areas are matched by slug: a new slug creates an area, a known one updates
its name, region, postcodes and shape; a row that changes nothing writes
nothing, so importing the same file twice is harmless. `region` names an
existing region by slug or name, or creates one. Every row is checked before
anything is written; a file with a bad row is refused whole unless the caller
asks to skip the bad rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .. import events, geo
from ..models import CustomersServed, Region, Service, ServiceArea, normalize_postcode

NAME_MAX = 120
POSTCODE_MAX = 16
REQUIRED_COLUMNS = ("name", "slug", "region")
FORMATS = ("geojson", "csv")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not JSON, not a FeatureCollection, no header...)."""


class ImportRefused(Exception):
    """The file has bad rows and the caller did not ask to skip them; nothing was written."""

    def __init__(self, plan: ImportPlan):
        super().__init__(_("%(count)d invalid rows; nothing was imported") % {"count": len(plan.errors)})
        self.plan = plan


@dataclass
class RowError:
    number: int
    unit: str  # "line" or "feature"
    reason: str

    def __str__(self) -> str:
        unit = _("line") if self.unit == "line" else _("feature")
        return f"{unit} {self.number}: {self.reason}"


@dataclass
class Row:
    number: int
    name: str
    slug: str
    region: str
    postcodes: str  # packed, as ServiceArea stores them
    shape: dict | None
    customers: dict[str, int] = field(default_factory=dict)  # service slug -> customers served


@dataclass
class Change:
    row: Row
    action: str  # "create", "update" or "unchanged"
    fields: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    format: str
    changes: list[Change]
    errors: list[RowError]
    new_regions: list[str]

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    def summary(self) -> str:
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(invalid)d invalid rows") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": len(self.errors),
        }


# Parsing --------------------------------------------------------------------


def detect_format(data: bytes, name: str = "") -> str:
    lowered = name.lower()
    if lowered.endswith((".geojson", ".json")):
        return "geojson"
    if lowered.endswith((".csv", ".txt")):
        return "csv"
    return "geojson" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(_("the file is not UTF-8 text (byte %(at)d)") % {"at": error.start}) from None


def _text(value, what: str, *, required: bool = True, max_length: int = NAME_MAX) -> str:
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(_("%(what)s must be text") % {"what": what})
    value = " ".join(value.split())
    if required and not value:
        raise ValueError(_("%(what)s is missing") % {"what": what})
    if len(value) > max_length:
        raise ValueError(_("%(what)s is longer than %(max)d characters") % {"what": what, "max": max_length})
    return value


def _postcodes(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        items = value.replace(";", ",").replace("\n", ",").split(",")
    elif isinstance(value, list):
        items = value
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [str(value)]
    else:
        raise ValueError(_("postcodes must be a list or a comma-separated text"))
    codes = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise ValueError(_("postcode %(value)s is not text") % {"value": json.dumps(item)[:40]})
        if not item.strip():
            continue
        code = normalize_postcode(item)
        if not code:
            raise ValueError(_("postcode “%(value)s” has no letters or digits") % {"value": item.strip()[:40]})
        if len(code) > POSTCODE_MAX:
            raise ValueError(_("postcode “%(value)s” is too long") % {"value": item.strip()[:40]})
        codes.append(code)
    return ServiceArea.pack_postcodes(codes)


def _customers(value) -> dict[str, int]:
    """customers_served: {"fiber": 1200} or "fiber=1200; power=800"."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        pairs = []
        for item in value.replace(",", ";").split(";"):
            if not item.strip():
                continue
            slug, sep, count = item.partition("=")
            if not sep:
                raise ValueError(_("customers_served must read like fiber=1200; power=800"))
            pairs.append((slug.strip(), count.strip()))
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise ValueError(_("customers_served must read like fiber=1200; power=800"))
    result = {}
    for slug, count in pairs:
        if isinstance(count, str) and count.isdigit():
            count = int(count)
        if not isinstance(slug, str) or not slug or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(
                _("customers served for “%(service)s” must be a whole number, zero or more")
                % {"service": str(slug)[:40]}
            )
        result[slug] = count
    return result


def _row(number: int, values: dict, shape: dict | None) -> Row:
    name = _text(values.get("name"), _("name"))
    slug = _text(values.get("slug"), _("slug"))
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValueError(
            _("slug “%(slug)s” may contain only letters, digits, hyphens and underscores") % {"slug": slug[:60]}
        ) from None
    region = _text(values.get("region"), _("region"))
    if not slugify(region):
        raise ValueError(_("region “%(region)s” needs at least one letter or digit") % {"region": region})
    return Row(
        number=number,
        name=name,
        slug=slug,
        region=region,
        postcodes=_postcodes(values.get("postcodes")),
        shape=shape,
        customers=_customers(values.get("customers_served")),
    )


def parse_geojson(text: str) -> tuple[list[Row], list[RowError]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            _("not valid JSON: %(msg)s (line %(line)d, column %(col)d)")
            % {"msg": error.msg, "line": error.lineno, "col": error.colno}
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError(_("the GeoJSON must be a FeatureCollection"))
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportFileError(_("the FeatureCollection has no list of features"))
    rows, errors = [], []
    for number, feature in enumerate(features, 1):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError(_("not a GeoJSON Feature"))
            properties = feature.get("properties")
            if not isinstance(properties, dict):
                raise ValueError(_("the feature has no properties (name, slug, region, postcodes)"))
            try:
                shape = geo.validate(feature.get("geometry"))
            except geo.GeometryError as error:
                raise ValueError(_("shape: %(reason)s") % {"reason": error}) from None
            rows.append(_row(number, properties, shape))
        except ValueError as error:
            errors.append(RowError(number, "feature", str(error)))
    return rows, errors


def parse_csv(text: str) -> tuple[list[Row], list[RowError]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_("the file is empty")) from None
    except csv.Error as error:
        raise ImportFileError(_("unreadable CSV: %(error)s") % {"error": error}) from None
    columns = [column.strip().lower() for column in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ImportFileError(
            _("the header row needs the columns name, slug, region and postcodes; missing: %(missing)s")
            % {"missing": ", ".join(missing)}
        )
    rows, errors = [], []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(RowError(start, "line", _("unreadable CSV: %(error)s") % {"error": error}))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        try:
            if len(cells) > len(columns):
                raise ValueError(
                    _("%(found)d cells but the header has %(expected)d columns")
                    % {"found": len(cells), "expected": len(columns)}
                )
            rows.append(_row(start, dict(zip(columns, cells)), None))
        except ValueError as error:
            errors.append(RowError(start, "line", str(error)))
    return rows, errors


def parse(data: bytes, name: str = "", fmt: str | None = None) -> tuple[str, list[Row], list[RowError]]:
    fmt = fmt or detect_format(data, name)
    if fmt not in FORMATS:
        raise ImportFileError(_("unknown format %(fmt)s (use geojson or csv)") % {"fmt": fmt})
    text = _decode(data)
    rows, errors = (parse_geojson if fmt == "geojson" else parse_csv)(text)
    unit = "feature" if fmt == "geojson" else "line"
    # A slug twice in one file: the first wins, the second is an error.
    first_seen: dict[str, int] = {}
    unique = []
    for row in rows:
        if row.slug in first_seen:
            errors.append(
                RowError(
                    row.number,
                    unit,
                    _("slug “%(slug)s” is already used by %(unit)s %(first)d")
                    % {"slug": row.slug, "unit": _(unit), "first": first_seen[row.slug]},
                )
            )
            continue
        first_seen[row.slug] = row.number
        unique.append(row)
    errors.sort(key=lambda error: error.number)
    return fmt, unique, errors


# Planning and applying ---------------------------------------------------------


def _regions_by_key() -> dict[str, Region]:
    regions = {}
    for region in Region.objects.all():
        regions.setdefault(region.name.casefold(), region)
        regions[region.slug.casefold()] = region
    return regions


def _find_region(regions: dict[str, Region], value: str) -> Region | None:
    return regions.get(value.casefold()) or regions.get(slugify(value))


def plan(data: bytes, name: str = "", fmt: str | None = None) -> ImportPlan:
    """What importing this file would do, without writing anything."""
    fmt, rows, errors = parse(data, name, fmt)
    existing = {
        area.slug: area
        for area in ServiceArea.objects.defer(None).select_related("region").filter(slug__in=[r.slug for r in rows])
    }
    regions = _regions_by_key()
    services = set(Service.objects.values_list("slug", flat=True))
    served: dict[str, dict[str, int]] = {}
    for area_slug, service_slug, customers in CustomersServed.objects.filter(
        area__slug__in=[r.slug for r in rows]
    ).values_list("area__slug", "service__slug", "customers"):
        served.setdefault(area_slug, {})[service_slug] = customers
    new_regions: dict[str, str] = {}
    changes = []
    unit = "feature" if fmt == "geojson" else "line"
    for row in rows:
        unknown = sorted(set(row.customers) - services)
        if unknown:
            errors.append(
                RowError(
                    row.number,
                    unit,
                    _("customers_served names unknown services: %(slugs)s") % {"slugs": ", ".join(unknown)},
                )
            )
            continue
        region = _find_region(regions, row.region)
        if region is None:
            new_regions.setdefault(slugify(row.region), row.region)
        area = existing.get(row.slug)
        if area is None:
            changes.append(Change(row, "create"))
            continue
        fields = []
        if area.name != row.name:
            fields.append("name")
        if region is None or area.region_id != region.pk:
            fields.append("region")
        if area.postcodes != row.postcodes:
            fields.append("postcodes")
        if row.shape is not None and area.shape != row.shape:
            fields.append("shape")
        if any(served.get(row.slug, {}).get(slug) != count for slug, count in row.customers.items()):
            fields.append("customers_served")
        changes.append(Change(row, "update" if fields else "unchanged", fields))
    errors.sort(key=lambda error: error.number)
    return ImportPlan(format=fmt, changes=changes, errors=errors, new_regions=sorted(new_regions.values()))


def run(
    data: bytes,
    name: str = "",
    fmt: str | None = None,
    *,
    skip_invalid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """Plan and apply in one transaction: all rows or none (unless skip_invalid)."""
    with transaction.atomic():
        result = plan(data, name, fmt)
        if result.errors and not skip_invalid:
            raise ImportRefused(result)
        regions = _regions_by_key()
        for region_name in result.new_regions:
            regions[region_name.casefold()] = regions[slugify(region_name)] = Region.objects.create(
                name=region_name, slug=slugify(region_name)
            )
        areas = {
            area.slug: area
            for area in ServiceArea.objects.defer(None).filter(slug__in=[c.row.slug for c in result.changes])
        }
        services = {service.slug: service for service in Service.objects.all()}
        total = len(result.changes)
        for done, change in enumerate(result.changes, 1):
            row = change.row
            region = _find_region(regions, row.region)
            area = None
            if change.action == "create":
                area = ServiceArea.objects.create(
                    name=row.name, slug=row.slug, region=region, postcodes=row.postcodes, shape=row.shape
                )
            elif change.action == "update":
                area = areas[row.slug]
                area.name, area.region, area.postcodes = row.name, region, row.postcodes
                if row.shape is not None:
                    area.shape = row.shape
                area.save()
            if area is not None:
                for slug, count in row.customers.items():
                    CustomersServed.objects.update_or_create(
                        area=area, service=services[slug], defaults={"customers": count}
                    )
            if progress is not None:
                progress(done, total)
        if result.changes or result.new_regions:
            # The public pages list areas: on commit, cached pages render afresh.
            events.public_data_changed()
    return result
