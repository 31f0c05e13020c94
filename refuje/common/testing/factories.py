"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory

from refuje.accounts.models import User, UserType
from refuje.hotels.models import Department, Hotel, HotelMembership, Role

_phone_seq = iter(range(10_000_000))


def next_phone() -> str:
    """Distinct valid Saudi mobile numbers: +9665 0 xxx xxxx."""
    return f"+96650{next(_phone_seq):07d}"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    phone_number = factory.LazyFunction(next_phone)
    full_name = factory.Faker("name")
    user_type = UserType.STAFF
    preferred_language = "en"
    password = factory.django.Password(None)  # unusable: staff sign in by OTP unless a test sets one


class GuestFactory(UserFactory):
    user_type = UserType.GUEST
    full_name = factory.Faker("first_name")


class HotelFactory(factory.django.DjangoModelFactory[Hotel]):
    class Meta:
        model = Hotel

    slug = factory.Sequence(lambda n: f"hotel-{n}")
    name_ar = factory.Sequence(lambda n: f"فندق {n}")
    name_en = factory.Sequence(lambda n: f"Hotel {n}")


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department

    hotel = factory.SubFactory(HotelFactory)
    name_ar = factory.Sequence(lambda n: f"قسم {n}")
    name_en = factory.Sequence(lambda n: f"Department {n}")


class MembershipFactory(factory.django.DjangoModelFactory[HotelMembership]):
    class Meta:
        model = HotelMembership

    user = factory.SubFactory(UserFactory)
    hotel = factory.SubFactory(HotelFactory)
    role = Role.STAFF
