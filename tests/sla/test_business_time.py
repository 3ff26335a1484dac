"""The business-time module against a minute-by-minute brute force over random calendars.

The reference reads the rule of :mod:`supportchat.sla.business_time` literally:
a UTC minute works when its local wall time lies in a working interval of its
local date (or in the part of the day before's interval that crossed
midnight) and that date is no holiday. Zones with DST (and 30- and 45-minute
offsets), split days, intervals crossing midnight, holidays and empty weeks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat.sla.business_time import (
    Calendar,
    NoWorkingTime,
    add_business_time,
    business_time_between,
)

ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
    "America/Sao_Paulo",
]
MINUTE = timedelta(minutes=1)
#: Near DST changes of both hemispheres (March, April, October, November).
STARTS = [datetime(2025, m, d, tzinfo=UTC) for m, d in ((3, 7), (3, 28), (4, 3), (9, 5), (10, 24), (10, 31))]


def minute_works(calendar: Calendar, instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(calendar.time_zone))
    today = local.date()
    minute = local.hour * 60 + local.minute
    if today in calendar.holidays:
        return False
    for start, end in calendar.week[today.weekday()]:
        if (start < end and start <= minute < end) or (end <= start and minute >= start):
            return True
    yesterday = today - timedelta(days=1)
    return any(end <= start and minute < end for start, end in calendar.week[yesterday.weekday()])


def brute_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    minutes, here = 0, start
    while here < end:
        minutes += minute_works(calendar, here)
        here += MINUTE
    return minutes * MINUTE


def brute_add(calendar: Calendar, start: datetime, duration: timedelta, horizon: timedelta) -> datetime | None:
    left, here = duration // MINUTE, start
    if left == 0:
        return start
    while here < start + horizon:
        if minute_works(calendar, here):
            left -= 1
            if left == 0:
                return here + MINUTE
        here += MINUTE
    return None


@st.composite
def intervals(draw: st.DrawFn) -> tuple[int, int]:
    # Quarter hours mostly, any minute sometimes; end <= start crosses midnight.
    step = draw(st.sampled_from([1, 15, 30, 60]))
    start = draw(st.integers(0, 1439 // step)) * step
    end = draw(st.integers(1, 1440 // step)) * step
    if end == start:
        end = (start + step) % 1440 or 1440
    return start, end


@st.composite
def calendars(draw: st.DrawFn, start: datetime) -> Calendar:
    week = tuple(tuple(draw(st.lists(intervals(), max_size=3))) for _ in range(7))
    first = start.date() - timedelta(days=2)
    holidays = frozenset(draw(st.lists(st.integers(0, 14).map(lambda n: first + timedelta(days=n)), max_size=4)))
    return Calendar(draw(st.sampled_from(ZONES)), week, holidays)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Calendar, datetime]:
    start = draw(st.sampled_from(STARTS)) + draw(st.integers(0, 4 * 1440)) * MINUTE
    return draw(calendars(start)), start


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases(), st.integers(0, 5 * 1440))
def test_business_time_between_equals_the_minute_count(case: tuple[Calendar, datetime], length: int) -> None:
    calendar, start = case
    end = start + length * MINUTE
    assert business_time_between(calendar, start, end) == brute_between(calendar, start, end)


@FAST
@given(cases(), st.integers(0, 2000))
def test_adding_business_time_lands_where_the_minute_walk_does(case: tuple[Calendar, datetime], minutes: int) -> None:
    calendar, start = case
    duration = minutes * MINUTE
    horizon = timedelta(days=9)
    expected = brute_add(calendar, start, duration, horizon)
    if not calendar.has_hours and minutes:
        with pytest.raises(NoWorkingTime):
            add_business_time(calendar, start, duration)
        return
    if expected is None:
        return  # beyond the brute force's reach: the round trip below covers the far cases
    assert add_business_time(calendar, start, duration) == expected


@FAST
@given(cases(), st.integers(1, 3000))
def test_adding_then_measuring_gives_the_duration_back(case: tuple[Calendar, datetime], minutes: int) -> None:
    calendar, start = case
    duration = minutes * MINUTE
    try:
        end = add_business_time(calendar, start, duration)
    except NoWorkingTime:
        assert not calendar.has_hours
        return
    assert business_time_between(calendar, start, end) == duration
    # Earliest: a minute less is short of it.
    assert business_time_between(calendar, start, end - MINUTE) == duration - MINUTE


def test_a_calendar_without_hours_never_reaches_a_deadline() -> None:
    empty = Calendar("Europe/Madrid", ((),) * 7)
    start = datetime(2025, 1, 3, tzinfo=UTC)
    with pytest.raises(NoWorkingTime):
        add_business_time(empty, start, MINUTE)
    assert business_time_between(empty, start, start + timedelta(days=30)) == timedelta(0)
    assert add_business_time(empty, start, timedelta(0)) == start


def test_holidays_everywhere_is_never_too() -> None:
    class Always:
        def __contains__(self, day: object) -> bool:
            return isinstance(day, date)

    calendar = Calendar("UTC", (((540, 1080),),) * 7, Always())
    with pytest.raises(NoWorkingTime):
        add_business_time(calendar, datetime(2025, 1, 3, tzinfo=UTC), MINUTE)


def test_friday_evening_carries_over_to_monday_morning() -> None:
    weekdays = ((540, 1080),)
    calendar = Calendar("Europe/Madrid", (weekdays,) * 5 + ((), ()))
    friday = datetime(2025, 3, 7, 17, 50, tzinfo=ZoneInfo("Europe/Madrid"))
    due = add_business_time(calendar, friday, timedelta(minutes=30))
    assert due == datetime(2025, 3, 10, 9, 20, tzinfo=ZoneInfo("Europe/Madrid"))


def test_the_repeated_hour_of_a_dst_end_works_twice() -> None:
    night = Calendar("Europe/Madrid", (((0, 1440),),) * 7)
    # 2025-10-26: 03:00 CEST becomes 02:00 CET; the local day lasts 25 hours.
    start = datetime(2025, 10, 26, tzinfo=ZoneInfo("Europe/Madrid")).astimezone(UTC)  # real hours from here
    assert business_time_between(night, start, start + timedelta(hours=25)) == timedelta(hours=25)
    # A 02:00-03:00 shift: worked twice on that date.
    shift = Calendar("Europe/Madrid", (((120, 180),),) * 7)
    assert business_time_between(shift, start, start + timedelta(hours=25)) == timedelta(hours=2)
