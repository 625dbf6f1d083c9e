"""Point-in-polygon, validation and simplification of area shapes."""

import pytest

from outages import geo
from outages.queries import current
from tests import factories

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
HOLE = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
WITH_HOLE = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [[SQUARE], [[[20, 0], [30, 0], [25, 8], [20, 0]]]],
}


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((5, 1), 1),  # inside, away from the hole
        ((15, 5), -1),  # outside
        ((10, 5), 0),  # on an outer edge
        ((0, 0), 0),  # on a vertex
        ((3, 10), 0),  # on the top edge
        ((5, 5), -1),  # inside the hole: not in the area
        ((4, 5), 0),  # on the hole's edge: the area's boundary
        ((6, 6), 0),  # on the hole's corner
        ((-0.000001, 5), -1),  # just outside
    ],
)
def test_point_in_polygon_counts_boundaries_in_and_holes_out(point, expected):
    assert geo.locate_point(WITH_HOLE, *point) == expected
    assert geo.contains(WITH_HOLE, *point) == (expected >= 0)


def test_point_in_multipolygon_finds_every_part():
    assert geo.contains(ISLANDS, 25, 4)
    assert geo.contains(ISLANDS, 2, 2)
    assert not geo.contains(ISLANDS, 15, 4)
    assert geo.locate_point(ISLANDS, 22.5, 4) == 0  # on the triangle's sloping edge


def test_ray_through_a_vertex_is_counted_once():
    diamond = {"type": "Polygon", "coordinates": [[[5, 0], [10, 5], [5, 10], [0, 5], [5, 0]]]}
    # The horizontal ray from these points passes exactly through the vertex (10, 5).
    assert geo.contains(diamond, 5, 5)
    assert not geo.contains(diamond, -1, 5)
    assert not geo.contains(diamond, 11, 5)


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        (None, "missing"),
        ({"type": "Point", "coordinates": [1, 2]}, "Point is not supported"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "fewer than 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}, "no area"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}, "out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]}, "not [longitude, latitude]"),
        (
            {"type": "Polygon", "coordinates": [SQUARE, [[20, 20], [21, 20], [21, 21], [20, 20]]]},
            "hole 1 is not inside",
        ),
        ({"type": "MultiPolygon", "coordinates": []}, "non-empty list"),
        ({"type": "MultiPolygon", "coordinates": [[SQUARE], [[[0, 0], [1, 0]]]]}, "polygon 2, outer ring has fewer"),
    ],
)
def test_unusable_geometry_is_refused_with_a_reason(geometry, reason):
    with pytest.raises(geo.GeometryError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        geo.validate(geometry)


def test_valid_geometry_comes_back_clean_with_holes_and_parts():
    assert geo.validate(WITH_HOLE) == WITH_HOLE
    assert geo.validate(ISLANDS)["coordinates"][1] == ISLANDS["coordinates"][1]
    assert geo.bbox(ISLANDS) == (0, 0, 30, 10)


def test_simplification_drops_points_that_do_not_show_and_keeps_the_ring_closed():
    # A square whose edges carry many nearly collinear points.
    ring = [[x / 100, 0.000001 * (x % 2)] for x in range(1001)] + [[10, 10], [0, 10], [0, 0]]
    shape = {"type": "Polygon", "coordinates": [ring, HOLE]}
    simple = geo.simplify(shape, tolerance=0.001)
    outer = simple["coordinates"][0]
    assert len(outer) < 10
    assert outer[0] == outer[-1]
    assert simple["coordinates"][1] == HOLE  # a hole large enough to matter stays
    assert geo.contains(simple, 5, 1) and not geo.contains(simple, 5, 5)


def test_simplification_never_collapses_an_outer_ring():
    tiny = {"type": "Polygon", "coordinates": [[[0, 0], [0.00001, 0], [0.00001, 0.00001], [0, 0]]]}
    assert len(geo.simplify(tiny)["coordinates"][0]) == 4


@pytest.mark.django_db
def test_find_area_uses_the_shapes_with_holes_and_prefers_strictly_inside():
    outer = factories.area("Ring town", shape=WITH_HOLE)
    inner = factories.area("Hole town", shape={"type": "Polygon", "coordinates": [HOLE]})
    neighbour = factories.area(
        "East town", shape={"type": "Polygon", "coordinates": [[[10, 0], [20, 0], [20, 10], [10, 10], [10, 0]]]}
    )
    assert current.find_area(1, 1) == outer
    assert current.find_area(5, 5) == inner
    assert current.find_area(15, 5) == neighbour
    assert current.find_area(10, 5) in {outer, neighbour}  # on the shared edge: one of the two, never none
    assert current.find_area(4.0, 5) == inner  # on the hole's edge: both touch it; the smaller wins
    assert current.find_area(50, 50) is None
    assert (outer.bbox_west, outer.bbox_south, outer.bbox_east, outer.bbox_north) == (0, 0, 10, 10)
