"""Pure rules of opening hours and slots (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from domain.appointments import rules
from domain.appointments.rules import DayException, Schedule, WeeklyRange
from domain.errors import Collector

WEEKDAYS = range(1, 6)


def schedule(**kw) -> Schedule:
    weekly = [WeeklyRange(d, time(9), time(12)) for d in WEEKDAYS] + [WeeklyRange(d, time(13, 30), time(17)) for d in WEEKDAYS]
    return Schedule(timezone="Europe/Paris", slot_minutes=30, weekly=tuple(weekly + list(kw.pop("extra", []))), **kw)


def local_times(slots, tz="Europe/Paris"):
    from zoneinfo import ZoneInfo

    return [s.starts_at.astimezone(ZoneInfo(tz)).strftime("%H:%M") for s in slots]


def test_several_ranges_a_day_and_weekends_closed():
    s = schedule()
    monday = date(2027, 3, 8)
    assert local_times(rules.day_slots(s, monday, 30)) == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30",
    ]
    assert rules.day_slots(s, date(2027, 3, 13), 30) == []  # Saturday


def test_summer_hours_replace_the_normal_week_during_their_period():
    summer = [WeeklyRange(d, time(8), time(12), date(2027, 7, 1), date(2027, 8, 31)) for d in WEEKDAYS]
    s = schedule(extra=summer)
    assert rules.opening_ranges(s, date(2027, 7, 5)) == [(480, 720)]  # Monday in July: mornings only
    assert rules.opening_ranges(s, date(2027, 9, 6)) == [(540, 720), (810, 1020)]


def test_public_holidays_are_closed_unless_the_agenda_opens_them():
    s = schedule()
    may_day = date(2028, 5, 1)  # a Monday
    assert rules.public_holiday(may_day)
    assert rules.day_slots(s, may_day, 30) == []
    start = datetime(2028, 5, 1, 7, 0, tzinfo=UTC)  # 09:00 in Paris
    assert rules.explain_slot(s, start, 30) == "HOLIDAY"
    opened = Schedule(s.timezone, s.slot_minutes, s.weekly, (), open_on_public_holidays=True)
    assert rules.explain_slot(opened, start, 30).starts_at == start


def test_closures_and_extra_openings():
    day = date(2027, 3, 9)
    s = schedule(exceptions=(DayException("CLOSURE", day, time(10), time(16)), DayException("EXTRA_OPENING", day, time(17), time(18))))
    assert rules.opening_ranges(s, day) == [(540, 600), (960, 1080)]
    whole = schedule(exceptions=(DayException("CLOSURE", day),))
    assert rules.opening_ranges(whole, day) == []


def test_daylight_saving_keeps_wall_clock_times():
    s = schedule()
    before, after = date(2027, 3, 26), date(2027, 3, 30)  # Friday, Tuesday around 28 March 2027 (29th is Easter Monday)
    first_before = rules.day_slots(s, before, 30)[0].starts_at
    first_after = rules.day_slots(s, after, 30)[0].starts_at
    assert (first_before.hour, first_after.hour) == (8, 7)  # 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z
    assert local_times([rules.day_slots(s, after, 30)[0]]) == ["09:00"]


def test_a_time_skipped_by_the_spring_change_is_not_a_slot():
    night = Schedule("Europe/Paris", 30, tuple(WeeklyRange(7, time(1), time(4)) for _ in range(1)))
    slots = local_times(rules.day_slots(night, date(2027, 3, 28), 30))
    assert "02:00" not in slots and "02:30" not in slots and "01:30" not in slots  # 01:30-02:00 ends in the gap
    assert slots == ["01:00", "03:00", "03:30"]


def test_answers_against_a_json_schema():
    questions = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"], "additionalProperties": False}
    assert rules.answer_errors(questions, {"n": 2}) == []
    codes = {(e.field, e.code) for e in rules.answer_errors(questions, {"n": 0, "x": 1})}
    assert codes == {(("answers", "n"), "INVALID_ANSWER"), (("answers", "x"), "UNEXPECTED_ANSWERS")}
    assert [(e.field, e.code) for e in rules.answer_errors(questions, {})] == [(("answers", "n"), "REQUIRED")]
    assert [e.code for e in rules.answer_errors(None, {"a": 1})] == ["UNEXPECTED_ANSWERS"]
    errors = Collector()
    rules.check_questions({"type": "object", "properties": {"n": {"type": "nonsense"}}}, errors)
    rules.check_questions({"type": "string"}, errors)
    assert [e.code for e in errors.errors] == ["INVALID_QUESTIONS", "INVALID_QUESTIONS"]


def test_codes_use_an_unambiguous_alphabet():
    codes = {rules.new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and not set(c) & set("01OIL") for c in codes)
    assert rules.normalise_code(" abcd-efgh ") == "ABCDEFGH"


def test_reminders_48h_and_2h_before_only_when_still_ahead():
    start = datetime(2027, 1, 10, 9, tzinfo=UTC)
    assert [r["kind"] for r in rules.reminders(start, datetime(2027, 1, 1, tzinfo=UTC))] == ["48H", "2H"]
    assert [r["kind"] for r in rules.reminders(start, datetime(2027, 1, 9, 12, tzinfo=UTC))] == ["2H"]
