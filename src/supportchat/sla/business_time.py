"""Business time: when a calendar's working hours run, and arithmetic over them.

Pure and small on purpose: every SLA deadline, pause and report figure is
computed here and nowhere else.

The rule, stated once: a UTC instant is *working* when its wall-clock time in
the calendar's zone falls inside a working interval of that local date, and
that local date is not a holiday. An interval ``(start, end)`` in minutes of
the day works from ``start`` to ``end``; ``end <= start`` means it crosses
midnight and runs on into the next date (whose holiday status governs that
part; ``end`` may be 1440, midnight). So a repeated wall-clock hour (DST
ends) works twice, a skipped one (DST begins) never exists, and overlapping
intervals simply work once.

Instants are aware ``datetime`` s; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["MINUTES_PER_DAY", "Calendar", "NoWorkingTime", "add_business_time", "business_time_between", "spans"]

MINUTES_PER_DAY = 1440
#: How far ahead :func:`add_business_time` looks for working time before it calls the deadline "never".
SEARCH_HORIZON = timedelta(days=3 * 366)
_WINDOW = timedelta(days=14)
#: Offset changes are found by sampling at this step, then bisecting (zones change far less often).
_PROBE = timedelta(hours=6)

Interval = tuple[int, int]


class NoWorkingTime(ValueError):
    """The calendar has no working time in reach: a business deadline would never come."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """A time zone, working intervals per weekday (Monday first, in minutes) and holidays (local dates).

    ``holidays`` is any container of dates: a ``frozenset``, or a
    ``holidays.HolidayBase`` (which adds years as they are asked about).
    """

    time_zone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: Container[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not at the first deadline
        if len(self.week) != 7:
            raise ValueError("week needs 7 days of intervals, Monday first")
        for day in self.week:
            for start, end in day:
                if not (0 <= start < MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY) or start == end:
                    raise ValueError(f"interval {start}-{end}: minutes 0-1440, start and end different")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def has_hours(self) -> bool:
        return any(self.week)


def _wall_intervals(calendar: Calendar, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Naive local working intervals of the dates ``first`` to ``last`` (and what spills out of the day before)."""
    day = first - timedelta(days=1)
    while day <= last:
        midnight = datetime.combine(day, time())
        for start, end in calendar.week[day.weekday()]:
            begin = midnight + timedelta(minutes=start)
            finish = midnight + timedelta(minutes=end if end > start else end + MINUTES_PER_DAY)
            next_midnight = midnight + timedelta(days=1)
            # Each part of an interval belongs to the date it falls on.
            if day not in calendar.holidays:
                yield begin, min(finish, next_midnight)
            if finish > next_midnight and (day + timedelta(days=1)) not in calendar.holidays:
                yield next_midnight, finish
        day += timedelta(days=1)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _offset_segments(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` cut where the zone's UTC offset changes: (from, to, offset) in UTC."""
    here = start
    offset = _offset(zone, here)
    probe = here
    while probe < end:
        step = min(probe + _PROBE, end)
        if _offset(zone, step) != offset:
            # Bisect in whole seconds (zones change offset on whole seconds): offset(low) is ours, offset(high) not.
            low, high = int(probe.timestamp()), int(step.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, datetime.fromtimestamp(middle, UTC)) == offset:
                    low = middle
                else:
                    high = middle
            change = datetime.fromtimestamp(high, UTC)
            yield here, change, offset
            here, offset = change, _offset(zone, change)
            probe = change
        else:
            probe = step
    yield here, end, offset


def spans(calendar: Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The working spans within ``[start, end)``, in UTC, in order, merged."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start or not calendar.has_hours:
        return []
    zone = calendar.zone
    found: list[tuple[datetime, datetime]] = []
    for seg_start, seg_end, offset in _offset_segments(zone, start, end):
        # Within a segment local wall time is UTC + offset, so a wall interval maps back by subtracting it.
        local_first = (seg_start + offset).date()
        local_last = (seg_end + offset).date()
        for wall_start, wall_end in _wall_intervals(calendar, local_first, local_last):
            a = max(wall_start.replace(tzinfo=UTC) - offset, seg_start)
            b = min(wall_end.replace(tzinfo=UTC) - offset, seg_end)
            if a < b:
                found.append((a, b))
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
    return sum((b - a for a, b in spans(calendar, start, end)), timedelta())


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant by which ``duration`` of working time has passed since ``start``.

    Raises :class:`NoWorkingTime` when the calendar has no working hours at
    all, or none within :data:`SEARCH_HORIZON` (holidays everywhere): such a
    deadline never comes.
    """
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    here = start.astimezone(UTC)
    if duration == timedelta(0):
        return here
    if not calendar.has_hours:
        raise NoWorkingTime("the calendar has no working hours")
    left = duration
    limit = here + SEARCH_HORIZON
    while here < limit:
        window_end = here + _WINDOW
        for a, b in spans(calendar, here, window_end):
            if b - a >= left:
                return a + left
            left -= b - a
        here = window_end
    raise NoWorkingTime(f"no working time within {SEARCH_HORIZON.days} days")


def week_of(days: Sequence[Sequence[Interval]]) -> tuple[tuple[Interval, ...], ...]:
    """A calendar's ``week`` from any sequence of 7 days' intervals."""
    return tuple(tuple((int(a), int(b)) for a, b in day) for day in days)
