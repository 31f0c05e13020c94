import math
import string

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from refuje.common.testing.factories import DepartmentFactory, HotelFactory
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.qrcodes.models import QRCode, QRTargetType, new_token

from .factories import QRCodeFactory

pytestmark = pytest.mark.django_db

URLSAFE = set(string.ascii_letters + string.digits + "-_")


def test_tokens_carry_at_least_128_random_bits_in_url_safe_characters():
    tokens = [new_token() for _ in range(2000)]

    assert all(set(token) <= URLSAFE for token in tokens)
    assert {len(token) for token in tokens} == {32}
    assert len(set(tokens)) == len(tokens)
    # 32 base64 characters are 192 bits only if every position varies over the whole alphabet.
    for position in range(32):
        assert len({token[position] for token in tokens}) > 50
    assert 32 * math.log2(len(URLSAFE)) >= 128


def test_each_code_gets_its_own_token():
    codes = QRCodeFactory.create_batch(20)

    assert len({code.token for code in codes}) == 20
    assert all(len(code.token) >= 32 for code in codes)


def test_the_database_refuses_a_repeated_token():
    code = QRCodeFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        QRCodeFactory.create(hotel=code.hotel, token=code.token)


def test_the_database_refuses_a_short_token():
    code = QRCodeFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        QRCode.objects.filter(pk=code.pk).update(token="short")


@pytest.mark.parametrize(
    "fields",
    [
        {"target_type": QRTargetType.ROOM, "room_number": ""},
        {"target_type": QRTargetType.ROOM, "room_number": "101", "location_label": "Lobby"},
        {"target_type": QRTargetType.LOCATION, "room_number": "101"},
        {"target_type": QRTargetType.DEPARTMENT, "room_number": ""},
        {"target_type": QRTargetType.EXPERIENCE, "room_number": ""},
        {"target_type": "garden", "room_number": "101"},
    ],
)
def test_the_database_requires_exactly_the_target_of_the_codes_kind(fields):
    code = QRCodeFactory.create(room_number="101")

    with pytest.raises(IntegrityError), transaction.atomic():
        QRCode.objects.filter(pk=code.pk).update(**fields)


def test_department_and_experience_codes_satisfy_the_constraint():
    department = DepartmentFactory.create()
    experience = ExperienceFactory.create(hotel=department.hotel)

    QRCodeFactory.create(
        hotel=department.hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=department
    )
    QRCodeFactory.create(
        hotel=department.hotel, target_type=QRTargetType.EXPERIENCE, room_number="", experience=experience
    )

    assert QRCode.objects.count() == 2


def test_full_clean_names_a_target_of_another_hotel():
    code = QRCodeFactory.build(
        hotel=HotelFactory.create(),
        target_type=QRTargetType.DEPARTMENT,
        room_number="",
        department=DepartmentFactory.create(),
    )

    with pytest.raises(ValidationError) as caught:
        code.full_clean()

    assert "department" in caught.value.message_dict


def test_a_hotel_can_still_be_deleted_with_its_catalogue_and_codes():
    experience = ExperienceFactory.create()
    hotel = experience.hotel
    QRCodeFactory.create(hotel=hotel, target_type=QRTargetType.EXPERIENCE, room_number="", experience=experience)
    QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=experience.department
    )

    hotel.delete()

    assert not QRCode.objects.exists()
