"""Property: whatever partial refunds are asked for, in whatever order, their sum never exceeds
what was paid, and our books agree with Moyasar's."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuje.common.errors import ApiError
from refuje.payments.models import LedgerEntry, Refund, RefundStatus
from refuje.payments.services import payment_reconcile_run, payment_refund

from .conftest import make_scene
from .test_reconcile import later

pytestmark = pytest.mark.django_db


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    price=st.integers(min_value=100, max_value=50000),
    asks=st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=60000)), min_size=1, max_size=6),
)
def test_partial_refunds_never_exceed_the_paid_amount(fake_moyasar, price, asks):
    scene = make_scene(fake_moyasar, price=price)
    scene.pay()
    payment_reconcile_run(now=later())
    payment = scene.refresh().payment
    assert payment.captured_minor == price

    granted = 0
    for ask in asks:
        left = price - granted
        try:
            refund = payment_refund(payment=payment, actor=None, amount_minor=ask, reason="prop")
        except ApiError:
            assert (ask is None and left == 0) or (ask is not None and ask > left)
            continue
        assert refund.status == RefundStatus.SUCCEEDED
        assert refund.amount_minor == (left if ask is None else ask)
        granted += refund.amount_minor

    payment.refresh_from_db()
    assert payment.refunded_minor == granted <= price
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == granted
    succeeded = Refund.objects.filter(payment=payment, status=RefundStatus.SUCCEEDED)
    assert sum(r.amount_minor for r in succeeded) == granted
    assert sum(e.amount_minor for e in LedgerEntry.objects.filter(payment=payment, kind="refund")) == granted
