"""Distances on the Earth and travel times, vectorised with numpy.

Distance is the haversine great-circle distance on a sphere of the mean Earth radius;
travel time multiplies it by a road *circuity factor* (roads are longer than the straight
line: factors of about 1.2 to 1.4 were measured across countries by Ballou, Rahardja and
Sakai, "Selected country circuity factors for road travel distance estimation",
Transportation Research Part A 36(9), 2002) and divides by a speed.

>>> round(float(haversine_m(31.2304, 121.4737, 31.2304, 121.4837)))
951
>>> travel_s(1000.0, speed_kmh=15.0, road_factor=1.3)
312.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG)."""

FloatArray = npt.NDArray[np.float64]


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    """Great-circle distance in metres between points given in degrees (scalars or arrays,
    broadcast together)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def travel_s(distance_m: Any, *, speed_kmh: float, road_factor: float) -> Any:
    """Seconds to cover a straight-line ``distance_m`` by road (scalar or array)."""
    return distance_m * road_factor / (speed_kmh / 3.6)
