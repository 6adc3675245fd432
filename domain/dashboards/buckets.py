"""Fixed logarithmic duration buckets for approximate percentiles from additive rollups.

Bucket 0 holds durations under 60 s; bucket ``b >= 1`` holds ``[60·r^(b-1), 60·r^b)``
seconds with ``r = 1.15``; the last bucket is open-ended (over ~3 years). A
percentile is interpolated linearly inside its bucket, so its error is below the
bucket's width: at most 15 % of the value (in practice a few %).
"""

from __future__ import annotations

import math
from typing import Iterable

BASE_SECONDS = 60
RATIO = 1.15
BUCKETS = 120  # 60·1.15^119 ≈ 9.6e8 s (30 years): the last one catches everything longer


def bucket_of(seconds: float) -> int:
    if seconds < BASE_SECONDS:
        return 0
    return min(BUCKETS - 1, int(math.floor(math.log(seconds / BASE_SECONDS) / math.log(RATIO))) + 1)


def bounds(bucket: int) -> tuple[float, float]:
    if bucket <= 0:
        return 0.0, float(BASE_SECONDS)
    return BASE_SECONDS * RATIO ** (bucket - 1), BASE_SECONDS * RATIO**bucket


def percentile(counts: dict[int, int] | Iterable[tuple[int, int]], fraction: float) -> float | None:
    """The ``fraction`` quantile (0..1) of a histogram {bucket: count}, interpolated in its bucket."""
    items = sorted((counts.items() if isinstance(counts, dict) else counts))
    total = sum(c for _, c in items)
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for bucket, count in items:
        if count and seen + count >= rank:
            low, high = bounds(bucket)
            return low + (high - low) * ((rank - seen) / count)
        seen += count
    low, high = bounds(items[-1][0])
    return high
