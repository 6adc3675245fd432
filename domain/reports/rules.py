"""Pure geometry of reports: coordinates, bounding boxes, territory polygons, distances.

Point-in-polygon is a ray-casting test written here rather than ``shapely``: the
only need is "is this point inside one polygon (with optional holes)", and
shapely would bring GEOS and numpy (tens of MB of binaries) for ten lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from domain.errors import Collector, DomainValidationError

EARTH_RADIUS_M = 6_371_008.8
MAX_BBOX_DEGREES = 2.0  # a map view larger than this (about 200 km) is refused


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def check_point(latitude: Any, longitude: Any, errors: Collector, prefix: tuple[str, ...] = ()) -> tuple[float, float] | None:
    lat, lon = _number(latitude), _number(longitude)
    if lat is None or not -90 <= lat <= 90:
        errors.add(prefix + ("latitude",), "INVALID_COORDINATE", min=-90, max=90)
    if lon is None or not -180 <= lon <= 180:
        errors.add(prefix + ("longitude",), "INVALID_COORDINATE", min=-180, max=180)
    if lat is None or lon is None or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        return None
    return lat, lon


def parse_bbox(values: Any, field: tuple[str, ...] = ("bounding_box",)) -> BBox:
    """[minLon, minLat, maxLon, maxLat] (GeoJSON order), also as "a,b,c,d" text."""
    if isinstance(values, str):
        try:
            values = [float(v) for v in values.split(",")]
        except ValueError:
            raise DomainValidationError.single(field, "INVALID_BBOX") from None
    if not isinstance(values, (list, tuple)) or len(values) != 4:
        raise DomainValidationError.single(field, "INVALID_BBOX")
    nums = [_number(v) for v in values]
    if any(n is None for n in nums):
        raise DomainValidationError.single(field, "INVALID_BBOX")
    box = BBox(*nums)  # type: ignore[arg-type]
    if not (-180 <= box.min_lon < box.max_lon <= 180 and -90 <= box.min_lat < box.max_lat <= 90):
        raise DomainValidationError.single(field, "INVALID_BBOX")
    if box.max_lon - box.min_lon > MAX_BBOX_DEGREES or box.max_lat - box.min_lat > MAX_BBOX_DEGREES:
        raise DomainValidationError.single(field, "BBOX_TOO_LARGE", max=MAX_BBOX_DEGREES)
    return box


def box_around(lat: float, lon: float, radius_m: float) -> BBox:
    """The smallest lat/lon box containing the circle (prefilter for an index range scan)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * coslat)))
    return BBox(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _ring_ok(ring: Any) -> bool:
    if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
        return False
    for pos in ring:
        if not isinstance(pos, list) or len(pos) < 2:
            return False
        lon, lat = _number(pos[0]), _number(pos[1])
        if lon is None or lat is None or not -180 <= lon <= 180 or not -90 <= lat <= 90:
            return False
    return True


def validate_polygon(polygon: Any, field: tuple[str, ...] = ("territory",)) -> dict[str, Any]:
    """A GeoJSON Polygon: closed rings of at least 4 [lon, lat] positions (first = exterior)."""
    if (
        not isinstance(polygon, dict)
        or polygon.get("type") != "Polygon"
        or not isinstance(polygon.get("coordinates"), list)
        or not polygon["coordinates"]
        or not all(_ring_ok(r) for r in polygon["coordinates"])
    ):
        raise DomainValidationError.single(field, "INVALID_POLYGON")
    return {"type": "Polygon", "coordinates": polygon["coordinates"]}


def _in_ring(lon: float, lat: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygon(lat: float, lon: float, polygon: dict[str, Any]) -> bool:
    """Ray casting: inside the exterior ring and outside every hole."""
    rings = polygon["coordinates"]
    return _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
