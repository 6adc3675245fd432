"""Pure rules of the appointments context (no I/O): opening hours, slots, answers, codes.

Opening hours are local wall-clock times in the tenant's time zone; every
slot is computed from them day by day and only then converted to UTC, so a
09:00 slot stays at 09:00 local time on both sides of a daylight-saving change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import holidays
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from domain.errors import Collector, FieldError

MAX_AVAILABILITY_DAYS = 62
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
REMINDER_OFFSETS = (("48H", timedelta(hours=48)), ("2H", timedelta(hours=2)))


@dataclass(frozen=True)
class WeeklyRange:
    weekday: int  # ISO: 1 = Monday
    start: time
    end: time
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def dated(self) -> bool:
        return self.valid_from is not None or self.valid_to is not None

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class DayException:
    kind: str  # CLOSURE | EXTRA_OPENING
    on_date: date
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Schedule:
    timezone: str
    slot_minutes: int
    weekly: tuple[WeeklyRange, ...] = ()
    exceptions: tuple[DayException, ...] = ()
    open_on_public_holidays: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class CandidateSlot:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    units: tuple[datetime, ...] = field(default=())  # UTC start of every slot unit covered


@lru_cache(maxsize=64)
def _france(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def public_holiday(day: date) -> str | None:
    """The name of the French public holiday on ``day``, or ``None``."""
    return _france(day.year).get(day)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _subtract(ranges: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for start, end in ranges:
        if cut[1] <= start or end <= cut[0]:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def weekly_ranges(schedule: Schedule, day: date) -> list[tuple[int, int]]:
    """The weekly ranges in force on ``day`` (minutes of the local day).

    Rules with a validity period (summer hours, ...) replace the undated rules
    on every day of their period.
    """
    dated = [r for r in schedule.weekly if r.dated and r.covers(day)]
    pool = dated or [r for r in schedule.weekly if not r.dated]
    return _merge((_minutes(r.start), _minutes(r.end)) for r in pool if r.weekday == day.isoweekday())


def opening_ranges(schedule: Schedule, day: date) -> list[tuple[int, int]]:
    """Open ranges of a local date after holidays, extra openings and closures."""
    ranges = weekly_ranges(schedule, day)
    if not schedule.open_on_public_holidays and public_holiday(day):
        ranges = []
    todays = [e for e in schedule.exceptions if e.on_date == day]
    for e in todays:
        if e.kind == "EXTRA_OPENING" and e.start and e.end:
            ranges.append((_minutes(e.start), _minutes(e.end)))
    ranges = _merge(ranges)
    for e in todays:
        if e.kind == "CLOSURE":
            cut = (0, 24 * 60) if e.start is None or e.end is None else (_minutes(e.start), _minutes(e.end))
            ranges = _subtract(ranges, cut)
    return ranges


def to_utc(day: date, minutes: int, tz: ZoneInfo) -> datetime | None:
    """Local wall-clock time -> UTC; ``None`` for a time skipped by a DST change."""
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    aware = local.replace(tzinfo=tz)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:
        return None  # does not exist (spring forward gap)
    return utc


def day_slots(schedule: Schedule, day: date, duration_minutes: int) -> list[CandidateSlot]:
    """Every slot of ``duration_minutes`` that fits in one opening range, on the agenda grid."""
    tz = schedule.tz
    step = schedule.slot_minutes
    out = []
    for start, end in opening_ranges(schedule, day):
        # one conversion per grid point of the range (a slot reuses its neighbours')
        utc_at = {m: to_utc(day, m, tz) for m in range(start, end + 1, step)}
        utc_at.setdefault(end, to_utc(day, end, tz))
        s = start
        while s + duration_minutes <= end:
            units = tuple(utc_at[m] for m in range(s, s + duration_minutes, step))
            stop = utc_at.get(s + duration_minutes) or to_utc(day, s + duration_minutes, tz)
            if stop is not None and all(u is not None for u in units):
                out.append(CandidateSlot(units[0], stop, units))  # type: ignore[arg-type]
            s += step
    return out


def local_dates(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def slots_between(schedule: Schedule, start: datetime, end: datetime, duration_minutes: int) -> list[CandidateSlot]:
    """Candidate slots starting in ``[start, end)`` (UTC)."""
    out = []
    for day in local_dates(start, end, schedule.tz):
        out.extend(s for s in day_slots(schedule, day, duration_minutes) if start <= s.starts_at < end)
    return out


def explain_slot(schedule: Schedule, starts_at: datetime, duration_minutes: int) -> CandidateSlot | str:
    """The slot starting at ``starts_at`` or the error code saying why there is none."""
    day = starts_at.astimezone(schedule.tz).date()
    for slot in day_slots(schedule, day, duration_minutes):
        if slot.starts_at == starts_at:
            return slot
    local = starts_at.astimezone(schedule.tz)
    minute = local.hour * 60 + local.minute
    if not schedule.open_on_public_holidays and public_holiday(day):
        if any(a <= minute < b for a, b in weekly_ranges(schedule, day)):
            return "HOLIDAY"
    for a, b in opening_ranges(schedule, day):
        if a <= minute < b:
            # on the grid but running past closing time, or off the grid
            return "OUTSIDE_OPENING_HOURS" if (minute - a) % schedule.slot_minutes == 0 else "SLOT_NOT_ALIGNED"
    return "OUTSIDE_OPENING_HOURS"


def timing_error(
    starts_at: datetime, now: datetime, min_notice_minutes: int, horizon_days: int, tz: ZoneInfo
) -> str | None:
    if starts_at <= now:
        return "IN_THE_PAST"
    if starts_at < now + timedelta(minutes=min_notice_minutes):
        return "TOO_LATE_NOTICE"
    if starts_at.astimezone(tz).date() > horizon_end(now, horizon_days, tz):
        return "BEYOND_HORIZON"
    return None


def horizon_end(now: datetime, horizon_days: int, tz: ZoneInfo) -> date:
    """The last local date that can be booked."""
    return now.astimezone(tz).date() + timedelta(days=horizon_days)


def reminders(starts_at: datetime, now: datetime) -> list[dict[str, str]]:
    """Reminder due times still in the future (48 h and 2 h before)."""
    out = []
    for kind, offset in REMINDER_OFFSETS:
        due = starts_at - offset
        if due > now:
            out.append({"kind": kind, "due_at": due.astimezone(UTC).isoformat()})
    return out


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


# ---------------------------------------------------------------- questions / answers


def check_questions(questions: Any, errors: Collector, path: tuple[str, ...] = ("questions",)) -> None:
    """The questions of a type: a JSON Schema (draft 2020-12) describing an object."""
    if questions is None:
        return
    if not isinstance(questions, dict) or questions.get("type") != "object":
        errors.add(path, "INVALID_QUESTIONS")
        return
    try:
        Draft202012Validator.check_schema(questions)
    except SchemaError:
        errors.add(path, "INVALID_QUESTIONS")


def answer_errors(questions: dict[str, Any] | None, answers: Any) -> list[FieldError]:
    """One field error per problem, with the path of the answer (``answers.<key>``)."""
    if answers is None:
        answers = {}
    if not questions:
        return [] if not answers else [FieldError(("answers",), "UNEXPECTED_ANSWERS")]
    out: list[FieldError] = []
    for err in sorted(Draft202012Validator(questions).iter_errors(answers), key=lambda e: list(map(str, e.path))):
        base = ("answers", *map(str, err.path))
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    out.append(FieldError((*base, name), "REQUIRED"))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema or {}).get("properties", {}))
            for name in err.instance:
                if name not in allowed:
                    out.append(FieldError((*base, name), "UNEXPECTED_ANSWERS"))
        else:
            out.append(FieldError(base, "INVALID_ANSWER", {"detail": err.validator}))
    return out


def check_time_range(start: time | None, end: time | None, errors: Collector, field: tuple[str, ...]) -> None:
    if start is None or end is None:
        errors.add(field, "REQUIRED")
    elif start >= end:
        errors.add(field, "INVALID_TIME_RANGE")
