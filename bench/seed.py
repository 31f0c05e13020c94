"""Seed a benchmark database through the project's services and print what the load needs as JSON:
the hotel, a department, Bearer tokens of the guests (each with an active stay) and of a STAFF
member of that department. Also creates the bare view's table.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --guests 200
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from typing import Any

import django


def seed(guests: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from refuje.accounts.models import User, UserType
    from refuje.accounts.sessions import session_start
    from refuje.hotels.models import Department, Hotel, HotelMembership, Role
    from refuje.stays.services import stay_register

    from .bare_urls import BARE_TABLE

    with transaction.atomic():
        hotel = Hotel.objects.create(
            slug="bench", name_en="Bench Hotel", name_ar="فندق القياس", timezone="Asia/Riyadh", currency="SAR"
        )
        department = Department.objects.create(hotel=hotel, name_en="Housekeeping", name_ar="التدبير المنزلي")
        admin = User.objects.create_user("+966581000001", None, full_name="Bench Admin", user_type=UserType.STAFF)
        HotelMembership.objects.create(user=admin, hotel=hotel, role=Role.ADMIN)
        staff = User.objects.create_user("+966581000002", None, full_name="Bench Staff", user_type=UserType.STAFF)
        membership = HotelMembership.objects.create(user=staff, hotel=hotel, role=Role.STAFF)
        membership.departments.add(department)
        today = timezone.localdate()
        stays = [
            stay_register(
                actor=admin,
                hotel=hotel,
                phone=f"+96658{index:07d}",
                room=str(1000 + index),
                check_in=today,
                check_out=today + timedelta(days=7),
                full_name=f"Bench Guest {index}",
            )
            for index in range(guests)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {BARE_TABLE} "
                "(id bigserial PRIMARY KEY, note text NOT NULL, created_at timestamptz NOT NULL)"
            )
    return {
        "hotel": hotel.slug,
        "department": department.pk,
        "staff_token": session_start(user=staff).access,
        "guest_tokens": [session_start(user=stay.guest).access for stay in stays],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guests", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    sys.stdout.write(json.dumps(seed(args.guests)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
