"""Areas in bulk: `manage.py import_areas` and the admin import share one importer."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from outages.models import Region, ServiceArea
from outages.services import area_import
from tests import factories

pytestmark = pytest.mark.django_db

SQUARE = [[19.0, 47.0], [19.1, 47.0], [19.1, 47.1], [19.0, 47.1], [19.0, 47.0]]
HOLE = [[19.04, 47.04], [19.06, 47.04], [19.06, 47.06], [19.04, 47.06], [19.04, 47.04]]
FAR = [[20.0, 47.0], [20.1, 47.0], [20.05, 47.1], [20.0, 47.0]]


def feature(slug="riverside", name="Riverside", region="North", postcodes=("1051", "1052"), geometry=None):
    return {
        "type": "Feature",
        "properties": {
            "name": name,
            "slug": slug,
            "region": region,
            "postcodes": postcodes if isinstance(postcodes, str) else list(postcodes),
        },
        "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": [SQUARE]},
    }


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def run_command(tmp_path, content: bytes, name="areas.geojson", *args):
    path = tmp_path / name
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_areas", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_geojson_import_creates_areas_with_shapes_holes_multipolygons_and_regions(tmp_path):
    factories.region("North", slug="north")
    content = geojson(
        feature("ring", "Ring town", geometry={"type": "Polygon", "coordinates": [SQUARE, HOLE]}),
        feature(
            "islands",
            "Islands",
            region="Lakeside",
            postcodes="2000; 2001",
            geometry={"type": "MultiPolygon", "coordinates": [[SQUARE], [FAR]]},
        ),
    )
    out, err = run_command(tmp_path, content)
    assert "2 created, 0 updated, 0 unchanged, 0 invalid rows" in out
    assert "Created regions: Lakeside" in out
    assert err == ""
    ring = ServiceArea.objects.get(slug="ring")
    assert ring.region.slug == "north"
    assert ring.shape["coordinates"][1] == HOLE
    assert ring.postcode_list == ["1051", "1052"]
    islands = ServiceArea.objects.get(slug="islands")
    assert islands.region == Region.objects.get(slug="lakeside")
    assert islands.postcode_list == ["2000", "2001"]
    assert (islands.bbox_west, islands.bbox_east) == (19.0, 20.1)


def test_csv_import_creates_and_updates_areas_and_keeps_their_shapes(tmp_path):
    north = factories.region("North", slug="north")
    kept = factories.area("Old name", slug="kept", region_obj=north, shape={"type": "Polygon", "coordinates": [SQUARE]})
    content = b'name,slug,region,postcodes\nNew name,kept,north,"1051, 1052"\nHillside,hillside,North,2000\n'
    out, _ = run_command(tmp_path, content, "areas.csv")
    assert "1 created, 1 updated, 0 unchanged" in out
    kept.refresh_from_db()
    assert kept.name == "New name" and kept.postcode_list == ["1051", "1052"]
    assert kept.shape == {"type": "Polygon", "coordinates": [SQUARE]}
    assert ServiceArea.objects.get(slug="hillside").region == north


def test_semicolon_csv_with_a_byte_order_mark_is_read(tmp_path):
    content = "\ufeffName;Slug;Region;Postcodes\nHillside;hillside;North;2000,2001\n".encode()
    out, _ = run_command(tmp_path, content, "areas.csv")
    assert "1 created" in out
    assert ServiceArea.objects.get(slug="hillside").postcode_list == ["2000", "2001"]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    content = geojson(feature("a", "A"), feature("b", "B", geometry={"type": "Polygon", "coordinates": [SQUARE, HOLE]}))
    run_command(tmp_path, content)
    stamps = dict(ServiceArea.objects.values_list("slug", "updated_at"))
    out, _ = run_command(tmp_path, content)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert dict(ServiceArea.objects.values_list("slug", "updated_at")) == stamps
    assert ServiceArea.objects.count() == 2 and Region.objects.count() == 1


BAD_FEATURES = [
    (feature(name=""), "name is missing"),
    (feature(slug="no spaces allowed"), "slug “no spaces allowed” may contain only"),
    (feature(region=""), "region is missing"),
    (feature(region="!!!"), "needs at least one letter or digit"),
    (feature(postcodes=["1051", "--"]), "postcode “--” has no letters or digits"),
    (feature(geometry={"type": "Point", "coordinates": [19, 47]}), "shape: geometry type Point is not supported"),
    (feature(geometry={"type": "Polygon", "coordinates": [SQUARE[:-1]]}), "shape: outer ring is not closed"),
    (feature(geometry={"type": "Polygon", "coordinates": [[[47, 19], [47, 190], [48, 19], [47, 19]]]}), "out of range"),
    (
        feature(geometry={"type": "Polygon", "coordinates": [SQUARE, [[25, 25], [26, 25], [26, 26], [25, 25]]]}),
        "hole 1 is not inside",
    ),
    ({**feature(), "geometry": None}, "shape: the geometry is missing"),
    ({"type": "Feature", "geometry": None}, "no properties"),
    ("not a feature", "not a GeoJSON Feature"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_FEATURES)
def test_each_kind_of_bad_feature_is_reported_by_number_and_nothing_is_imported(tmp_path, bad, reason):
    content = geojson(feature("good", "Good"), bad)
    with pytest.raises(CommandError, match="1 invalid rows; nothing was imported"):
        run_command(tmp_path, content)
    assert not ServiceArea.objects.exists()
    plan = area_import.plan(content, "areas.geojson")
    assert [str(error) for error in plan.errors] == [f"feature 2: {reason}"] or (
        len(plan.errors) == 1 and plan.errors[0].number == 2 and reason in plan.errors[0].reason
    )


def test_bad_rows_are_written_to_stderr_with_their_line_numbers(tmp_path):
    content = (
        b"name,slug,region,postcodes\n"
        b"Good,good,North,1000\n"
        b",nameless,North,1001\n"
        b"Dup,good,North,1002\n"
        b"Too,many,cells,here,extra\n"
    )
    path = tmp_path / "areas.csv"
    path.write_bytes(content)
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 invalid rows"):
        call_command("import_areas", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines == [
        "areas.csv, line 3: name is missing",
        "areas.csv, line 4: slug “good” is already used by line 2",
        "areas.csv, line 5: 5 cells but the header has 4 columns",
    ]
    assert not ServiceArea.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(tmp_path):
    content = geojson(feature("good", "Good"), feature("bad slug"), feature("also-good", "Also good"))
    out, err = run_command(tmp_path, content, "areas.geojson", "--skip-invalid")
    assert "2 created, 0 updated, 0 unchanged, 1 invalid rows (1 invalid rows skipped)" in out
    assert "feature 2: slug" in err
    assert set(ServiceArea.objects.values_list("slug", flat=True)) == {"good", "also-good"}


def test_dry_run_writes_nothing(tmp_path):
    out, _ = run_command(tmp_path, geojson(feature()), "areas.geojson", "--dry-run")
    assert "Dry run, nothing written: 1 created" in out
    assert not ServiceArea.objects.exists() and not Region.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"{not json", "a.geojson", "not valid JSON"),
        (b'{"type": "Feature"}', "a.geojson", "must be a FeatureCollection"),
        (b"name,region\nA,B\n", "a.csv", "missing: slug"),
        (b"", "a.csv", "the file is empty"),
        (b"name,slug,region\n\xff\xfe,x,y\n", "a.csv", "not UTF-8"),
    ],
)
def test_an_unreadable_file_is_refused_with_one_clear_error(tmp_path, content, name, message):
    with pytest.raises(CommandError, match=message):
        run_command(tmp_path, content, name)
    assert not ServiceArea.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_areas", str(tmp_path / "nope.geojson"))


def test_the_demo_shapes_import_cleanly():
    from outages.management.commands.seed_demo import DEMO_SHAPES

    plan = area_import.plan(DEMO_SHAPES.read_bytes(), DEMO_SHAPES.name)
    assert plan.errors == [] and plan.created == 31


# The admin: upload, preview, confirm ------------------------------------------


@pytest.fixture
def ops(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def _upload(client, content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/admin/outages/servicearea/import/", {"file": SimpleUploadedFile(name, content)})


def test_admin_import_previews_the_changes_and_applies_them_only_on_confirm(ops):
    factories.area("Old name", slug="riverside", region_obj=factories.region("North", slug="north"))
    assert "Import areas" in ops.get("/admin/outages/servicearea/").text
    content = geojson(feature("riverside", "Riverside"), feature("hillside", "Hillside"))
    preview = _upload(ops, content, "areas.geojson")
    assert preview.status_code == 200
    text = preview.text
    assert "1 created, 1 updated, 0 unchanged, 0 invalid rows" in text
    assert "new area" in text and "update: name, postcodes, shape" in text
    assert ServiceArea.objects.get(slug="riverside").name == "Old name"  # nothing written yet
    token = preview.context["token"]
    done = ops.post("/admin/outages/servicearea/import/", {"token": token})
    assert done.status_code == 302 and done["Location"] == "/admin/outages/servicearea/"
    assert ServiceArea.objects.get(slug="riverside").name == "Riverside"
    assert ServiceArea.objects.get(slug="hillside").shape is not None
    assert "Imported areas.geojson: 1 created, 1 updated" in ops.get(done["Location"]).text
    # The token is used up: a second confirm does nothing.
    again = ops.post("/admin/outages/servicearea/import/", {"token": token}, follow=True)
    assert "expired" in again.text


def test_admin_import_shows_bad_rows_and_imports_nothing_unless_told_to_skip_them(ops):
    content = b"name,slug,region,postcodes\nGood,good,North,1000\n,bad,North,1001\n"
    preview = _upload(ops, content, "areas.csv")
    assert "line 3: name is missing" in preview.text
    token = preview.context["token"]
    refused = ops.post("/admin/outages/servicearea/import/", {"token": token})
    assert refused.status_code == 200 and "Nothing was imported" in refused.text
    assert not ServiceArea.objects.exists()
    done = ops.post("/admin/outages/servicearea/import/", {"token": token, "skip_invalid": "1"})
    assert done.status_code == 302
    assert list(ServiceArea.objects.values_list("slug", flat=True)) == ["good"]


def test_admin_import_refuses_an_unreadable_file_with_a_clear_message(ops):
    response = _upload(ops, b"{broken", "areas.geojson")
    assert response.status_code == 200 and "not valid JSON" in response.text


def test_admin_import_needs_permission(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    assert client.get("/admin/outages/servicearea/import/").status_code == 403
