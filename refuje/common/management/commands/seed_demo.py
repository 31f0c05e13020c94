"""`manage.py seed_demo`: a lived-in demo hotel. Departments with working hours (one of them open
past midnight) and response times, staff of every role, a room QR code, three experiences, two
guests with active stays, service requests in every state of their lifecycle and, in DEBUG, a
platform operator with a known password.

Stays, policies, experiences, the QR code and the requests are made by the same service functions
the API uses, so every request has its activity log and every change its audit event.

Every row is looked up by its natural key and created only when missing, so a second run (or a run
after someone edited the demo data in the admin) changes nothing. The accounts have well-known
phone numbers, which is why the command refuses to run outside DEBUG unless forced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from refuje.accounts.models import Language, User, UserType
from refuje.bookings.models import ExperienceBookingPolicy, StaffScheduleInterval
from refuje.bookings.services import booking_policy_set, staff_schedule_set
from refuje.concierge import services as concierge
from refuje.concierge.hours import Window
from refuje.concierge.models import CreatedVia, DepartmentPolicy, RequestStatus, ServiceRequest
from refuje.experiences.models import Experience
from refuje.experiences.services import experience_create
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.qrcodes.models import QRCode, QRTargetType
from refuje.qrcodes.services import qr_code_create
from refuje.stays.models import GuestStay
from refuje.stays.selectors import stay_active
from refuje.stays.services import stay_register

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
    DemoDepartment("Concierge", "الكونسيرج"),
)
STAFF = (
    DemoPerson("+966555000001", "Demo Super-admin", Role.SUPERADMIN),
    DemoPerson("+966555000002", "Demo Admin", Role.ADMIN),
    DemoPerson("+966555000003", "Demo Housekeeper", Role.STAFF, ("Housekeeping", "Room service")),
    DemoPerson("+966555000004", "Demo Technician", Role.STAFF, ("Maintenance", "Spa")),
    DemoPerson("+966555000005", "Demo Viewer", Role.VIEWER),
)
GUEST = DemoPerson("+966555000010", "Demo Guest")
SECOND_GUEST = DemoPerson("+966555000011", "Demo Guest Two")


@dataclass(frozen=True)
class DemoStay:
    guest: DemoPerson
    room: str
    nights: int


STAYS = (DemoStay(GUEST, "1204", 4), DemoStay(SECOND_GUEST, "1507", 2))
QR_ROOM = "1204"


@dataclass(frozen=True)
class DemoPolicy:
    """Every day of the week opens `start`..`end` (an end at or before the start runs past midnight)."""

    department: str
    start: time
    end: time
    sla_minutes: int
    after_hours_sla_minutes: int


POLICIES = (
    DemoPolicy("Housekeeping", time(7), time(23), 15, 60),
    DemoPolicy("Room service", time(6), time(2), 10, 30),  # open until 02:00 the next morning
    DemoPolicy("Maintenance", time(8), time(20), 20, 90),
    DemoPolicy("Spa", time(10), time(22), 30, 120),
    DemoPolicy("Concierge", time(8), time(22), 15, 60),
)


@dataclass(frozen=True)
class DemoExperience:
    department: str
    title_en: str
    title_ar: str
    description_en: str
    description_ar: str
    price_minor: int  # halalas
    duration_minutes: int
    capacity: int


EXPERIENCES = (
    DemoExperience(
        "Spa",
        "Spa massage",
        "مساج في السبا",
        "Sixty minutes of Swedish massage with warm oils.",
        "ستون دقيقة من المساج السويدي بالزيوت الدافئة.",
        35000,
        60,
        1,
    ),
    DemoExperience(
        "Concierge",
        "Desert tour",
        "جولة صحراوية",
        "Dune drive at sunset, Arabic coffee and dinner under the stars.",
        "قيادة على الكثبان عند الغروب وقهوة عربية وعشاء تحت النجوم.",
        45000,
        240,
        6,
    ),
    DemoExperience(
        "Spa",
        "Personal training",
        "تدريب شخصي",
        "A session with a personal trainer in the hotel gym.",
        "جلسة مع مدرب شخصي في النادي الرياضي بالفندق.",
        20000,
        45,
        1,
    ),
)


@dataclass(frozen=True)
class DemoRequest:
    """A request and the lifecycle actions that bring it to `status` (its description identifies it)."""

    description: str
    department: str
    guest: DemoPerson
    status: str
    experience: str = ""
    reason: str = ""
    by_staff: bool = False
    note: str = ""


REQUESTS = (
    DemoRequest("Two more towels and a bathrobe, please.", "Housekeeping", GUEST, RequestStatus.NEW),
    DemoRequest(
        "Guest called reception: the air conditioning is very loud.",
        "Maintenance",
        GUEST,
        RequestStatus.ACKNOWLEDGED,
        by_staff=True,
    ),
    DemoRequest(
        "Couples massage tomorrow evening, please.",
        "Spa",
        SECOND_GUEST,
        RequestStatus.CONFIRMED,
        experience="Spa massage",
        reason="Booked for 20:00 in treatment room 2.",
    ),
    DemoRequest(
        "عشاء في الغرفة: طبق مشاوي مشكلة وعصير برتقال.",
        "Room service",
        SECOND_GUEST,
        RequestStatus.IN_PROGRESS,
        note="The kitchen has the order.",
    ),
    DemoRequest("Please make up the room at 2 pm.", "Housekeeping", SECOND_GUEST, RequestStatus.COMPLETED),
    DemoRequest(
        "Desert tour for six tonight.",
        "Concierge",
        GUEST,
        RequestStatus.DECLINED,
        experience="Desert tour",
        reason="Tonight's tour is full; tomorrow has places.",
    ),
    DemoRequest(
        "Breakfast in the room at 7 am.", "Room service", GUEST, RequestStatus.CANCELLED, reason="Plans changed."
    ),
    DemoRequest(
        "The bathroom light flickers.",
        "Maintenance",
        SECOND_GUEST,
        RequestStatus.EXPIRED,
        reason="Nobody acknowledged it in time.",
    ),
)
# Who works each department's demo requests.
WORKERS = {
    "Housekeeping": "+966555000003",
    "Room service": "+966555000003",
    "Maintenance": "+966555000004",
    "Spa": "+966555000004",
    "Concierge": "+966555000002",
}
ACTING_ADMIN = "+966555000001"


@dataclass
class DemoData:
    operator_password: str
    hotel_row: Hotel | None = None
    departments: dict[str, Department] = field(default_factory=dict)
    experiences: dict[str, Experience] = field(default_factory=dict)
    stays: dict[str, GuestStay] = field(default_factory=dict)
    qr_code: QRCode | None = None
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
    for stay in STAYS:
        _user(data, stay.guest, UserType.GUEST)


def _member(data: DemoData, phone: str) -> User:
    """The demo member with `phone`, or any admin of the hotel when someone removed them since."""
    memberships = HotelMembership.objects.select_related("user").filter(hotel=data.hotel, is_active=True)
    membership = (
        memberships.filter(user__phone_number=phone).first()
        or memberships.filter(role__in=[Role.SUPERADMIN, Role.ADMIN]).order_by("id").first()
    )
    if membership is None:
        raise CommandError("The demo hotel has no active admin left to act for the demo data.")
    return membership.user


def _membership_ids(data: DemoData, *phones: str) -> list[int]:
    return list(
        HotelMembership.objects.filter(hotel=data.hotel, is_active=True, user__phone_number__in=phones).values_list(
            "pk", flat=True
        )
    )


def seed_policies(data: DemoData) -> None:
    """Working hours and response times, unless a department already has its own."""
    escalation = {1: _membership_ids(data, "+966555000002"), 2: _membership_ids(data, ACTING_ADMIN)}
    for spec in POLICIES:
        department = data.departments[spec.department]
        if DepartmentPolicy.objects.filter(department=department).exists():
            continue
        concierge.department_policy_set(
            actor=_member(data, ACTING_ADMIN),
            department=department,
            sla_minutes=spec.sla_minutes,
            after_hours_sla_minutes=spec.after_hours_sla_minutes,
            reminder_interval_minutes=30,
            windows=[Window(weekday, spec.start, spec.end) for weekday in range(7)],
            escalation=escalation,
        )
        data.created.append(f"policy {spec.department}")


def seed_experiences(data: DemoData) -> None:
    for order, spec in enumerate(EXPERIENCES):
        experience = Experience.objects.filter(
            Q(title_en__iexact=spec.title_en) | Q(title_ar__iexact=spec.title_ar), hotel=data.hotel
        ).first()
        if experience is None:
            experience = experience_create(
                actor=_member(data, ACTING_ADMIN),
                hotel=data.hotel,
                department_id=data.departments[spec.department].pk,
                title_en=spec.title_en,
                title_ar=spec.title_ar,
                description_en=spec.description_en,
                description_ar=spec.description_ar,
                price_minor=spec.price_minor,
                currency=data.hotel.currency,
                duration_minutes=spec.duration_minutes,
                capacity=spec.capacity,
                display_order=order,
            )
            data.created.append(f"experience {spec.title_en}")
        data.experiences[spec.title_en] = experience


# Bookable in the demo: the spa therapist (STAFF, Maintenance and Spa) offers these, daily
# 10:00–22:00 hotel time with a break 14:00–15:00.
BOOKABLE_EXPERIENCES = ("Spa massage", "Personal training")
THERAPIST = "+966555000004"


def seed_bookings_setup(data: DemoData) -> None:
    """A working week for the therapist and a booking policy for the bookable experiences,
    unless someone already set them."""
    therapist = HotelMembership.objects.filter(hotel=data.hotel, user__phone_number=THERAPIST, is_active=True).first()
    if therapist is None:
        return
    actor = _member(data, ACTING_ADMIN)
    if not StaffScheduleInterval.objects.filter(membership=therapist).exists():
        staff_schedule_set(
            actor=actor,
            membership=therapist,
            work=[Window(weekday, time(10), time(22)) for weekday in range(7)],
            breaks=[Window(weekday, time(14), time(15)) for weekday in range(7)],
        )
        data.created.append("schedule therapist")
    for title in BOOKABLE_EXPERIENCES:
        experience = data.experiences.get(title)
        if experience is None or ExperienceBookingPolicy.objects.filter(experience=experience).exists():
            continue
        booking_policy_set(
            actor=actor,
            experience=experience,
            bookable_staff=[therapist.pk],
            buffer_after_minutes=15,
            min_notice_minutes=60,
            max_advance_days=30,
            slot_step_minutes=30,
            free_cancellation_hours=24,
            late_cancellation_fee_percent=50,
            no_show_fee_percent=100,
        )
        data.created.append(f"booking policy {title}")


def seed_room_qr_code(data: DemoData) -> None:
    code = QRCode.objects.filter(hotel=data.hotel, target_type=QRTargetType.ROOM, room_number=QR_ROOM).first()
    if code is None:
        code = qr_code_create(
            actor=_member(data, ACTING_ADMIN),
            hotel=data.hotel,
            target_type=QRTargetType.ROOM,
            room_number=QR_ROOM,
            label=f"Room {QR_ROOM}",
        )
        data.created.append(f"QR code room {QR_ROOM}")
    data.qr_code = code


def seed_stays(data: DemoData) -> None:
    today = timezone.localdate(timezone=data.hotel.tz)
    for spec in STAYS:
        guest = User.objects.get(phone_number=spec.guest.phone)
        stay = stay_active(hotel=data.hotel, guest=guest)
        if stay is None:
            stay = stay_register(
                actor=_member(data, ACTING_ADMIN),
                hotel=data.hotel,
                phone=spec.guest.phone,
                room=spec.room,
                check_in=today,
                check_out=today + timedelta(days=spec.nights),
                full_name=spec.guest.full_name,
            )
            data.created.append(f"stay {spec.guest.phone} room {spec.room}")
        data.stays[spec.guest.phone] = stay


def seed_requests(data: DemoData) -> None:
    """Requests in every state, moved there by the lifecycle's own service functions."""
    for spec in REQUESTS:
        if ServiceRequest.objects.filter(hotel=data.hotel, description=spec.description).exists():
            continue
        stay = data.stays[spec.guest.phone]
        worker = _member(data, WORKERS[spec.department])
        department_id = data.departments[spec.department].pk
        experience = data.experiences.get(spec.experience) if spec.experience else None
        if spec.by_staff:
            request = concierge.service_request_create_for_guest(
                actor=worker,
                hotel=data.hotel,
                stay_id=stay.pk,
                description=spec.description,
                department_id=department_id,
            )
        else:
            request = concierge.service_request_create(
                actor=stay.guest,
                stay=stay,
                description=spec.description,
                created_via=CreatedVia.GUEST,
                department_id=department_id,
                experience_id=experience.pk if experience is not None else None,
            )
        _move(request, spec, worker=worker, guest=stay.guest, today=timezone.localdate(timezone=data.hotel.tz))
        data.created.append(f"request {spec.status}")


def _move(request: ServiceRequest, spec: DemoRequest, *, worker: User, guest: User, today: date) -> None:
    if spec.status == RequestStatus.CANCELLED:
        concierge.service_request_cancel_by_guest(actor=guest, request=request, reason=spec.reason)
        return
    if spec.status == RequestStatus.EXPIRED:
        concierge.service_request_expire(request=request, reason=spec.reason)
        return
    if spec.status == RequestStatus.NEW:
        return
    concierge.service_request_acknowledge(actor=worker, request=request)
    if spec.status == RequestStatus.CONFIRMED:
        tomorrow_evening = datetime.combine(today + timedelta(days=1), time(20), tzinfo=request.hotel.tz)
        concierge.service_request_confirm(
            actor=worker, request=request, reason=spec.reason, scheduled_for=tomorrow_evening
        )
    elif spec.status == RequestStatus.DECLINED:
        concierge.service_request_decline(actor=worker, request=request, reason=spec.reason)
    elif spec.status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        concierge.service_request_start(actor=worker, request=request)
        if spec.status == RequestStatus.COMPLETED:
            concierge.service_request_complete(actor=worker, request=request)
    if spec.note:
        concierge.service_request_add_note(actor=worker, request=request, note=spec.note)


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


# Order matters: later steps use the rows earlier ones created (requests need the policies that
# set their deadlines, the stays they are asked on and the experiences they are about).
SEED_STEPS: tuple[Callable[[DemoData], None], ...] = (
    seed_hotel,
    seed_departments,
    seed_staff,
    seed_guest,
    seed_operator,
    seed_policies,
    seed_experiences,
    seed_bookings_setup,
    seed_room_qr_code,
    seed_stays,
    seed_requests,
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
        "guests": [
            {
                "phone": spec.guest.phone,
                "local": local_form(spec.guest.phone),
                "full_name": spec.guest.full_name,
                "room": stay.room if (stay := data.stays.get(spec.guest.phone)) else None,
            }
            for spec in STAYS
        ],
        "qr_code": _qr_summary(data.qr_code),
        "experiences": [
            {
                "title_en": experience.title_en,
                "title_ar": experience.title_ar,
                "price": {"amount_minor": experience.price_minor, "currency": experience.currency},
            }
            for experience in data.experiences.values()
        ],
        "requests": _requests_by_status(data.hotel),
        "operator": operator,
        "created": data.created,
    }


def _qr_summary(code: QRCode | None) -> dict[str, Any] | None:
    if code is None:
        return None
    return {
        "label": code.label,
        "room": code.room_number,
        "token": code.token,
        "public_path": f"/api/v1/public/qr/{code.token}/",
    }


def _requests_by_status(hotel: Hotel) -> dict[str, int]:
    counts = dict(
        ServiceRequest.objects.filter(hotel=hotel)
        .order_by()
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {status: counts.get(status, 0) for status in RequestStatus.values}


class Command(BaseCommand):
    help = (
        "Create the demo hotel: departments with hours, staff of every role, guests with stays, experiences, "
        "a room QR code and requests in every state (idempotent, DEBUG only)."
    )

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
        for guest in result["guests"]:
            room = f"  room {guest['room']}" if guest["room"] else ""
            self.stdout.write(f"  {'GUEST':<10} {guest['phone']}  {guest['full_name']}{room}")
        code = result["qr_code"]
        if code is not None:
            self.stdout.write(f"  QR code    {code['label']}: {code['public_path']}")
        for experience in result["experiences"]:
            price = experience["price"]
            self.stdout.write(
                f"  experience {experience['title_en']} / {experience['title_ar']}: "
                f"{price['amount_minor']} {price['currency']} minor units"
            )
        requests = ", ".join(f"{status} {count}" for status, count in result["requests"].items() if count)
        self.stdout.write(f"  requests   {requests or 'none'}")
        operator = result["operator"]
        if operator is not None:
            password = operator["password"] or "(changed since it was seeded)"
            self.stdout.write(f"  superuser  {operator['phone']}  password: {password}")
        elif not settings.DEBUG:
            self.stdout.write("No demo superuser outside DEBUG: use `manage.py createsuperuser`.")
        created = result["created"]
        self.stdout.write(f"Created {len(created)} rows." if created else "Demo data already present; nothing changed.")
