import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from refuje.accounts.sessions import session_start
from refuje.common.testing import images as fx
from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory
from refuje.compliance.models import AuditEvent
from refuje.experiences.models import Experience, ExperienceImage
from refuje.hotels.models import Role

from .conftest import stored_files
from .factories import ExperienceFactory, ExperienceImageFactory

pytestmark = pytest.mark.django_db


def signed_in(user, language="en"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
    return client


@pytest.fixture
def hotel():
    return HotelFactory.create(currency="SAR")


@pytest.fixture
def department(hotel):
    return DepartmentFactory.create(hotel=hotel, name_en="Spa", name_ar="السبا")


@pytest.fixture
def admin(hotel):
    return signed_in(MembershipFactory.create(hotel=hotel, role=Role.ADMIN).user)


@pytest.fixture
def viewer(hotel):
    return signed_in(MembershipFactory.create(hotel=hotel, role=Role.VIEWER).user)


def url(hotel, *parts):
    return "/".join([f"/api/v1/hotels/{hotel.slug}/experiences", *map(str, parts)]) + "/"


def body(department, **overrides):
    data = {
        "department": department.pk,
        "title_ar": "مساج",
        "title_en": "Massage",
        "description_en": "Sixty calm minutes.",
        "price": {"amount_minor": 15000},
        "duration_minutes": 60,
        "capacity": 1,
    }
    data.update(overrides)
    return data


# --- create and read ------------------------------------------------------------------------


def test_admin_creates_an_experience_priced_in_the_hotels_currency(admin, hotel, department):
    response = admin.post(url(hotel), body(department), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["price"] == {"amount_minor": 15000, "currency": "SAR"}
    assert data["department"]["id"] == department.pk
    assert data["title"] == "Massage"
    assert data["rating_average"] == "0.00"
    assert data["rating_count"] == 0
    assert data["images"] == []
    created = Experience.objects.get(pk=data["id"])
    assert (created.hotel, created.price_minor, created.currency) == (hotel, 15000, "SAR")
    assert AuditEvent.objects.filter(action="experience.create", target_id=str(created.pk)).exists()


def test_an_explicit_currency_wins_over_the_hotels(admin, hotel, department):
    response = admin.post(url(hotel), body(department, price={"amount_minor": 500, "currency": "KWD"}), format="json")

    assert response.status_code == 201
    assert response.json()["price"] == {"amount_minor": 500, "currency": "KWD"}


def test_localised_fields_follow_accept_language(hotel):
    experience = ExperienceFactory.create(hotel=hotel, title_ar="جولة", title_en="Tour")
    reader = MembershipFactory.create(hotel=hotel, role=Role.VIEWER).user

    arabic = signed_in(reader, "ar").get(url(hotel, experience.pk)).json()
    english = signed_in(reader, "en").get(url(hotel, experience.pk)).json()

    assert (arabic["title"], english["title"]) == ("جولة", "Tour")
    assert arabic["title_en"] == "Tour"
    assert english["title_ar"] == "جولة"


def test_a_department_of_another_hotel_is_a_field_error(admin, hotel):
    foreign = DepartmentFactory.create()

    response = admin.post(url(hotel), body(foreign), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "department" in response.json()
    assert not Experience.objects.exists()


def test_an_unknown_department_reads_like_a_foreign_one(admin, hotel):
    foreign = DepartmentFactory.create()
    unknown_id = foreign.pk + 1000

    foreign_answer = admin.post(url(hotel), body(foreign), format="json").json()
    unknown_answer = admin.post(url(hotel), {**body(foreign), "department": unknown_id}, format="json").json()

    assert foreign_answer == unknown_answer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", {"amount_minor": -1}),
        ("price", {"amount_minor": 2**31}),
        ("price", {"amount_minor": 100, "currency": "riyal"}),
        ("duration_minutes", 0),
        ("capacity", 0),
        ("title_en", ""),
    ],
)
def test_invalid_values_are_field_errors_and_nothing_is_created(admin, hotel, department, field, value):
    response = admin.post(url(hotel), body(department, **{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Experience.objects.exists()


def test_viewer_reads_but_cannot_write(viewer, hotel, department):
    experience = ExperienceFactory.create(hotel=hotel, department=department)

    assert viewer.get(url(hotel)).status_code == 200
    assert viewer.get(url(hotel, experience.pk)).status_code == 200
    for response in (
        viewer.post(url(hotel), body(department), format="json"),
        viewer.patch(url(hotel, experience.pk), {"title_en": "Changed"}, format="json"),
        viewer.delete(url(hotel, experience.pk)),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "role_too_low"
    experience.refresh_from_db()
    assert (experience.title_en, experience.is_active) != ("Changed", False)
    assert Experience.objects.count() == 1


# --- change and remove ----------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(admin, hotel, department):
    experience = ExperienceFactory.create(hotel=hotel, department=department, price_minor=100, currency="SAR")
    other = DepartmentFactory.create(hotel=hotel)

    response = admin.patch(
        url(hotel, experience.pk),
        {"price": {"amount_minor": 2500}, "department": other.pk, "capacity": 4},
        format="json",
    )

    assert response.status_code == 200, response.content
    experience.refresh_from_db()
    assert (experience.price_minor, experience.currency, experience.department, experience.capacity) == (
        2500,
        "SAR",
        other,
        4,
    )
    event = AuditEvent.objects.get(action="experience.update")
    assert event.before == {"department_id": department.pk, "price_minor": 100, "capacity": 2}


def test_patch_to_a_foreign_department_is_refused(admin, hotel, department):
    experience = ExperienceFactory.create(hotel=hotel, department=department)

    response = admin.patch(url(hotel, experience.pk), {"department": DepartmentFactory.create().pk}, format="json")

    assert response.status_code == 400
    assert "department" in response.json()
    experience.refresh_from_db()
    assert experience.department == department


def test_patch_with_a_negative_price_is_refused(admin, hotel):
    experience = ExperienceFactory.create(hotel=hotel, price_minor=100)

    response = admin.patch(url(hotel, experience.pk), {"price": {"amount_minor": -5}}, format="json")

    assert response.status_code == 400
    experience.refresh_from_db()
    assert experience.price_minor == 100


def test_delete_deactivates_and_patch_brings_it_back(admin, hotel):
    experience = ExperienceFactory.create(hotel=hotel)

    assert admin.delete(url(hotel, experience.pk)).status_code == 204
    experience.refresh_from_db()
    assert experience.is_active is False
    assert admin.get(url(hotel, experience.pk)).json()["is_active"] is False
    assert admin.get(url(hotel) + "?is_active=true").json()["count"] == 0

    assert admin.patch(url(hotel, experience.pk), {"is_active": True}, format="json").status_code == 200
    experience.refresh_from_db()
    assert experience.is_active is True


def test_list_filters_by_department_and_orders_by_display_order(admin, hotel, department):
    second = ExperienceFactory.create(hotel=hotel, department=department, display_order=2)
    first = ExperienceFactory.create(hotel=hotel, department=department, display_order=1)
    ExperienceFactory.create(hotel=hotel)  # another department
    ExperienceFactory.create()  # another hotel

    data = admin.get(url(hotel) + f"?department={department.pk}").json()

    assert [item["id"] for item in data["results"]] == [first.pk, second.pk]


def test_list_costs_the_same_queries_for_one_and_fifty_experiences(admin, hotel, department):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin.get(url(hotel))
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    ExperienceImageFactory.create(experience=ExperienceFactory.create(hotel=hotel, department=department))
    one = count_queries()
    for _ in range(49):
        experience = ExperienceFactory.create(hotel=hotel, department=DepartmentFactory.create(hotel=hotel))
        ExperienceImageFactory.create_batch(2, experience=experience)
    fifty = count_queries()

    assert (one[1], fifty[1]) == (1, 50)
    assert one[0] == fifty[0]


# --- images ---------------------------------------------------------------------------------


def upload(client, hotel, experience, data, name="photo.jpg", **extra):
    return client.post(
        url(hotel, experience.pk, "images"),
        {"image": fx.upload(data, name=name), **extra},
        format="multipart",
    )


def test_image_upload_goes_through_the_pipeline(admin, hotel, media_root):
    experience = ExperienceFactory.create(hotel=hotel)
    photo = fx.jpeg_bytes(fx.noise((3000, 1500)), exif=fx.camera_exif())

    response = upload(admin, hotel, experience, photo, alt_en="The pool")

    assert response.status_code == 201, response.content
    data = response.json()
    image = ExperienceImage.objects.get(pk=data["id"])
    assert (image.width, image.height) == (2048, 1024)
    assert data["alt_en"] == "The pool"
    assert data["thumbnail_url"].startswith("http://testserver/media/experiences/")
    names = [image.image.name, image.thumbnail.name]
    assert stored_files(media_root) == sorted(str(name) for name in names)
    with default_storage.open(str(names[0])) as handle, Image.open(handle) as stored:
        assert not stored.getexif()
    listed = admin.get(url(hotel, experience.pk)).json()["images"]
    assert [item["id"] for item in listed] == [image.pk]


def test_images_are_appended_in_order(admin, hotel):
    experience = ExperienceFactory.create(hotel=hotel)

    ids = [upload(admin, hotel, experience, fx.png_bytes()).json()["id"] for _ in range(3)]

    assert list(ExperienceImage.objects.filter(experience=experience).values_list("pk", "position")) == [
        (ids[0], 0),
        (ids[1], 1),
        (ids[2], 2),
    ]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (fx.html_document(), "photo.jpg"),
        (fx.png_header_only(50_000, 50_000), "huge.png"),
        (fx.jpeg_bytes()[:40], "cut.jpg"),
        (fx.encode(fx.solid(), "GIF"), "anim.gif"),
    ],
)
def test_a_bad_file_is_a_400_and_nothing_is_stored(admin, hotel, media_root, data, name):
    experience = ExperienceFactory.create(hotel=hotel)
    audit_before = AuditEvent.objects.count()

    response = upload(admin, hotel, experience, data, name=name)

    assert response.status_code == 400
    assert "image" in response.json()
    assert not ExperienceImage.objects.exists()
    assert stored_files(media_root) == []
    assert AuditEvent.objects.count() == audit_before


def test_an_oversize_file_is_a_413_and_nothing_is_stored(admin, hotel, media_root, settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 10_000
    experience = ExperienceFactory.create(hotel=hotel)

    response = upload(admin, hotel, experience, fx.jpeg_bytes(fx.noise((400, 400))))

    assert response.status_code == 413
    assert response.json()["code"] == "image_too_large"
    assert stored_files(media_root) == []


def test_upload_without_a_file_is_a_field_error(admin, hotel):
    experience = ExperienceFactory.create(hotel=hotel)

    response = admin.post(url(hotel, experience.pk, "images"), {"alt_en": "x"}, format="multipart")

    assert response.status_code == 400
    assert "image" in response.json()


def test_the_image_limit_is_a_conflict_and_stores_nothing(admin, hotel, media_root, settings):
    settings.EXPERIENCE_MAX_IMAGES = 1
    experience = ExperienceFactory.create(hotel=hotel)
    assert upload(admin, hotel, experience, fx.png_bytes()).status_code == 201
    files = stored_files(media_root)

    response = upload(admin, hotel, experience, fx.png_bytes())

    assert response.status_code == 409
    assert response.json()["code"] == "too_many_images"
    assert stored_files(media_root) == files
    assert ExperienceImage.objects.count() == 1


def test_removing_an_image_deletes_its_files_after_commit(admin, hotel, media_root, django_capture_on_commit_callbacks):
    experience = ExperienceFactory.create(hotel=hotel)
    image_id = upload(admin, hotel, experience, fx.png_bytes()).json()["id"]
    assert len(stored_files(media_root)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.delete(url(hotel, experience.pk, "images", image_id))

    assert response.status_code == 204
    assert not ExperienceImage.objects.exists()
    assert stored_files(media_root) == []
    assert AuditEvent.objects.filter(action="experience.image_remove").count() == 1


def test_an_image_cannot_be_removed_through_another_experience(admin, hotel):
    mine = ExperienceFactory.create(hotel=hotel)
    image = ExperienceImageFactory.create(experience=ExperienceFactory.create(hotel=hotel))

    response = admin.delete(url(hotel, mine.pk, "images", image.pk))

    assert response.status_code == 404
    assert ExperienceImage.objects.filter(pk=image.pk).exists()
