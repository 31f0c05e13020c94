"""The slot calculator, without the database: every instant is passed in explicitly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuje.bookings.availability import (
    SlotRules,
    StaffCalendar,
    Window,
    free_slots,
    in_zone,
    resolve_wall_time,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
RIYADH = "Asia/Riyadh"
NEW_YORK = "America/New_York"
LONDON = "Europe/London"


def win(weekday: int, start: str, end: str) -> Window:
    return Window(weekday, time.fromisoformat(start), time.fromisoformat(end))


def every_day(start: str, end: str) -> tuple[Window, ...]:
    return tuple(win(day, start, end) for day in range(7))


def local(tz: str, text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz), fold=fold)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rules(duration: int = 60, step: int = 30, before: int = 0, after: int = 0, notice: int = 0, advance: int = 365):
    return SlotRules(
        duration=timedelta(minutes=duration),
        step=timedelta(minutes=step),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        min_notice=timedelta(minutes=notice),
        max_advance=timedelta(days=advance),
    )


# A Monday long before every query, so notice and advance do not interfere unless a case says so.
EARLY = utc("2026-01-05T00:00")


def starts(tz: str, calendars, day_from: str, day_to: str, rule: SlotRules, now: datetime = EARLY) -> list[str]:
    """Slot starts as local 'YYYY-MM-DD HH:MM' (with the staff id when several staff are asked)."""
    found = free_slots(
        timezone=tz,
        staff=calendars,
        rules=rule,
        start=local(tz, day_from),
        end=local(tz, day_to),
        now=now,
    )
    many = len({slot.staff_id for slot in found}) > 1
    return [
        slot.start.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") + (f"#{slot.staff_id}" if many else "")
        for slot in found
    ]


def staff(*work: Window, breaks=(), time_off=(), busy=(), staff_id: int = 1) -> StaffCalendar:
    return StaffCalendar(
        staff_id=staff_id, work=tuple(work), breaks=tuple(breaks), time_off=tuple(time_off), busy=tuple(busy)
    )


# 2026-03-02 is a Monday.
CASES = [
    pytest.param(
        [staff(win(MON, "09:00", "12:00"))],
        rules(duration=60, step=30),
        ["2026-03-02 09:00", "2026-03-02 09:30", "2026-03-02 10:00", "2026-03-02 10:30", "2026-03-02 11:00"],
        id="grid-from-opening-and-last-slot-ends-at-closing",
    ),
    pytest.param(
        [staff(win(MON, "09:00", "12:00"))],
        rules(duration=90, step=60),
        ["2026-03-02 09:00", "2026-03-02 10:00"],
        id="duration-longer-than-step",
    ),
    pytest.param(
        [staff(win(MON, "09:00", "13:00"), breaks=[win(MON, "10:45", "11:15")])],
        rules(duration=30, step=30),
        [
            "2026-03-02 09:00",
            "2026-03-02 09:30",
            "2026-03-02 10:00",
            "2026-03-02 11:30",
            "2026-03-02 12:00",
            "2026-03-02 12:30",
        ],
        id="break-cuts-hours-and-grid-stays-anchored",
    ),
    pytest.param(
        [
            staff(
                win(MON, "09:00", "12:00"),
                time_off=[(local(RIYADH, "2026-03-02T09:30"), local(RIYADH, "2026-03-02T11:00"))],
            )
        ],
        rules(duration=60, step=30),
        ["2026-03-02 11:00"],
        id="time-off",
    ),
    pytest.param(
        [
            staff(
                win(MON, "09:00", "13:00"),
                busy=[(local(RIYADH, "2026-03-02T10:00"), local(RIYADH, "2026-03-02T11:00"))],
            )
        ],
        rules(duration=60, step=30),
        ["2026-03-02 09:00", "2026-03-02 11:00", "2026-03-02 11:30", "2026-03-02 12:00"],
        id="existing-booking-back-to-back-allowed",
    ),
    pytest.param(
        [
            staff(
                win(MON, "09:00", "13:00"),
                busy=[(local(RIYADH, "2026-03-02T10:00"), local(RIYADH, "2026-03-02T11:00"))],
            )
        ],
        rules(duration=60, step=30, before=15, after=15),
        ["2026-03-02 11:30", "2026-03-02 12:00"],
        id="buffers-keep-distance-from-bookings",
    ),
    pytest.param(
        [staff(win(MON, "09:00", "11:00"))],
        rules(duration=60, step=30, before=30, after=30),
        ["2026-03-02 09:00", "2026-03-02 09:30", "2026-03-02 10:00"],
        id="buffers-may-reach-outside-hours",
    ),
    pytest.param(
        [staff(win(MON, "22:00", "02:00"))],
        rules(duration=60, step=60),
        ["2026-03-02 22:00", "2026-03-02 23:00", "2026-03-03 00:00", "2026-03-03 01:00"],
        id="overnight-window",
    ),
    pytest.param(
        [staff(win(SUN, "23:00", "01:00"))],
        rules(duration=60, step=60),
        ["2026-03-02 00:00"],
        id="sunday-night-window-spills-into-monday-query",
    ),
    pytest.param(
        [staff(win(MON, "09:00", "10:00"), staff_id=2), staff(win(MON, "09:00", "10:00"), staff_id=1)],
        rules(duration=60, step=60),
        ["2026-03-02 09:00#1", "2026-03-02 09:00#2"],
        id="several-staff-ordered-by-start-then-id",
    ),
    pytest.param(
        [staff()],
        rules(),
        [],
        id="no-hours-no-slots",
    ),
    pytest.param(
        [staff(win(TUE, "09:00", "12:00"))],
        rules(),
        [],
        id="other-weekday",
    ),
]


@pytest.mark.parametrize(("calendars", "rule", "expected"), CASES)
def test_slots(calendars, rule, expected):
    assert starts(RIYADH, calendars, "2026-03-02T00:00", "2026-03-03T06:00", rule) == expected


def test_overnight_window_query_covers_next_morning():
    calendars = [staff(win(MON, "22:00", "02:00"))]
    assert starts(RIYADH, calendars, "2026-03-02T00:00", "2026-03-03T06:00", rules(duration=60, step=60)) == [
        "2026-03-02 22:00",
        "2026-03-02 23:00",
        "2026-03-03 00:00",
        "2026-03-03 01:00",
    ]


def test_query_range_is_half_open_on_slot_starts():
    calendars = [staff(win(MON, "09:00", "12:00"))]
    assert starts(RIYADH, calendars, "2026-03-02T09:30", "2026-03-02T10:30", rules(duration=60, step=30)) == [
        "2026-03-02 09:30",
        "2026-03-02 10:00",
    ]


def test_min_notice_and_max_advance():
    calendars = [staff(*every_day("09:00", "11:00"))]
    now = local(RIYADH, "2026-03-02T08:10")
    rule = rules(duration=60, step=30, notice=60, advance=1)
    # Notice: nothing before 09:10, so 09:30 is the first; advance: nothing after 08:10 tomorrow.
    assert starts(RIYADH, calendars, "2026-03-02T00:00", "2026-03-05T00:00", rule, now=now) == [
        "2026-03-02 09:30",
        "2026-03-02 10:00",
    ]
    rule = rules(duration=60, step=30, notice=0, advance=1)
    now = local(RIYADH, "2026-03-02T09:00")
    assert starts(RIYADH, calendars, "2026-03-02T00:00", "2026-03-05T00:00", rule, now=now) == [
        "2026-03-02 09:00",
        "2026-03-02 09:30",
        "2026-03-02 10:00",
        "2026-03-03 09:00",  # exactly now + 1 day is still inside the advance window
    ]


def test_slots_are_in_hotel_zone_with_offset():
    found = free_slots(
        timezone=RIYADH,
        staff=[staff(win(MON, "09:00", "10:00"))],
        rules=rules(duration=60, step=60),
        start=utc("2026-03-01T00:00"),
        end=utc("2026-03-03T00:00"),
        now=EARLY,
    )
    assert [slot.local_iso(ZoneInfo(RIYADH)) for slot in found] == [
        ("2026-03-02T09:00:00+03:00", "2026-03-02T10:00:00+03:00")
    ]
    assert found[0].start == utc("2026-03-02T06:00")


# --- Daylight saving ------------------------------------------------------------------------


def test_spring_forward_new_york_hours_keep_wall_clock():
    # 2026-03-08 (Sunday): 02:00 -> 03:00 in New York.
    calendars = [staff(*every_day("09:00", "10:00"))]
    found = free_slots(
        timezone=NEW_YORK,
        staff=calendars,
        rules=rules(duration=60, step=60),
        start=local(NEW_YORK, "2026-03-07T00:00"),
        end=local(NEW_YORK, "2026-03-10T00:00"),
        now=EARLY,
    )
    assert [slot.local_iso(ZoneInfo(NEW_YORK))[0] for slot in found] == [
        "2026-03-07T09:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
        "2026-03-09T09:00:00-04:00",
    ]


def test_spring_forward_skipped_hour_offers_no_slot_in_the_gap():
    # A window 01:00-04:00 on the changeover night is only 2 real hours long.
    calendars = [staff(win(SUN, "01:00", "04:00"))]
    assert starts(NEW_YORK, calendars, "2026-03-08T00:00", "2026-03-09T00:00", rules(duration=60, step=60)) == [
        "2026-03-08 01:00",
        "2026-03-08 03:00",
    ]


def test_spring_forward_window_starting_in_the_gap_opens_at_the_jump():
    calendars = [staff(win(SUN, "02:30", "05:00"))]
    found = free_slots(
        timezone=NEW_YORK,
        staff=calendars,
        rules=rules(duration=60, step=60),
        start=local(NEW_YORK, "2026-03-08T00:00"),
        end=local(NEW_YORK, "2026-03-09T00:00"),
        now=EARLY,
    )
    assert [slot.local_iso(ZoneInfo(NEW_YORK))[0] for slot in found] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T04:00:00-04:00",
    ]


def test_fall_back_repeated_hour_gives_two_distinct_slots():
    # 2026-11-01 (Sunday): 02:00 -> 01:00 in New York; 00:00-03:00 lasts 4 real hours.
    calendars = [staff(win(SUN, "00:00", "03:00"))]
    found = free_slots(
        timezone=NEW_YORK,
        staff=calendars,
        rules=rules(duration=60, step=60),
        start=local(NEW_YORK, "2026-11-01T00:00"),
        end=local(NEW_YORK, "2026-11-02T00:00"),
        now=EARLY,
    )
    assert [slot.local_iso(ZoneInfo(NEW_YORK))[0] for slot in found] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


def test_london_autumn_booking_busy_in_utc_blocks_the_right_local_slot():
    # 2026-10-25 (Sunday): 02:00 BST -> 01:00 GMT. Work 09:00-12:00 on Monday 26th (GMT).
    calendars = [staff(win(MON, "09:00", "12:00"), busy=[(utc("2026-10-26T10:00"), utc("2026-10-26T11:00"))])]
    assert starts(LONDON, calendars, "2026-10-26T00:00", "2026-10-27T00:00", rules(duration=60, step=60)) == [
        "2026-10-26 09:00",
        "2026-10-26 11:00",
    ]


def test_resolve_wall_time_and_in_zone():
    zone = ZoneInfo(NEW_YORK)
    assert resolve_wall_time(date(2026, 3, 8), time(2, 30), zone) == utc("2026-03-08T07:00")
    assert resolve_wall_time(date(2026, 11, 1), time(1, 30), zone) == utc("2026-11-01T05:30")
    aware = utc("2026-01-01T00:00")
    assert in_zone(aware, zone) is aware
    assert in_zone(datetime(2026, 7, 1, 9, 0), zone).isoformat() == "2026-07-01T09:00:00-04:00"  # noqa: DTZ001


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="aware"):
        free_slots(
            timezone=RIYADH,
            staff=[staff(win(MON, "09:00", "10:00"))],
            rules=rules(),
            start=datetime(2026, 3, 2),  # noqa: DTZ001
            end=local(RIYADH, "2026-03-03T00:00"),
            now=EARLY,
        )


# --- Properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    opens=st.integers(0, 23),
    length=st.integers(1, 24),
    duration=st.sampled_from([15, 30, 45, 60, 90, 120]),
    step=st.sampled_from([5, 15, 30, 60]),
    before=st.sampled_from([0, 10, 30]),
    after=st.sampled_from([0, 10, 30]),
    bookings=st.lists(st.tuples(st.integers(0, 7 * 24 * 4), st.integers(1, 16)), max_size=8),
    tz=st.sampled_from([RIYADH, NEW_YORK, LONDON]),
)
def test_slots_never_overlap_bookings_and_keep_their_duration(
    opens, length, duration, step, before, after, bookings, tz
):
    base = local(tz, "2026-10-26T00:00")  # a week across the autumn changes of London and New York
    busy = [
        (base + timedelta(minutes=15 * offset), base + timedelta(minutes=15 * (offset + size)))
        for offset, size in bookings
    ]
    end_clock = time((opens + length) % 24)
    calendars = [staff(*every_day(f"{opens:02d}:00", end_clock.strftime("%H:%M")), busy=busy)]
    rule = rules(duration=duration, step=step, before=before, after=after)
    found = free_slots(timezone=tz, staff=calendars, rules=rule, start=base, end=base + timedelta(days=7), now=EARLY)
    for slot in found:
        blocked = (slot.start - rule.buffer_before, slot.end + rule.buffer_after)
        assert all(not (blocked[0] < b_end and b_start < blocked[1]) for b_start, b_end in busy), slot
        assert slot.end - slot.start == rule.duration
    assert [slot.start for slot in found] == sorted({slot.start for slot in found})
