"""Department business hours and response SLAs, computed without the database.

Rules (the service-request code and the admin API rely on them):

* A ``Window`` is a weekly opening in the hotel's local wall-clock time. Start is inclusive, end
  exclusive. ``end <= start`` means the window crosses midnight and ends on the next local date
  (Thu 22:00-02:00 covers Thu 22:00-24:00 and Fri 00:00-02:00); ``end == start`` is a 24-hour
  window.
* A window belongs to the date it *starts* on. Instant ``t`` (local date ``d``) is within working
  hours when it falls inside any window starting on ``d`` or ``d - 1``, each window taken from the
  schedule in force on its own start date. Consequences:
  - the previous day's overnight window keeps counting after midnight;
  - an override starting the next day does not cut that overnight tail short (to close from
    midnight, override the evening before too);
  - an override's own overnight windows spill into the first day after it ends.
* An ``Override`` replaces the weekly schedule on every local date from ``start_date`` to
  ``end_date`` inclusive: ``closed`` means no windows start on those dates; otherwise its
  ``windows`` apply, matched by weekday exactly like the weekly ones (so Ramadan hours list one
  window per weekday they open). Overrides may not cover the same date twice.
* A department with no weekly windows never configured its hours, so it is treated as open around
  the clock (as if every weekday had a 24-hour window from midnight). Its overrides still apply.
* Daylight saving: each window boundary becomes an absolute instant, namely the earliest instant
  whose local wall-clock reading is at or after the boundary. For an ambiguous reading (clocks
  going back) that is the first occurrence (``fold=0``), so a window never reopens during the
  repeated hour. For a reading that does not exist (clocks going forward) it is the moment the
  clocks jump, so a window opens or closes as soon as the wall clock has passed its boundary.
  Windows stay contiguous, and a 24-hour window on a DST day lasts 23 or 25 real hours.
* ``response_due_at`` is the creation instant plus the department's SLA, or its after-hours SLA
  when the request was created outside working hours: a flat number of real minutes, not
  business-minute accounting.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


class HoursError(ValueError):
    """Invalid hours data. Shaped like Django's ValidationError so the API can re-raise it.

    ``message`` stays lazy and ``params`` are applied only when the error is rendered, so it reads
    in whatever language is active at that point.
    """

    def __init__(self, message: StrOrPromise, code: str, params: Mapping[str, object] | None = None) -> None:
        super().__init__(message, code, params)
        self.message = message
        self.code = code
        self.params: dict[str, object] = dict(params or {})

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Window:
    """A weekly opening: ``weekday`` 0=Monday..6=Sunday, local ``start`` (inclusive) to ``end`` (exclusive)."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise HoursError(
                _("The weekday must be a number from 0 (Monday) to 6 (Sunday), not %(weekday)s."),
                "invalid_weekday",
                {"weekday": self.weekday},
            )
        for value in (self.start, self.end):
            # A window is wall-clock time in the hotel's zone; an offset here would be ignored silently.
            if not isinstance(value, time) or value.tzinfo is not None:
                raise HoursError(
                    _("Window start and end must be local times of day without a time zone."),
                    "invalid_window_time",
                )

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        """Nominal wall-clock length (real length differs on DST days)."""
        length = _since_midnight(self.end) - _since_midnight(self.start)
        return length + _DAY if self.crosses_midnight else length


@dataclass(frozen=True)
class Override:
    """Replace the weekly schedule on local dates ``start_date``..``end_date`` (inclusive)."""

    start_date: date
    end_date: date
    windows: tuple[Window, ...] | None = None
    closed: bool = False

    def __post_init__(self) -> None:
        if self.start_date > self.end_date:
            raise HoursError(
                _("An override cannot end (%(end_date)s) before it starts (%(start_date)s)."),
                "invalid_override_dates",
                {"start_date": self.start_date.isoformat(), "end_date": self.end_date.isoformat()},
            )
        if self.closed and self.windows is not None:
            raise HoursError(_("A closed override cannot also list working windows."), "invalid_override")
        if not self.closed and self.windows is None:
            raise HoursError(_("An override must either be closed or list its working windows."), "invalid_override")
        if self.windows is not None:
            object.__setattr__(self, "windows", tuple(self.windows))

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date


@dataclass(frozen=True)
class DepartmentHours:
    """Everything needed to decide working hours and due times for one department."""

    timezone: str
    windows: tuple[Window, ...]
    overrides: tuple[Override, ...]
    sla_minutes: int
    after_hours_sla_minutes: int

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise HoursError(
                _("%(value)s is not a known time zone (use an IANA name such as Asia/Riyadh)."),
                "invalid_timezone",
                {"value": self.timezone},
            ) from None
        for value in (self.sla_minutes, self.after_hours_sla_minutes):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise HoursError(
                    _("Response times must be a whole number of minutes, zero or more, not %(value)s."),
                    "invalid_sla",
                    {"value": value},
                )
        object.__setattr__(self, "windows", tuple(self.windows))
        overrides = tuple(sorted(self.overrides, key=lambda item: item.start_date))
        for earlier, later in itertools.pairwise(overrides):
            if later.start_date <= earlier.end_date:
                # Two overrides on one date would make the schedule depend on their order.
                raise HoursError(
                    _(
                        "Overrides %(first_start)s to %(first_end)s and %(second_start)s to %(second_end)s "
                        "cover the same dates."
                    ),
                    "overlapping_overrides",
                    {
                        "first_start": earlier.start_date.isoformat(),
                        "first_end": earlier.end_date.isoformat(),
                        "second_start": later.start_date.isoformat(),
                        "second_end": later.end_date.isoformat(),
                    },
                )
        object.__setattr__(self, "overrides", overrides)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows_starting_on(self, day: date) -> tuple[Window, ...]:
        """The windows that open on local date ``day`` under the schedule in force that day."""
        override = next((item for item in self.overrides if item.covers(day)), None)
        if override is not None:
            source: tuple[Window, ...] = override.windows or ()
        else:
            source = self.windows or _ALWAYS_OPEN
        return tuple(window for window in source if window.weekday == day.weekday())


# A department that never configured its weekly hours is open around the clock.
_ALWAYS_OPEN = tuple(Window(weekday, time(0), time(0)) for weekday in range(7))


def is_within_working_hours(hours: DepartmentHours, at: datetime) -> bool:
    """Whether the aware instant ``at`` falls inside one of the department's working windows."""
    instant = _require_aware(at).astimezone(UTC)
    zone = hours.zone
    today = instant.astimezone(zone).date()
    # The longest window is 24 wall-clock hours, so nothing that starts before yesterday reaches today.
    for day in (today - _DAY, today):
        for window in hours.windows_starting_on(day):
            opens, closes = _window_bounds(day, window, zone)
            if opens <= instant < closes:
                return True
    return False


def is_after_hours(hours: DepartmentHours, at: datetime) -> bool:
    return not is_within_working_hours(hours, at)


def response_due_at(hours: DepartmentHours, created_at: datetime) -> datetime:
    """Deadline (UTC) for the first response to a request created at ``created_at``."""
    created = _require_aware(created_at).astimezone(UTC)
    minutes = hours.sla_minutes if is_within_working_hours(hours, created) else hours.after_hours_sla_minutes
    # Real elapsed minutes: adding in UTC keeps the deadline right across a DST change.
    return created + timedelta(minutes=minutes)


def validate_windows(windows: Iterable[Window]) -> None:
    """Reject two windows of one schedule that share any moment of the week.

    Windows that merely touch (one ends at 17:00, the next starts at 17:00) are fine. Overnight
    windows are compared with the next day's, and Sunday night with Monday morning.
    """
    items = list(windows)
    for first_index, first in enumerate(items):
        for second_index in range(first_index + 1, len(items)):
            second = items[second_index]
            if _overlap(first, second):
                raise HoursError(
                    _(
                        "%(first_day)s %(first_start)s-%(first_end)s overlaps "
                        "%(second_day)s %(second_start)s-%(second_end)s."
                    ),
                    "overlapping_windows",
                    {
                        "first_day": WEEKDAYS[first.weekday],
                        "first_start": _clock(first.start),
                        "first_end": _clock(first.end),
                        "second_day": WEEKDAYS[second.weekday],
                        "second_start": _clock(second.start),
                        "second_end": _clock(second.end),
                        "first_index": first_index,
                        "second_index": second_index,
                    },
                )


def _overlap(first: Window, second: Window) -> bool:
    # Both windows as arcs on the weekly circle; each is at most one day long, so two arcs
    # overlap exactly when one starts inside the other.
    first_start = first.weekday * _DAY + _since_midnight(first.start)
    second_start = second.weekday * _DAY + _since_midnight(second.start)
    return (second_start - first_start) % _WEEK < first.duration or (
        first_start - second_start
    ) % _WEEK < second.duration


def _window_bounds(day: date, window: Window, zone: ZoneInfo) -> tuple[datetime, datetime]:
    end_day = day + _DAY if window.crosses_midnight else day
    return _resolve(day, window.start, zone), _resolve(end_day, window.end, zone)


def _resolve(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The earliest instant (UTC) whose local reading in ``zone`` is at or after ``day`` ``clock``."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:
        # Equal for an ordinary reading; for a repeated one, fold=0 is its first occurrence.
        return first
    # A skipped reading: PEP 495 maps fold=1 to the old offset's side of the gap and fold=0 to the
    # new one's, so the jump lies between them.
    return _transition_between(second, first, zone)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant the UTC offset changes, between ``before`` and ``after`` (tz transitions fall on whole seconds)."""
    low = math.floor(before.timestamp())
    high = math.ceil(after.timestamp())
    target = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _require_aware(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise HoursError(_("A date and time with a time zone is required."), "naive_datetime")
    return value


def _since_midnight(clock: time) -> timedelta:
    return timedelta(hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond)


def _clock(clock: time) -> str:
    return clock.strftime("%H:%M")
