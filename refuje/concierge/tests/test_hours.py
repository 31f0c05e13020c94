"""Business hours and SLAs. Every instant is passed in explicitly, so no clock needs freezing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from refuje.concierge.hours import (
    DepartmentHours,
    HoursError,
    Override,
    Window,
    is_after_hours,
    is_within_working_hours,
    response_due_at,
    validate_windows,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
RIYADH = "Asia/Riyadh"
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
APIA = "Pacific/Apia"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the project's default language is Arabic."""
    with translation.override("en"):
        yield


def win(weekday, start, end):
    return Window(weekday, time.fromisoformat(start), time.fromisoformat(end))


def every_day(start, end):
    return tuple(win(day, start, end) for day in range(7))


def hours(*windows, overrides=(), tz=RIYADH, sla=30, after=120):
    return DepartmentHours(
        timezone=tz, windows=tuple(windows), overrides=tuple(overrides), sla_minutes=sla, after_hours_sla_minutes=after
    )


def local(tz, text, fold=0):
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz), fold=fold)


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def assert_schedule(dept, cases):
    for at, expected in cases:
        assert is_within_working_hours(dept, at) is expected, at
        assert is_after_hours(dept, at) is (not expected), at


# 2024-05-02 is a Thursday; 2024-05-05 a Sunday, 2024-05-06 a Monday.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-02 23:00", True),
        ("2024-05-03 01:59", True),  # after midnight: Thursday's window still counts on Friday
        ("2024-05-03 02:00", False),  # end is exclusive
        ("2024-05-02 21:59", False),
        ("2024-05-02 22:00", True),  # start is inclusive
        ("2024-05-03 23:00", False),  # the window belongs to Thursday only
        ("2024-05-02 01:00", False),  # Wednesday had no overnight window
    ],
)
def test_overnight_window_counts_on_both_sides_of_midnight(text, expected):
    dept = hours(win(THU, "22:00", "02:00"))
    assert is_within_working_hours(dept, local(RIYADH, text)) is expected
    assert is_after_hours(dept, local(RIYADH, text)) is (not expected)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc("2024-05-02 19:00"), True),  # 22:00 in Riyadh (UTC+3)
        (utc("2024-05-02 22:59"), True),  # Friday 01:59 in Riyadh
        (utc("2024-05-02 23:00"), False),  # Friday 02:00 in Riyadh
        (utc("2024-05-02 18:59"), False),  # Thursday 21:59 in Riyadh
    ],
)
def test_hours_are_evaluated_in_the_hotel_time_zone(at, expected):
    assert is_within_working_hours(hours(win(THU, "22:00", "02:00")), at) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-05 23:30", True),
        ("2024-05-06 02:59", True),  # Sunday's window runs into Monday
        ("2024-05-06 03:00", False),
        ("2024-05-05 22:59", False),
        ("2024-05-04 23:30", False),  # Saturday
        ("2024-05-13 00:30", True),  # and again the following week
    ],
)
def test_sunday_overnight_window_wraps_into_monday(text, expected):
    assert is_within_working_hours(hours(win(SUN, "23:00", "03:00")), local(RIYADH, text)) is expected


def test_several_windows_per_day():
    dept = hours(win(MON, "07:00", "11:00"), win(MON, "18:00", "23:00"), win(TUE, "07:00", "11:00"))
    assert_schedule(
        dept,
        [
            (local(RIYADH, "2024-05-06 06:59"), False),
            (local(RIYADH, "2024-05-06 07:00"), True),
            (local(RIYADH, "2024-05-06 10:59"), True),
            (local(RIYADH, "2024-05-06 11:00"), False),
            (local(RIYADH, "2024-05-06 14:00"), False),
            (local(RIYADH, "2024-05-06 17:59"), False),
            (local(RIYADH, "2024-05-06 18:00"), True),
            (local(RIYADH, "2024-05-06 22:59"), True),
            (local(RIYADH, "2024-05-06 23:00"), False),
            (local(RIYADH, "2024-05-07 08:00"), True),
            (local(RIYADH, "2024-05-07 18:30"), False),
        ],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-06 08:59:59.999999", False),
        ("2024-05-06 09:00:00", True),
        ("2024-05-06 16:59:59.999999", True),
        ("2024-05-06 17:00:00", False),
    ],
)
def test_start_is_inclusive_and_end_exclusive(text, expected):
    assert is_within_working_hours(hours(win(MON, "09:00", "17:00")), local(RIYADH, text)) is expected


@pytest.mark.parametrize(
    ("window", "cases"),
    [
        (
            win(WED, "00:00", "00:00"),
            [
                ("2024-05-07 23:59", False),
                ("2024-05-08 00:00", True),
                ("2024-05-08 12:00", True),
                ("2024-05-08 23:59:59.999999", True),
                ("2024-05-09 00:00", False),
            ],
        ),
        (
            win(WED, "09:00", "09:00"),
            [
                ("2024-05-08 08:59", False),
                ("2024-05-08 09:00", True),
                ("2024-05-09 08:59", True),
                ("2024-05-09 09:00", False),
            ],
        ),
        (
            win(THU, "22:00", "00:00"),
            [
                ("2024-05-02 21:59", False),
                ("2024-05-02 23:59", True),
                ("2024-05-03 00:00", False),
            ],
        ),
    ],
)
def test_full_day_and_to_midnight_windows(window, cases):
    assert_schedule(hours(window), [(local(RIYADH, text), expected) for text, expected in cases])


def test_department_without_configured_hours_is_always_open():
    dept = hours(tz=NEW_YORK)
    for at in (
        local(NEW_YORK, "2024-05-06 03:00"),
        local(NEW_YORK, "2024-05-11 23:59:59.999999"),
        utc("2024-03-10 07:00"),  # the moment clocks spring forward
        utc("2024-11-03 06:30"),  # inside the repeated hour
    ):
        assert is_within_working_hours(dept, at), at


def test_overrides_still_apply_when_weekly_hours_are_not_configured():
    holiday = Override(date(2024, 5, 6), date(2024, 5, 6), closed=True)
    assert_schedule(
        hours(overrides=[holiday]),
        [
            (local(RIYADH, "2024-05-05 23:59"), True),
            (local(RIYADH, "2024-05-06 00:00"), False),
            (local(RIYADH, "2024-05-06 12:00"), False),
            (local(RIYADH, "2024-05-07 00:00"), True),
        ],
    )


def test_closed_holiday_override_covers_every_date_in_its_range():
    holiday = Override(date(2024, 5, 6), date(2024, 5, 7), closed=True)
    assert_schedule(
        hours(*every_day("09:00", "17:00"), overrides=[holiday]),
        [
            (local(RIYADH, "2024-05-05 10:00"), True),
            (local(RIYADH, "2024-05-06 10:00"), False),
            (local(RIYADH, "2024-05-07 10:00"), False),  # end_date is inclusive
            (local(RIYADH, "2024-05-08 10:00"), True),
        ],
    )


def test_ramadan_hours_with_overnight_windows_replace_the_weekly_schedule():
    ramadan = Override(date(2024, 3, 11), date(2024, 4, 9), windows=every_day("20:00", "03:00"))
    assert_schedule(
        hours(*every_day("09:00", "17:00"), overrides=[ramadan]),
        [
            (local(RIYADH, "2024-03-10 10:00"), True),  # weekly hours the day before
            (local(RIYADH, "2024-03-10 21:00"), False),
            (local(RIYADH, "2024-03-11 00:30"), False),  # no Ramadan window started the day before
            (local(RIYADH, "2024-03-11 10:00"), False),  # weekly window replaced
            (local(RIYADH, "2024-03-11 20:00"), True),
            (local(RIYADH, "2024-03-12 02:59"), True),
            (local(RIYADH, "2024-03-12 03:00"), False),
            (local(RIYADH, "2024-04-09 23:00"), True),
            (local(RIYADH, "2024-04-10 02:30"), True),  # the last Ramadan night runs past the end date
            (local(RIYADH, "2024-04-10 03:00"), False),
            (local(RIYADH, "2024-04-10 10:00"), True),  # weekly hours are back
            (local(RIYADH, "2024-04-10 21:00"), False),
        ],
    )


def test_override_starting_after_an_overnight_window_does_not_cut_it_short():
    closed_friday = Override(date(2024, 5, 3), date(2024, 5, 3), closed=True)
    assert_schedule(
        hours(win(THU, "22:00", "02:00"), win(FRI, "22:00", "02:00"), overrides=[closed_friday]),
        [
            (local(RIYADH, "2024-05-03 01:00"), True),  # Thursday's window, weekly schedule
            (local(RIYADH, "2024-05-03 02:00"), False),
            (local(RIYADH, "2024-05-03 23:00"), False),  # Friday's own window is overridden
            (local(RIYADH, "2024-05-04 01:00"), False),
        ],
    )


def test_closing_the_evening_an_overnight_window_starts_closes_its_tail_too():
    closed_thursday = Override(date(2024, 5, 2), date(2024, 5, 2), closed=True)
    assert_schedule(
        hours(win(THU, "22:00", "02:00"), overrides=[closed_thursday]),
        [
            (local(RIYADH, "2024-05-02 23:00"), False),
            (local(RIYADH, "2024-05-03 01:00"), False),
        ],
    )


def test_override_windows_are_matched_by_weekday():
    special = Override(date(2024, 5, 2), date(2024, 5, 3), windows=(win(FRI, "10:00", "12:00"),))
    assert_schedule(
        hours(*every_day("09:00", "17:00"), overrides=[special]),
        [
            (local(RIYADH, "2024-05-02 10:30"), False),  # Thursday: the override has no Thursday window
            (local(RIYADH, "2024-05-02 15:00"), False),
            (local(RIYADH, "2024-05-03 10:30"), True),
            (local(RIYADH, "2024-05-03 15:00"), False),
        ],
    )


# New York springs forward on 2024-03-10 at 02:00 EST (07:00 UTC) to 03:00 EDT and falls back on
# 2024-11-03 at 02:00 EDT (06:00 UTC) to 01:00 EST. London: 2024-03-31 at 01:00 UTC and 2024-10-27
# at 01:00 UTC.
DST_CASES = [
    # A window opening inside the skipped hour opens when the clocks jump.
    (
        NEW_YORK,
        win(SUN, "02:30", "04:00"),
        [
            ("2024-03-10 06:45", False),  # 01:45 EST
            ("2024-03-10 06:59", False),
            ("2024-03-10 07:00", True),  # 03:00 EDT
            ("2024-03-10 07:29", True),
            ("2024-03-10 07:59", True),
            ("2024-03-10 08:00", False),  # 04:00 EDT
        ],
    ),
    # A window closing inside the skipped hour closes when the clocks jump.
    (
        NEW_YORK,
        win(SUN, "01:00", "02:30"),
        [
            ("2024-03-10 05:59", False),
            ("2024-03-10 06:00", True),  # 01:00 EST
            ("2024-03-10 06:59:59", True),
            ("2024-03-10 07:00", False),  # 03:00 EDT
            ("2024-03-10 07:15", False),
        ],
    ),
    (
        NEW_YORK,
        win(SAT, "22:00", "03:00"),
        [
            ("2024-03-10 02:59", False),
            ("2024-03-10 03:00", True),  # Saturday 22:00 EST
            ("2024-03-10 06:59", True),
            ("2024-03-10 07:00", False),  # 03:00 EDT
        ],
    ),
    # A full day is 23 real hours on the spring-forward Sunday...
    (
        NEW_YORK,
        win(SUN, "00:00", "00:00"),
        [
            ("2024-03-10 04:59", False),
            ("2024-03-10 05:00", True),
            ("2024-03-11 03:59", True),
            ("2024-03-11 04:00", False),
        ],
    ),
    # ...and an overnight window ending in the repeated hour closes at its first occurrence, once.
    (
        NEW_YORK,
        win(SAT, "22:00", "01:30"),
        [
            ("2024-11-03 01:59", False),
            ("2024-11-03 02:00", True),  # Saturday 22:00 EDT
            ("2024-11-03 05:29", True),  # 01:29 EDT
            ("2024-11-03 05:30", False),  # 01:30 EDT
            ("2024-11-03 06:15", False),  # 01:15 EST: the wall clock repeats, the window does not
        ],
    ),
    # A window opening in the repeated hour opens at its first occurrence and stays open.
    (
        NEW_YORK,
        win(SUN, "01:30", "03:00"),
        [
            ("2024-11-03 05:29", False),
            ("2024-11-03 05:30", True),  # 01:30 EDT
            ("2024-11-03 06:10", True),  # 01:10 EST
            ("2024-11-03 07:59", True),  # 02:59 EST
            ("2024-11-03 08:00", False),  # 03:00 EST
        ],
    ),
    (
        NEW_YORK,
        win(SUN, "00:00", "00:00"),
        [
            ("2024-11-03 03:59", False),
            ("2024-11-03 04:00", True),
            ("2024-11-04 04:59", True),  # 25 real hours
            ("2024-11-04 05:00", False),
        ],
    ),
    (
        LONDON,
        win(SUN, "01:30", "09:00"),
        [
            ("2024-03-31 00:59", False),  # 00:59 GMT
            ("2024-03-31 01:00", True),  # 02:00 BST
            ("2024-03-31 07:59", True),
            ("2024-03-31 08:00", False),  # 09:00 BST
        ],
    ),
    (
        LONDON,
        win(SAT, "23:00", "01:30"),
        [
            ("2024-03-30 22:59", False),
            ("2024-03-30 23:00", True),
            ("2024-03-31 00:59", True),
            ("2024-03-31 01:00", False),  # 02:00 BST, the wall clock passed 01:30 in the jump
        ],
    ),
    (
        LONDON,
        win(SAT, "22:00", "01:30"),
        [
            ("2024-10-26 20:59", False),
            ("2024-10-26 21:00", True),  # Saturday 22:00 BST
            ("2024-10-27 00:29", True),  # 01:29 BST
            ("2024-10-27 00:30", False),  # 01:30 BST
            ("2024-10-27 01:15", False),  # 01:15 GMT
        ],
    ),
    (
        LONDON,
        win(SUN, "01:30", "03:00"),
        [
            ("2024-10-27 00:29", False),
            ("2024-10-27 00:30", True),  # 01:30 BST
            ("2024-10-27 01:10", True),  # 01:10 GMT
            ("2024-10-27 02:59", True),
            ("2024-10-27 03:00", False),  # 03:00 GMT
        ],
    ),
    # Samoa skipped Friday 2011-12-30 entirely (UTC-10 to UTC+14 at 10:00 UTC).
    (
        APIA,
        win(THU, "22:00", "02:00"),
        [
            ("2011-12-30 07:59", False),
            ("2011-12-30 08:00", True),  # Thursday 22:00 local
            ("2011-12-30 09:59", True),
            ("2011-12-30 10:00", False),  # Saturday 00:00 local, past Friday 02:00
        ],
    ),
    (
        APIA,
        win(FRI, "22:00", "02:00"),
        [
            ("2011-12-30 09:59", False),
            ("2011-12-30 10:00", True),  # the skipped Friday evening opens when the day is skipped
            ("2011-12-30 11:59", True),
            ("2011-12-30 12:00", False),  # Saturday 02:00 local
        ],
    ),
]


@pytest.mark.parametrize(
    ("tz", "window", "cases"),
    DST_CASES,
    ids=[f"{tz}-{cases[0][0][:10]}-{window.start:%H%M}-{window.end:%H%M}" for tz, window, cases in DST_CASES],
)
def test_daylight_saving_transitions(tz, window, cases):
    assert_schedule(hours(window, tz=tz), [(utc(text), expected) for text, expected in cases])


def test_ambiguous_local_input_uses_its_fold():
    dept = hours(win(SAT, "22:00", "01:30"), tz=NEW_YORK)
    assert is_within_working_hours(dept, local(NEW_YORK, "2024-11-03 01:15", fold=0))  # 05:15 UTC
    assert not is_within_working_hours(dept, local(NEW_YORK, "2024-11-03 01:15", fold=1))  # 06:15 UTC


@pytest.mark.parametrize(
    ("dept", "created_at", "due"),
    [
        (hours(win(MON, "09:00", "17:00")), local(RIYADH, "2024-05-06 10:00"), utc("2024-05-06 07:30")),
        (hours(win(MON, "09:00", "17:00")), local(RIYADH, "2024-05-06 20:00"), utc("2024-05-06 19:00")),
        (hours(win(MON, "09:00", "17:00")), local(RIYADH, "2024-05-06 17:00"), utc("2024-05-06 16:00")),
        (hours(win(MON, "09:00", "17:00")), local(RIYADH, "2024-05-06 09:00"), utc("2024-05-06 06:30")),
        # After midnight inside the previous day's overnight window: the ordinary SLA.
        (hours(win(THU, "22:00", "02:00")), local(RIYADH, "2024-05-03 01:00"), utc("2024-05-02 22:30")),
        (hours(win(THU, "22:00", "02:00")), local(RIYADH, "2024-05-03 02:00"), utc("2024-05-03 01:00")),
        (hours(), utc("2024-05-06 02:00"), utc("2024-05-06 02:30")),
        (
            hours(win(MON, "09:00", "17:00"), overrides=[Override(date(2024, 5, 6), date(2024, 5, 6), closed=True)]),
            local(RIYADH, "2024-05-06 10:00"),
            utc("2024-05-06 09:00"),
        ),
    ],
)
def test_response_due_at_uses_the_after_hours_sla_outside_working_hours(dept, created_at, due):
    result = response_due_at(dept, created_at)
    assert result == due
    assert result.tzinfo is UTC


def test_response_due_at_counts_real_minutes_across_a_dst_change():
    dept = hours(win(SUN, "00:00", "12:00"), tz=NEW_YORK, sla=120)
    # 01:30 EST; two real hours later it is 04:30 EDT, not 03:30 as wall-clock arithmetic would say.
    assert response_due_at(dept, local(NEW_YORK, "2024-03-10 01:30")) == utc("2024-03-10 08:30")


def test_sla_minutes_come_from_the_department():
    dept = hours(win(MON, "09:00", "17:00"), sla=45, after=240)
    assert response_due_at(dept, utc("2024-05-06 07:00")) == utc("2024-05-06 07:45")
    assert response_due_at(dept, utc("2024-05-06 15:00")) == utc("2024-05-06 19:00")


@pytest.mark.parametrize("check", [is_within_working_hours, is_after_hours, response_due_at])
def test_naive_datetimes_are_rejected(check):
    with pytest.raises(HoursError, match="time zone") as caught:
        check(hours(win(MON, "09:00", "17:00")), datetime(2024, 5, 6, 10, 0))  # noqa: DTZ001
    assert caught.value.code == "naive_datetime"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Window(7, time(9), time(17)), "invalid_weekday"),
        (lambda: Window(-1, time(9), time(17)), "invalid_weekday"),
        (lambda: Window(True, time(9), time(17)), "invalid_weekday"),
        (lambda: Window(MON, time(9, tzinfo=UTC), time(17)), "invalid_window_time"),
        (lambda: Override(date(2024, 5, 7), date(2024, 5, 6), closed=True), "invalid_override_dates"),
        (lambda: Override(date(2024, 5, 6), date(2024, 5, 6), windows=(), closed=True), "invalid_override"),
        (lambda: Override(date(2024, 5, 6), date(2024, 5, 6)), "invalid_override"),
        (lambda: hours(tz="Mars/Olympus_Mons"), "invalid_timezone"),
        (lambda: hours(tz="../../etc/passwd"), "invalid_timezone"),
        (lambda: hours(sla=-1), "invalid_sla"),
        (lambda: hours(after=-5), "invalid_sla"),
        (
            lambda: hours(
                overrides=[
                    Override(date(2024, 5, 6), date(2024, 5, 8), closed=True),
                    Override(date(2024, 5, 1), date(2024, 5, 6), closed=True),
                ]
            ),
            "overlapping_overrides",
        ),
    ],
)
def test_invalid_hours_are_rejected(build, code):
    with pytest.raises(HoursError) as caught:
        build()
    assert caught.value.code == code


def test_adjacent_overrides_are_allowed():
    dept = hours(
        overrides=[
            Override(date(2024, 5, 6), date(2024, 5, 6), closed=True),
            Override(date(2024, 5, 7), date(2024, 5, 7), windows=(win(TUE, "10:00", "11:00"),)),
        ]
    )
    assert not is_within_working_hours(dept, local(RIYADH, "2024-05-06 10:30"))
    assert is_within_working_hours(dept, local(RIYADH, "2024-05-07 10:30"))


def test_error_messages_carry_their_parameters():
    with pytest.raises(HoursError) as caught:
        Override(date(2024, 5, 7), date(2024, 5, 6), closed=True)
    assert str(caught.value) == "An override cannot end (2024-05-06) before it starts (2024-05-07)."
    assert caught.value.params == {"start_date": "2024-05-07", "end_date": "2024-05-06"}


@pytest.mark.parametrize(
    "windows",
    [
        [],
        [win(MON, "09:00", "12:00"), win(MON, "12:00", "17:00")],  # touching, not overlapping
        [win(MON, "09:00", "17:00"), win(TUE, "09:00", "17:00")],
        [win(THU, "22:00", "02:00"), win(FRI, "02:00", "06:00")],
        [win(SUN, "22:00", "02:00"), win(MON, "02:00", "08:00")],
        [win(MON, "09:00", "09:00"), win(TUE, "09:00", "09:00")],
        list(every_day("00:00", "00:00")),
        list(every_day("20:00", "03:00")),
    ],
)
def test_validate_windows_accepts_disjoint_windows(windows):
    validate_windows(windows)


@pytest.mark.parametrize(
    "windows",
    [
        [win(MON, "09:00", "12:00"), win(MON, "11:00", "13:00")],
        [win(MON, "09:00", "17:00"), win(MON, "10:00", "11:00")],  # contained
        [win(MON, "09:00", "17:00"), win(MON, "09:00", "17:00")],  # duplicate
        [win(THU, "22:00", "02:00"), win(FRI, "01:00", "03:00")],  # overnight tail
        [win(FRI, "01:00", "03:00"), win(THU, "22:00", "02:00")],  # either order
        [win(SUN, "22:00", "02:00"), win(MON, "01:00", "05:00")],  # across the end of the week
        [win(MON, "00:30", "02:00"), win(SUN, "23:00", "01:00")],
        [win(WED, "00:00", "00:00"), win(WED, "23:00", "23:30")],  # 24 hours
        [win(TUE, "09:00", "09:00"), win(WED, "08:00", "10:00")],
        [win(THU, "22:00", "00:00"), win(THU, "23:00", "23:30")],
        [win(THU, "20:00", "03:00"), win(THU, "22:00", "02:00")],  # two overnight windows
    ],
)
def test_validate_windows_rejects_overlaps(windows):
    with pytest.raises(HoursError, match="overlaps") as caught:
        validate_windows(windows)
    assert caught.value.code == "overlapping_windows"


def test_overlap_error_names_both_windows_and_renders_in_the_active_language():
    with translation.override("en"):
        with pytest.raises(HoursError) as caught:
            validate_windows([win(MON, "07:00", "09:00"), win(SUN, "22:00", "02:00"), win(MON, "01:00", "05:00")])
        assert str(caught.value) == "Sunday 22:00-02:00 overlaps Monday 01:00-05:00."
    assert caught.value.params["first_index"] == 1
    assert caught.value.params["second_index"] == 2
    # Weekday names stay lazy until the message is rendered.
    with translation.override("ar"):
        rendered = str(caught.value)
    assert "الأحد" in rendered
    assert "الاثنين" in rendered
