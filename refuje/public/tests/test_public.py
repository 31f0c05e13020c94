import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from refuje.common.testing.factories import DepartmentFactory, HotelFactory
from refuje.common.testing.tenancy import PERSONAS, Endpoint, matrix_cases
from refuje.experiences.tests.factories import ExperienceFactory, ExperienceImageFactory
from refuje.qrcodes.models import QRCode, QRTargetType
from refuje.qrcodes.tests.factories import QRCodeFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def anonymous(language="en"):
    return APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)


def scan(token, language="en", client=None):
    return (client or anonymous(language)).get(f"/api/v1/public/qr/{token}/")


@pytest.fixture
def hotel():
    return HotelFactory.create(slug="grand", name_ar="الفندق الكبير", name_en="Grand Hotel", primary_color="#123456")


# --- QR codes -------------------------------------------------------------------------------


def test_a_room_code_shows_branding_and_the_room_in_the_guests_language(hotel):
    code = QRCodeFactory.create(hotel=hotel, room_number="101")

    arabic = scan(code.token, "ar")
    english = scan(code.token, "en")

    assert arabic.status_code == english.status_code == 200
    assert arabic.json()["hotel"] == {
        "slug": "grand",
        "name_ar": "الفندق الكبير",
        "name_en": "Grand Hotel",
        "name": "الفندق الكبير",
        "primary_color": "#123456",
        "logo_url": None,
        "languages": ["ar", "en"],
    }
    assert english.json()["hotel"]["name"] == "Grand Hotel"
    assert english.json()["target"] == {
        "type": "room",
        "room_number": "101",
        "location_label": None,
        "department": None,
        "experience": None,
    }
    assert english["Cache-Control"] == "no-store"
    assert "Accept-Language" in english["Vary"]


def test_department_and_experience_codes_describe_their_target(hotel):
    department = DepartmentFactory.create(hotel=hotel, name_ar="السبا", name_en="Spa")
    experience = ExperienceFactory.create(hotel=hotel, department=department, title_en="Massage", price_minor=25000)
    ExperienceImageFactory.create(experience=experience, position=1, thumbnail="experiences/second-thumb.jpg")
    ExperienceImageFactory.create(experience=experience, position=0, thumbnail="experiences/first-thumb.jpg")
    department_code = QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=department
    )
    experience_code = QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.EXPERIENCE, room_number="", experience=experience
    )

    by_department = scan(department_code.token, "ar").json()["target"]
    by_experience = scan(experience_code.token).json()["target"]

    assert by_department["type"] == "department"
    assert by_department["department"] == {"id": department.pk, "name_ar": "السبا", "name_en": "Spa", "name": "السبا"}
    assert by_experience["type"] == "experience"
    assert by_experience["experience"]["title"] == "Massage"
    assert by_experience["experience"]["price"] == {"amount_minor": 25000, "currency": "SAR"}
    assert by_experience["experience"]["thumbnail_url"] == "http://testserver/media/experiences/first-thumb.jpg"


def test_each_scan_is_counted(hotel):
    code = QRCodeFactory.create(hotel=hotel)

    for _ in range(3):
        assert scan(code.token).status_code == 200

    code.refresh_from_db()
    assert code.scan_count == 3
    assert code.last_scanned_at is not None


def test_inactive_unknown_and_malformed_codes_are_the_same_404(hotel):
    inactive = QRCodeFactory.create(hotel=hotel, is_active=False)
    in_closed_hotel = QRCodeFactory.create(hotel=HotelFactory.create(is_active=False))
    closed_department = DepartmentFactory.create(hotel=hotel, is_active=False)
    to_closed_department = QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=closed_department
    )
    to_inactive_experience = QRCodeFactory.create(
        hotel=hotel,
        target_type=QRTargetType.EXPERIENCE,
        room_number="",
        experience=ExperienceFactory.create(hotel=hotel, is_active=False),
    )
    tokens = [
        inactive.token,
        in_closed_hotel.token,
        to_closed_department.token,
        to_inactive_experience.token,
        "A" * 32,
        "x" * 500,
        "not a token!",
    ]

    for token in tokens:
        response = scan(token)
        assert response.status_code == 404, token
        assert response.json() == NOT_FOUND

    assert set(QRCode.objects.values_list("scan_count", flat=True)) == {0}


def test_a_stale_sign_in_cookie_does_not_break_the_landing(hotel):
    code = QRCodeFactory.create(hotel=hotel)
    client = anonymous()
    client.cookies[settings.AUTH_ACCESS_COOKIE] = "expired.or.forged"

    assert scan(code.token, client=client).status_code == 200
    assert client.get(f"/api/v1/public/hotels/{hotel.slug}/").status_code == 200


# --- hotel catalogue ------------------------------------------------------------------------


def test_public_hotel_shows_only_active_departments_and_experiences(hotel):
    spa = DepartmentFactory.create(hotel=hotel, name_en="Spa", display_order=2)
    tours = DepartmentFactory.create(hotel=hotel, name_en="Tours", display_order=1)
    closed = DepartmentFactory.create(hotel=hotel, is_active=False)
    DepartmentFactory.create()  # another hotel
    massage = ExperienceFactory.create(hotel=hotel, department=spa, title_en="Massage", display_order=1)
    ExperienceImageFactory.create(experience=massage, thumbnail="experiences/massage-thumb.jpg")
    desert = ExperienceFactory.create(hotel=hotel, department=tours, title_en="Desert", display_order=0)
    ExperienceFactory.create(hotel=hotel, department=spa, is_active=False)
    ExperienceFactory.create(hotel=hotel, department=closed)
    ExperienceFactory.create()  # another hotel

    response = anonymous().get(f"/api/v1/public/hotels/{hotel.slug}/")

    assert response.status_code == 200
    data = response.json()
    assert (data["slug"], data["name"], data["languages"]) == ("grand", "Grand Hotel", ["ar", "en"])
    assert [item["id"] for item in data["departments"]] == [tours.pk, spa.pk]
    assert [item["id"] for item in data["experiences"]] == [desert.pk, massage.pk]
    listed_massage = data["experiences"][1]
    assert listed_massage["price"] == {"amount_minor": 15000, "currency": "SAR"}
    assert listed_massage["department"] == spa.pk
    assert listed_massage["thumbnail_url"] == "http://testserver/media/experiences/massage-thumb.jpg"
    assert data["experiences"][0]["thumbnail_url"] is None


def test_public_hotel_is_localised(hotel):
    DepartmentFactory.create(hotel=hotel, name_ar="السبا", name_en="Spa")
    ExperienceFactory.create(hotel=hotel, title_ar="مساج", title_en="Massage")

    data = anonymous("ar").get(f"/api/v1/public/hotels/{hotel.slug}/").json()

    assert data["name"] == "الفندق الكبير"
    assert data["departments"][0]["name"] == "السبا"
    assert data["experiences"][0]["title"] == "مساج"
    assert data["experiences"][0]["title_en"] == "Massage"


@pytest.mark.parametrize("slug", ["closed", "missing", "GRAND"])
def test_inactive_or_unknown_hotels_are_404(hotel, slug):
    HotelFactory.create(slug="closed", is_active=False)

    response = anonymous().get(f"/api/v1/public/hotels/{slug}/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_public_hotel_costs_the_same_queries_for_one_and_twenty_experiences(hotel):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = anonymous().get(f"/api/v1/public/hotels/{hotel.slug}/")
        assert response.status_code == 200
        return len(queries), len(response.json()["experiences"])

    ExperienceImageFactory.create(experience=ExperienceFactory.create(hotel=hotel))
    one = count_queries()
    for _ in range(19):
        ExperienceImageFactory.create_batch(2, experience=ExperienceFactory.create(hotel=hotel))
    twenty = count_queries()

    assert (one[1], twenty[1]) == (1, 20)
    assert one[0] == twenty[0]


def test_scan_costs_the_same_queries_whatever_the_target(hotel):
    experience = ExperienceFactory.create(hotel=hotel)
    ExperienceImageFactory.create_batch(3, experience=experience)
    room = QRCodeFactory.create(hotel=hotel)
    offer = QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.EXPERIENCE, room_number="", experience=experience
    )

    counts = []
    for code in (room, offer):
        with CaptureQueriesContext(connection) as queries:
            assert scan(code.token).status_code == 200
        counts.append(len(queries))

    assert counts == [2, 2]  # one read, one counting UPDATE


# --- every persona gets the same public answer ----------------------------------------------


def objects(world):
    world.extra["a_qr"] = QRCodeFactory.create(hotel=world.a.hotel)
    world.extra["a_off"] = QRCodeFactory.create(hotel=world.a.hotel, is_active=False)
    ExperienceFactory.create(hotel=world.a.hotel, department=world.a.department)
    ExperienceFactory.create(hotel=world.b.hotel, department=world.b.department)


def only_hotel_a(world, persona, response):
    data = response.json()
    assert data["slug"] == world.a.slug
    assert {item["id"] for item in data["departments"]} == {world.a.department.pk}
    assert {item["department"] for item in data["experiences"]} == {world.a.department.pk}


def same_for(status):
    return dict.fromkeys(PERSONAS, status)


ENDPOINTS = [
    Endpoint("qr", "GET", "/api/v1/public/qr/{w.extra[a_qr].token}/", setup=objects, expect=same_for(200)),
    Endpoint("qr-inactive", "GET", "/api/v1/public/qr/{w.extra[a_off].token}/", setup=objects, expect=same_for(404)),
    Endpoint(
        "hotel", "GET", "/api/v1/public/hotels/{w.a.slug}/", setup=objects, verify=only_hotel_a, expect=same_for(200)
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_public_matrix(tenant_world, case):
    tenant_world.check(case)
