import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import PdfParser
from rest_framework.test import APIClient

from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory
from refuje.compliance.models import AuditEvent
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role
from refuje.qrcodes import rendering
from refuje.qrcodes.models import QRCode, QRTargetType

from .factories import QRCodeFactory
from .qr_decoding import expected_matrix, png_matrix, svg_matrix

pytestmark = pytest.mark.django_db


def signed_in(user, language="en"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
    return client


@pytest.fixture
def hotel():
    return HotelFactory.create(slug="grand", name_en="Grand Hotel", name_ar="الفندق الكبير")


@pytest.fixture
def admin(hotel):
    return signed_in(MembershipFactory.create(hotel=hotel, role=Role.ADMIN).user)


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://guest.example.com/"
    return "https://guest.example.com"


def url(hotel, *parts):
    return "/".join([f"/api/v1/hotels/{hotel.slug}/qr-codes", *map(str, parts)])


# --- create ---------------------------------------------------------------------------------


def test_admin_creates_a_room_code_with_a_derived_label(admin, hotel):
    response = admin.post(url(hotel) + "/", {"target_type": "room", "room_number": " 101 "}, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    code = QRCode.objects.get(pk=data["id"])
    assert (code.hotel, code.target_type, code.room_number, code.label) == (hotel, "room", "101", "Room 101")
    assert data["url"] == f"https://guest.example.com/q/{code.token}"
    assert data["image_png"] == f"http://testserver{url(hotel, code.pk, 'image.png')}"
    assert data["scan_count"] == 0
    assert AuditEvent.objects.filter(action="qr_code.create", target_id=str(code.pk)).exists()


def test_department_experience_and_location_codes(admin, hotel):
    department = DepartmentFactory.create(hotel=hotel, name_en="Housekeeping")
    experience = ExperienceFactory.create(hotel=hotel, title_en="Desert tour")

    created = [
        admin.post(url(hotel) + "/", body, format="json").json()
        for body in (
            {"target_type": "department", "department": department.pk},
            {"target_type": "experience", "experience": experience.pk, "label": "Tour desk"},
            {"target_type": "location", "location_label": "Pool bar"},
        )
    ]

    assert [(item["department"], item["experience"], item["location_label"], item["label"]) for item in created] == [
        (department.pk, None, "", "Housekeeping"),
        (None, experience.pk, "", "Tour desk"),
        (None, None, "Pool bar", "Pool bar"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_type": "room"}, "room_number"),
        ({"target_type": "room", "room_number": "   "}, "room_number"),
        ({"target_type": "room", "room_number": "1", "location_label": "Lobby"}, "location_label"),
        ({"target_type": "location", "location_label": "Lobby", "department": 1}, "department"),
        ({"target_type": "department"}, "department"),
        ({"target_type": "experience"}, "experience"),
        ({"target_type": "garden", "room_number": "1"}, "target_type"),
        ({"target_type": "room", "room_number": "1" * 21}, "room_number"),
    ],
)
def test_the_target_must_match_the_kind_of_code(admin, hotel, body, field):
    response = admin.post(url(hotel) + "/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not QRCode.objects.exists()


@pytest.mark.parametrize("kind", ["department", "experience"])
def test_a_target_of_another_hotel_is_a_field_error(admin, hotel, kind):
    foreign = DepartmentFactory.create() if kind == "department" else ExperienceFactory.create()

    response = admin.post(url(hotel) + "/", {"target_type": kind, kind: foreign.pk}, format="json")

    assert response.status_code == 400
    assert kind in response.json()
    assert not QRCode.objects.exists()


def test_staff_and_viewers_cannot_manage_codes(hotel):
    code = QRCodeFactory.create(hotel=hotel)
    for role in (Role.VIEWER, Role.STAFF):
        client = signed_in(MembershipFactory.create(hotel=hotel, role=role).user)
        for response in (
            client.get(url(hotel) + "/"),
            client.post(url(hotel) + "/", {"target_type": "room", "room_number": "7"}, format="json"),
            client.get(url(hotel, code.pk, "image.png")),
            client.get(url(hotel, "sheet.pdf")),
        ):
            assert response.status_code == 403
            assert response.json()["code"] == "role_too_low"
    assert QRCode.objects.count() == 1


# --- change ---------------------------------------------------------------------------------


def test_patch_renames_and_deactivates(admin, hotel):
    code = QRCodeFactory.create(hotel=hotel, label="Old")

    response = admin.patch(url(hotel, code.pk) + "/", {"label": "New", "is_active": False}, format="json")

    assert response.status_code == 200
    code.refresh_from_db()
    assert (code.label, code.is_active) == ("New", False)
    assert AuditEvent.objects.get(action="qr_code.update").before == {"label": "Old", "is_active": True}


def test_patch_cannot_blank_the_label_or_touch_the_token(admin, hotel):
    code = QRCodeFactory.create(hotel=hotel, label="Keep")

    blank = admin.patch(url(hotel, code.pk) + "/", {"label": "  "}, format="json")
    token = admin.patch(url(hotel, code.pk) + "/", {"token": "x" * 40, "room_number": "9"}, format="json")

    assert blank.status_code == 400
    assert token.status_code == 200
    fresh = QRCode.objects.get(pk=code.pk)
    assert (fresh.label, fresh.token, fresh.room_number) == ("Keep", code.token, code.room_number)


def test_list_filters_and_costs_the_same_queries_for_one_and_fifty_codes(admin, hotel):
    def count_queries(query=""):
        with CaptureQueriesContext(connection) as queries:
            response = admin.get(url(hotel) + "/" + query)
        assert response.status_code == 200
        return len(queries), response.json()

    QRCodeFactory.create(hotel=hotel)
    QRCodeFactory.create()  # another hotel
    one_queries, one = count_queries()
    department = DepartmentFactory.create(hotel=hotel)
    QRCodeFactory.create_batch(48, hotel=hotel)
    QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=department, is_active=False
    )
    fifty_queries, fifty = count_queries()

    assert (one["count"], fifty["count"]) == (1, 50)
    assert one_queries == fifty_queries
    assert count_queries("?is_active=false")[1]["count"] == 1
    assert count_queries("?target_type=room")[1]["count"] == 49


# --- images ---------------------------------------------------------------------------------


def test_png_encodes_the_guest_landing_url(admin, hotel):
    code = QRCodeFactory.create(hotel=hotel)
    landing = f"https://guest.example.com/q/{code.token}"

    response = admin.get(url(hotel, code.pk, "image.png"), HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="qr-grand-{code.pk}.png"'
    expected = expected_matrix(landing)
    assert png_matrix(response.content, len(expected)) == expected
    assert expected != expected_matrix(f"http://localhost:8000/q/{code.token}")


def test_svg_encodes_the_guest_landing_url_and_carries_the_label(admin, hotel):
    code = QRCodeFactory.create(hotel=hotel, label="Room <101>")
    expected = expected_matrix(f"https://guest.example.com/q/{code.token}")

    response = admin.get(url(hotel, code.pk, "image.svg"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == f'inline; filename="qr-grand-{code.pk}.svg"'
    assert response.content.startswith(b"<?xml")
    assert b"<title>Room &lt;101&gt;</title>" in response.content
    assert svg_matrix(response.content, len(expected)) == expected


def test_errors_of_image_endpoints_are_json_whatever_the_client_accepts(admin, hotel):
    response = admin.get(url(hotel, 999999, "image.png"), HTTP_ACCEPT="image/png")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


# --- sheet ----------------------------------------------------------------------------------


def pdf_pages(content):
    assert content.startswith(b"%PDF-")
    return len(PdfParser.PdfParser(buf=content).pages)


def test_sheet_prints_every_active_code_on_as_many_a4_pages_as_needed(admin, hotel):
    QRCodeFactory.create_batch(rendering.CODES_PER_PAGE + 1, hotel=hotel)
    QRCodeFactory.create(hotel=hotel, is_active=False)
    QRCodeFactory.create_batch(rendering.CODES_PER_PAGE, hotel=HotelFactory.create())

    response = admin.get(url(hotel, "sheet.pdf"), HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="qr-codes-grand.pdf"'
    assert pdf_pages(response.content) == 2
    page = PdfParser.PdfParser(buf=response.content).pages[0]
    assert page is not None


def test_sheet_pages_are_a4(admin, hotel):
    QRCodeFactory.create(hotel=hotel)

    content = admin.get(url(hotel, "sheet.pdf")).content

    parser = PdfParser.PdfParser(buf=content)
    media_box = parser.read_indirect(parser.pages[0])[b"MediaBox"]
    width_mm, height_mm = (float(value) / 72 * 25.4 for value in media_box[2:])
    assert (round(width_mm), round(height_mm)) == (210, 297)


def test_sheet_prints_a_chosen_subset(admin, hotel):
    codes = QRCodeFactory.create_batch(rendering.CODES_PER_PAGE * 2, hotel=hotel)

    comma = admin.get(url(hotel, "sheet.pdf") + f"?ids={codes[0].pk},{codes[1].pk}")
    repeated = admin.get(url(hotel, "sheet.pdf") + f"?ids={codes[0].pk}&ids={codes[5].pk}")

    assert pdf_pages(comma.content) == 1
    assert pdf_pages(repeated.content) == 1


def test_sheet_ids_of_other_hotels_or_inactive_codes_are_refused_alike(admin, hotel):
    mine = QRCodeFactory.create(hotel=hotel)
    inactive = QRCodeFactory.create(hotel=hotel, is_active=False)
    foreign = QRCodeFactory.create()

    response = admin.get(url(hotel, "sheet.pdf") + f"?ids={mine.pk},{inactive.pk},{foreign.pk}")

    assert response.status_code == 400
    message = response.json()["ids"][0]
    assert str(inactive.pk) in message
    assert str(foreign.pk) in message
    assert str(mine.pk) not in message.split(":")[-1]


@pytest.mark.parametrize("ids", ["abc", "1,,x", "-3", "0", "١٢", "99999999999999999999", ","])
def test_sheet_ids_must_be_whole_numbers(admin, hotel, ids):
    QRCodeFactory.create(hotel=hotel)

    response = admin.get(url(hotel, "sheet.pdf"), {"ids": ids})

    assert response.status_code == 400
    assert "ids" in response.json()


def test_sheet_without_active_codes_is_a_clear_400(admin, hotel):
    QRCodeFactory.create(hotel=hotel, is_active=False)

    response = admin.get(url(hotel, "sheet.pdf"))

    assert response.status_code == 400
    assert response.json()["code"] == "qr_sheet_empty"


def test_sheet_size_is_capped(admin, hotel, settings):
    settings.QR_SHEET_MAX_CODES = 3
    codes = QRCodeFactory.create_batch(4, hotel=hotel)

    everything = admin.get(url(hotel, "sheet.pdf"))
    too_many_ids = admin.get(url(hotel, "sheet.pdf"), {"ids": ",".join(str(code.pk) for code in codes)})

    assert everything.status_code == 400
    assert everything.json()["code"] == "qr_sheet_too_many"
    assert too_many_ids.status_code == 400
    assert "ids" in too_many_ids.json()


def test_sheet_renders_arabic_and_long_labels(admin, hotel):
    department = DepartmentFactory.create(hotel=hotel, name_ar="التدبير المنزلي")
    QRCodeFactory.create(hotel=hotel, label=("غرفة ١٠١ — الجناح الملكي المطل على البحر " * 3)[:120])
    QRCodeFactory.create(
        hotel=hotel, target_type=QRTargetType.DEPARTMENT, room_number="", department=department, label="x" * 120
    )

    response = signed_in(MembershipFactory.create(hotel=hotel, role=Role.ADMIN).user, "ar").get(url(hotel, "sheet.pdf"))

    assert response.status_code == 200
    assert pdf_pages(response.content) == 1
