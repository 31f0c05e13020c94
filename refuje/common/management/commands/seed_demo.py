"""`manage.py seed_demo`: a demo hotel with departments, staff of every role, a guest and, in DEBUG,
a platform operator with a known password.

Every row is looked up by its natural key and created only when missing, so a second run (or a run
after someone edited the demo data in the admin) changes nothing. The accounts have well-known
phone numbers, which is why the command refuses to run outside DEBUG unless forced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from refuje.accounts.models import Language, User, UserType
from refuje.hotels.models import Department, Hotel, HotelMembership, Role

DEMO_HOTEL_SLUG = "demo"
OPERATOR_PHONE = "+966555000000"
# A development-only default, documented in the README; DEMO_ADMIN_PASSWORD overrides it.
DEFAULT_OPERATOR_PASSWORD = "refuje-demo-admin"  # noqa: S105


@dataclass(frozen=True)
class DemoDepartment:
    name_en: str
    name_ar: str


@dataclass(frozen=True)
class DemoPerson:
    phone: str
    full_name: str
    role: Role = Role.STAFF
    departments: tuple[str, ...] = ()


DEPARTMENTS = (
    DemoDepartment("Housekeeping", "التدبير المنزلي"),
    DemoDepartment("Room service", "خدمة الغرف"),
    DemoDepartment("Maintenance", "الصيانة"),
    DemoDepartment("Spa", "السبا"),
)
STAFF = (
    DemoPerson("+966555000001", "Demo Super-admin", Role.SUPERADMIN),
    DemoPerson("+966555000002", "Demo Admin", Role.ADMIN),
    DemoPerson("+966555000003", "Demo Housekeeper", Role.STAFF, ("Housekeeping", "Room service")),
    DemoPerson("+966555000004", "Demo Technician", Role.STAFF, ("Maintenance", "Spa")),
    DemoPerson("+966555000005", "Demo Viewer", Role.VIEWER),
)
GUEST = DemoPerson("+966555000010", "Demo Guest")


@dataclass
class DemoData:
    operator_password: str
    hotel_row: Hotel | None = None
    departments: dict[str, Department] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    operator_password_matches: bool | None = None

    @property
    def hotel(self) -> Hotel:
        if self.hotel_row is None:
            raise RuntimeError("seed_hotel must run before the steps that use the hotel.")
        return self.hotel_row


def seed_hotel(data: DemoData) -> None:
    hotel, created = Hotel.objects.get_or_create(
        slug=DEMO_HOTEL_SLUG,
        defaults={
            "name_en": "Refuje Demo Hotel",
            "name_ar": "فندق رفوجي التجريبي",
            "timezone": "Asia/Riyadh",
            "currency": "SAR",
        },
    )
    data.hotel_row = hotel
    if created:
        data.created.append(f"hotel {hotel.slug}")


def seed_departments(data: DemoData) -> None:
    for order, spec in enumerate(DEPARTMENTS):
        # Either name identifies the department, so one renamed in the admin is not created twice.
        department = Department.objects.filter(
            Q(name_en__iexact=spec.name_en) | Q(name_ar__iexact=spec.name_ar), hotel=data.hotel
        ).first()
        if department is None:
            department = Department.objects.create(
                hotel=data.hotel, name_en=spec.name_en, name_ar=spec.name_ar, display_order=order
            )
            data.created.append(f"department {spec.name_en}")
        data.departments[spec.name_en] = department


def _user(data: DemoData, person: DemoPerson, user_type: str) -> User:
    user = User.objects.filter(phone_number=person.phone).first()
    if user is None:
        user = User.objects.create_user(
            person.phone, None, full_name=person.full_name, user_type=user_type, preferred_language=Language.ARABIC
        )
        data.created.append(f"user {person.phone}")
    return user


def seed_staff(data: DemoData) -> None:
    for person in STAFF:
        user = _user(data, person, UserType.STAFF)
        membership, created = HotelMembership.objects.get_or_create(
            user=user, hotel=data.hotel, defaults={"role": person.role}
        )
        if created:
            membership.departments.set([data.departments[name] for name in person.departments])
            data.created.append(f"membership {person.phone} {person.role}")


def seed_guest(data: DemoData) -> None:
    _user(data, GUEST, UserType.GUEST)


def seed_operator(data: DemoData) -> None:
    """The platform operator (Django superuser) with a known password: DEBUG only."""
    password = data.operator_password
    if not settings.DEBUG:
        return
    operator = User.objects.filter(phone_number=OPERATOR_PHONE).first()
    if operator is None:
        User.objects.create_superuser(
            OPERATOR_PHONE, password, full_name="Platform operator", preferred_language=Language.ENGLISH
        )
        data.created.append(f"superuser {OPERATOR_PHONE}")
        data.operator_password_matches = True
        return
    matches = operator.check_password(password)
    if not matches and "DEMO_ADMIN_PASSWORD" in os.environ:
        # An explicitly configured password wins over one changed by hand; the default does not.
        operator.set_password(password)
        operator.save(update_fields=["password"])
        data.created.append(f"password of {OPERATOR_PHONE}")
        matches = True
    data.operator_password_matches = matches


# Order matters: later steps use the rows earlier ones created. A new kind of demo row (room QR
# codes, stays, experiences) is one more function here.
SEED_STEPS: tuple[Callable[[DemoData], None], ...] = (
    seed_hotel,
    seed_departments,
    seed_staff,
    seed_guest,
    seed_operator,
)


def local_form(phone: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL)


def summary(data: DemoData) -> dict[str, Any]:
    operator: dict[str, Any] | None = None
    if settings.DEBUG:
        operator = {
            "phone": OPERATOR_PHONE,
            "local": local_form(OPERATOR_PHONE),
            "password": data.operator_password if data.operator_password_matches else None,
        }
    return {
        "hotel": {"slug": data.hotel.slug, "name_en": data.hotel.name_en, "name_ar": data.hotel.name_ar},
        "staff": [
            {
                "phone": person.phone,
                "local": local_form(person.phone),
                "full_name": person.full_name,
                "role": str(person.role),
                "departments": list(person.departments),
            }
            for person in STAFF
        ],
        "guest": {"phone": GUEST.phone, "local": local_form(GUEST.phone)},
        "operator": operator,
        "created": data.created,
    }


class Command(BaseCommand):
    help = "Create the demo hotel, its departments, staff of every role and a demo guest (idempotent, DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off (no superuser then).")
        parser.add_argument("--json", action="store_true", help="Print the demo accounts as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with well-known phone numbers, so it runs only with DEBUG=true "
                "(use --force to seed anyway; the demo superuser is still never created then)."
            )
        data = DemoData(operator_password=os.environ.get("DEMO_ADMIN_PASSWORD") or DEFAULT_OPERATOR_PASSWORD)
        with transaction.atomic():
            for step in SEED_STEPS:
                step(data)
        result = summary(data)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self._print(result)

    def _print(self, result: dict[str, Any]) -> None:
        hotel = result["hotel"]
        self.stdout.write(f"Demo hotel: {hotel['name_en']} / {hotel['name_ar']} (slug {hotel['slug']})")
        for person in result["staff"]:
            departments = f" [{', '.join(person['departments'])}]" if person["departments"] else ""
            self.stdout.write(f"  {person['role']:<10} {person['phone']}  {person['full_name']}{departments}")
        self.stdout.write(f"  {'GUEST':<10} {result['guest']['phone']}")
        operator = result["operator"]
        if operator is not None:
            password = operator["password"] or "(changed since it was seeded)"
            self.stdout.write(f"  superuser  {operator['phone']}  password: {password}")
        elif not settings.DEBUG:
            self.stdout.write("No demo superuser outside DEBUG: use `manage.py createsuperuser`.")
        created = result["created"]
        self.stdout.write(f"Created {len(created)} rows." if created else "Demo data already present; nothing changed.")
