"""What the database itself guarantees about stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from refuje.common.testing.concierge_factories import GuestStayFactory
from refuje.stays.models import GuestStay, StayStatus

pytestmark = pytest.mark.django_db


def test_one_active_stay_per_guest_and_hotel():
    stay = GuestStayFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        GuestStay.objects.create(
            hotel=stay.hotel, guest=stay.guest, room="999", check_in=stay.check_in, check_out=stay.check_out
        )


def test_ended_stays_do_not_count_and_other_hotels_do_not_count():
    stay = GuestStayFactory.create(status=StayStatus.CHECKED_OUT)
    GuestStayFactory.create(hotel=stay.hotel, guest=stay.guest)  # a new active stay after the old one
    GuestStayFactory.create(guest=stay.guest)  # active elsewhere at the same time
    assert GuestStay.objects.filter(guest=stay.guest, status=StayStatus.ACTIVE).count() == 2


@pytest.mark.parametrize(
    "changes",
    [{"status": "GONE"}, {"room": ""}, {"source": "carrier-pigeon"}],
)
def test_database_refuses_invalid_stays(changes):
    stay = GuestStayFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        GuestStay.objects.filter(pk=stay.pk).update(**changes)


def test_check_out_cannot_be_before_check_in():
    stay = GuestStayFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        GuestStay.objects.filter(pk=stay.pk).update(check_out=stay.check_in - timedelta(days=1))
