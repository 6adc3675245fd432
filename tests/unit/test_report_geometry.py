"""Pure geometry of reports: polygons, boxes, distances, coordinates."""

from __future__ import annotations

import math

import pytest

from domain.errors import Collector, DomainValidationError
from domain.reports.rules import box_around, check_point, haversine_m, parse_bbox, point_in_polygon, validate_polygon

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}
# a concave "L" shape
ELL = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4], [0, 0]]]}


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [(1, 1, True), (5, 5, False), (9.9, 9.9, True), (11, 5, False), (-1, 5, False), (5, 3, True)],
)
def test_point_in_polygon_with_hole(lat, lon, inside):
    assert point_in_polygon(lat, lon, SQUARE_WITH_HOLE) is inside


def test_point_in_concave_polygon():
    assert point_in_polygon(0.5, 3, ELL)  # in the foot
    assert point_in_polygon(3, 0.5, ELL)  # in the stem
    assert not point_in_polygon(3, 3, ELL)  # in the notch


def test_haversine_known_distance_paris_lyon():
    d = haversine_m(48.8566, 2.3522, 45.7640, 4.8357)
    assert 391_000 < d < 393_000


def test_box_around_contains_the_circle():
    box = box_around(48.85, 2.35, 50)
    north = haversine_m(48.85, 2.35, box.max_lat, 2.35)
    east = haversine_m(48.85, 2.35, 48.85, box.max_lon)
    assert math.isclose(north, 50, rel_tol=1e-3) and math.isclose(east, 50, rel_tol=1e-3)


@pytest.mark.parametrize("polygon", [None, {}, {"type": "Point", "coordinates": [1, 2]},
                                     {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
                                     {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
                                     {"type": "Polygon", "coordinates": [[[0, 0], [1, "a"], [1, 1], [0, 0]]]},
                                     {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}])
def test_invalid_polygons(polygon):
    with pytest.raises(DomainValidationError) as exc:
        validate_polygon(polygon)
    assert exc.value.errors[0].code == "INVALID_POLYGON"


@pytest.mark.parametrize(("lat", "lon", "fields"), [
    (True, 2, [("latitude",)]), ("48", 2, [("latitude",)]), (float("nan"), 2, [("latitude",)]),
    (48, float("inf"), [("longitude",)]), (-91, 181, [("latitude",), ("longitude",)]),
])
def test_bad_coordinates(lat, lon, fields):
    errors = Collector()
    assert check_point(lat, lon, errors) is None
    assert [e.field for e in errors.errors] == fields


@pytest.mark.parametrize(("box", "code"), [
    ("1,2,3", "INVALID_BBOX"), ("a,b,c,d", "INVALID_BBOX"), ([3, 2, 1, 4], "INVALID_BBOX"), ([0, 0, 5, 1], "BBOX_TOO_LARGE"),
])
def test_bad_bbox(box, code):
    with pytest.raises(DomainValidationError) as exc:
        parse_bbox(box)
    assert exc.value.errors[0].code == code


def test_bbox_text_and_list():
    assert parse_bbox("2.25,48.81,2.42,48.9") == parse_bbox([2.25, 48.81, 2.42, 48.9])
