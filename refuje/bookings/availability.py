"""Free booking slots of staff members, computed without the database.

Rules (the booking service, the availability endpoint and the tests rely on them):

* A staff member's weekly *working* intervals and *breaks* are ``Window`` values in the hotel's
  local wall-clock time, with the meaning they have for department hours
  (refuje/concierge/hours.py): start inclusive, end exclusive, ``end <= start`` crosses midnight,
  ``end == start`` is 24 hours, and an interval belongs to the local date it starts on.
* Daylight saving: each boundary becomes the earliest instant whose local reading is at or after it
  (the first occurrence of a repeated reading; the moment of the jump for a skipped one). So a
  09:00-17:00 day is 8 real hours on every date, and a window across a DST change is an hour
  shorter or longer in real time.
* Free time = working intervals − breaks − time off (absolute periods). No working intervals means
  never available (unlike department hours, a staff member must state when they work).
* Slot starts lie on a grid of ``step`` real minutes anchored at the opening of their working
  interval (09:00, 09:30, … after a break as well); the appointment itself (``start`` to
  ``start + duration``) must lie entirely within one stretch of free time.
* Existing bookings block ``blocked_start``..``blocked_end`` (their time widened by their own buffers).
  A new slot blocks ``start - buffer_before``..``end + buffer_after`` and must not overlap any of
  them: the same half-open ranges the database's exclusion constraint compares. Buffers may reach
  outside working hours (preparing before opening, tidying after closing).
* ``start >= now + min_notice`` and ``start <= now + max_advance``.
* Returned slots are those whose start lies in the queried ``[start, end)``, as UTC instants
  ordered by start, then staff id (shown in the hotel's zone by the API).

Instants are handled as whole UTC seconds internally (every boundary here is whole seconds; ``now``
is rounded up), which keeps 30 days × 20 staff to a few milliseconds of arithmetic.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from refuje.concierge.hours import HoursError, Window

__all__ = [
    "HoursError",
    "Instant",
    "Slot",
    "SlotRules",
    "StaffCalendar",
    "Window",
    "free_slots",
    "in_zone",
    "local_iso",
    "resolve_wall_time",
]

_DAY = timedelta(days=1)
Instant = datetime | int


@dataclass(frozen=True)
class SlotRules:
    """What an experience asks of a slot (booking policy + the experience's duration)."""

    duration: timedelta
    step: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    max_advance: timedelta = timedelta(days=60)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if min(self.buffer_before, self.buffer_after, self.min_notice, self.max_advance) < timedelta(0):
            raise ValueError("buffers, notice and advance cannot be negative")


@dataclass(frozen=True)
class StaffCalendar:
    """One staff member's week and their absolute unavailability (time off, bookings)."""

    staff_id: int
    work: tuple[Window, ...]
    breaks: tuple[Window, ...] = ()
    # Absolute periods as aware datetimes or whole UTC epoch seconds (cheaper to load in bulk).
    time_off: tuple[tuple[Instant, Instant], ...] = ()
    busy: tuple[tuple[Instant, Instant], ...] = ()


@dataclass(frozen=True, slots=True)
class Slot:
    """A free start: instants as whole UTC epoch seconds, with UTC datetimes on demand.

    Never compare datetimes that share one ZoneInfo across a DST change: Python compares and
    subtracts them by wall clock. Convert with `local_iso` for display only."""

    staff_id: int
    start_ts: int
    end_ts: int

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_ts, UTC)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.end_ts, UTC)

    def local_iso(self, zone: ZoneInfo) -> tuple[str, str]:
        return local_iso(self.start_ts, zone), local_iso(self.end_ts, zone)


def local_iso(instant: int, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset at that instant."""
    return datetime.fromtimestamp(instant, zone).isoformat()


def free_slots(
    *,
    timezone: str,
    staff: Iterable[StaffCalendar],
    rules: SlotRules,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Slot]:
    """Every free slot of every staff member whose start lies in ``[start, end)``."""
    zone = ZoneInfo(timezone)
    step = _seconds(rules.step)
    duration = _seconds(rules.duration)
    before = _seconds(rules.buffer_before)
    after = _seconds(rules.buffer_after)
    low = max(_ts(start), _ts_ceil(now) + _seconds(rules.min_notice))
    high = min(_ts(end), _ts(now) + _seconds(rules.max_advance) + 1)  # start <= now + advance
    if low >= high:
        return []
    # Local dates whose intervals can matter: an interval starting the day before may run into
    # the first day; breaks one day further out on either side may cut into those intervals.
    first_day = datetime.fromtimestamp(low, zone).date() - _DAY
    last_day = datetime.fromtimestamp(high, zone).date()
    found: list[tuple[int, int]] = []
    for calendar in staff:
        found.extend(
            (slot_start, calendar.staff_id)
            for slot_start in _staff_slots(
                calendar, zone, first_day, last_day, low, high, step, duration, before, after
            )
        )
    found.sort()
    return [Slot(staff_id, slot_start, slot_start + duration) for slot_start, staff_id in found]


def _staff_slots(
    calendar: StaffCalendar,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    low: int,
    high: int,
    step: int,
    duration: int,
    before: int,
    after: int,
) -> list[int]:
    openings = _resolve_windows(calendar.work, zone, first_day, last_day)
    if not openings:
        return []
    blockers = _resolve_windows(calendar.breaks, zone, first_day - _DAY, last_day + _DAY)
    blockers.extend((_ts(a), _ts(b)) for a, b in calendar.time_off)
    blockers = _merge(blockers)
    busy = _merge([(_ts(a), _ts(b)) for a, b in calendar.busy])

    # A start s clashes with a booking [b0, b1) when s - before < b1 and b0 < s + duration + after,
    # i.e. when b0 - duration - after < s < b1 + before: forbidden starts [b0 - duration - after + 1,
    # b1 + before) in whole seconds. Free starts are then ranges, and grid points are read off them
    # with range(), which keeps a month of 20 staff to a few milliseconds.
    forbidden = _merge([(b0 - duration - after + 1, b1 + before) for b0, b1 in busy])
    blocker_ends = [block_end for _block_start, block_end in blockers]
    forbidden_ends = [block_end for _block_start, block_end in forbidden]
    starts: set[int] = set()
    for opens, closes in openings:
        for seg_start, seg_end in _subtract(opens, closes, blockers, blocker_ends):
            first, last = max(seg_start, low), min(seg_end - duration, high - 1)  # inclusive bounds
            if first > last:
                continue
            for free_from, free_to in _subtract(first, last + 1, forbidden, forbidden_ends):
                grid_from = opens + -((opens - free_from) // step) * step  # first grid point >= free_from
                starts.update(range(grid_from, free_to, step))
    return sorted(starts)


def _resolve_windows(
    windows: Iterable[Window], zone: ZoneInfo, first_day: date, last_day: date
) -> list[tuple[int, int]]:
    by_weekday: dict[int, list[Window]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    result: list[tuple[int, int]] = []
    if not by_weekday:
        return result
    day = first_day
    while day <= last_day:
        for window in by_weekday.get(day.weekday(), ()):
            end_day = day + _DAY if window.end <= window.start else day
            opens = _resolve_ts(day, window.start, zone)
            closes = _resolve_ts(end_day, window.end, zone)
            if closes > opens:
                result.append((opens, closes))
        day += _DAY
    return result


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(start: int, end: int, blockers: Sequence[tuple[int, int]], ends: Sequence[int]) -> list[tuple[int, int]]:
    """``[start, end)`` minus the sorted, disjoint ``blockers`` (``ends``: their ends, for bisecting)."""
    pieces: list[tuple[int, int]] = []
    cursor = start
    for index in range(bisect.bisect_right(ends, start), len(blockers)):
        block_start, block_end = blockers[index]
        if block_start >= end:
            break
        if block_start > cursor:
            pieces.append((cursor, block_start))
        cursor = max(cursor, block_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


@functools.lru_cache(maxsize=16384)
def _resolve_ts(day: date, clock: time, zone: ZoneInfo) -> int:
    return _ts(resolve_wall_time(day, clock, zone))


def resolve_wall_time(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The earliest instant (UTC) whose local reading in ``zone`` is at or after ``day`` ``clock``."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:
        return first  # an ordinary reading, or the first occurrence of a repeated one
    # A skipped reading: fold=1 lies on the old offset's side of the gap, fold=0 on the new one's;
    # the jump itself is the earliest instant with a later reading.
    low, high = math.floor(second.timestamp()), math.ceil(first.timestamp())
    target = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant: `value` itself, or its wall-clock reading in `zone` (DST-safe, as above)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return resolve_wall_time(value.date(), value.time(), zone).astimezone(zone)


def _ts(value: Instant) -> int:
    if isinstance(value, int):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("aware datetimes only")
    return math.floor(value.timestamp())


def _ts_ceil(value: datetime) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("aware datetimes only")
    return math.ceil(value.timestamp())


def _seconds(value: timedelta) -> int:
    return math.ceil(value.total_seconds())
