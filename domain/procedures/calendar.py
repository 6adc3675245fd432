"""Business days of a tenant: weekends and French public holidays excluded, in the tenant's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year).keys())


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def due_at(submitted_at: datetime, days: int, timezone: str) -> datetime:
    """End of the due business day, local time of the tenant, as an aware datetime.

    A request submitted on a Friday evening in Paris with a 2-day SLA is due on
    Tuesday 23:59:59.999999 Paris time, whatever the daylight-saving offset.
    """
    tz = ZoneInfo(timezone)
    local_day = submitted_at.astimezone(tz).date()
    due_day = add_business_days(local_day, days)
    return datetime.combine(due_day, time.max, tzinfo=tz)
