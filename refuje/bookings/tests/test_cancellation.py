"""Refund arithmetic: integer minor units, never negative, never more than paid, fee + refund = paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refuje.bookings.cancellation import (
    BY_STAFF,
    FREE,
    LATE,
    NOTHING_PAID,
    STARTED,
    fee_of,
    quote_cancellation,
    quote_no_show,
)

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

paid = st.integers(min_value=0, max_value=10**9)
percent = st.integers(min_value=0, max_value=100)
hours = st.integers(min_value=0, max_value=2160)
moment = st.integers(min_value=-10 * 24 * 60, max_value=2 * 24 * 60).map(lambda m: START - timedelta(minutes=m))


@given(paid=paid, percent=percent, hours=hours, now=moment, by_staff=st.booleans())
def test_cancellation_refund_is_bounded_and_adds_up(paid, percent, hours, now, by_staff):
    quote = quote_cancellation(
        paid_minor=paid,
        start=START,
        now=now,
        free_cancellation_hours=hours,
        late_cancellation_fee_percent=percent,
        by_staff=by_staff,
    )
    assert isinstance(quote.refund_minor, int)
    assert isinstance(quote.fee_minor, int)
    assert 0 <= quote.refund_minor <= paid
    assert 0 <= quote.fee_minor <= paid
    if quote.cancellable:
        assert quote.refund_minor + quote.fee_minor == paid
    else:
        assert (quote.refund_minor, quote.fee_minor, quote.reason_code) == (0, 0, STARTED)
    if by_staff:
        assert (quote.refund_minor, quote.reason_code) == (paid, BY_STAFF)
    elif now < START and now <= START - timedelta(hours=hours) and paid:
        assert (quote.refund_minor, quote.reason_code) == (paid, FREE)


@given(paid=paid, percent=percent)
def test_no_show_refund_is_bounded_and_adds_up(paid, percent):
    quote = quote_no_show(paid_minor=paid, no_show_fee_percent=percent)
    assert 0 <= quote.refund_minor <= paid
    assert quote.refund_minor + quote.fee_minor == paid
    assert quote.fee_minor == fee_of(paid, percent)


@given(paid=paid, percent=percent)
def test_fee_rounds_half_up_and_is_monotonic(paid, percent):
    fee = fee_of(paid, percent)
    assert abs(fee * 100 - paid * percent) <= 50
    if percent < 100:
        assert fee <= fee_of(paid, percent + 1)


@pytest.mark.parametrize(
    ("paid_minor", "minutes_before", "expected"),
    [
        (10000, 24 * 60, (10000, 0, FREE)),  # exactly at the free-cancellation limit: still free
        (10000, 24 * 60 - 1, (5000, 5000, LATE)),
        (10001, 60, (5000, 5001, LATE)),  # the fee rounds half up
        (1, 60, (0, 1, LATE)),
        (0, 60, (0, 0, NOTHING_PAID)),
        (10000, 0, (0, 0, STARTED)),
        (10000, -30, (0, 0, STARTED)),
    ],
)
def test_guest_cancellation_table(paid_minor, minutes_before, expected):
    quote = quote_cancellation(
        paid_minor=paid_minor,
        start=START,
        now=START - timedelta(minutes=minutes_before),
        free_cancellation_hours=24,
        late_cancellation_fee_percent=50,
        by_staff=False,
    )
    assert (quote.refund_minor, quote.fee_minor, quote.reason_code) == expected


def test_fee_of_rejects_nonsense():
    with pytest.raises(ValueError, match="paid"):
        fee_of(-1, 10)
    with pytest.raises(ValueError, match="percent"):
        fee_of(100, 101)
