import pytest

from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory, UserFactory
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Hotel, HotelMembership, Role

pytestmark = pytest.mark.django_db

HOTELS = "/api/v1/hotels/"


@pytest.fixture
def operator():
    return UserFactory.create(is_superuser=True, is_staff=True)


def new_hotel(**fields):
    return {"slug": "grand-riyadh", "name_ar": "الفندق الكبير", "name_en": "Grand Riyadh", **fields}


def test_member_lists_only_their_active_hotels_with_their_role():
    user = UserFactory.create()
    mine, other_mine, foreign, closed, left = HotelFactory.create_batch(5)
    MembershipFactory.create(user=user, hotel=mine, role=Role.ADMIN)
    MembershipFactory.create(user=user, hotel=other_mine, role=Role.VIEWER)
    MembershipFactory.create(hotel=foreign)
    Hotel.objects.filter(pk=closed.pk).update(is_active=False)
    MembershipFactory.create(user=user, hotel=closed)
    MembershipFactory.create(user=user, hotel=left, is_active=False)

    response = browser_client(user).get(HOTELS)

    assert response.status_code == 200
    roles = {item["slug"]: item["my_role"] for item in response.json()["results"]}
    assert roles == {mine.slug: "ADMIN", other_mine.slug: "VIEWER"}


def test_operator_lists_every_hotel_including_inactive(operator):
    hotels = HotelFactory.create_batch(3)
    Hotel.objects.filter(pk=hotels[0].pk).update(is_active=False)

    response = browser_client(operator).get(HOTELS)

    assert {item["slug"] for item in response.json()["results"]} == {h.slug for h in hotels}
    assert {item["my_role"] for item in response.json()["results"]} == {"SUPERADMIN"}


def test_guest_lists_no_hotels():
    response = browser_client(GuestFactory.create()).get(HOTELS)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_create_defaults_to_riyadh_time_and_riyals(operator):
    response = browser_client(operator).post(HOTELS, new_hotel(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["timezone"], body["currency"]) == ("grand-riyadh", "Asia/Riyadh", "SAR")
    hotel = Hotel.objects.get(slug="grand-riyadh")
    event = AuditEvent.objects.get(action="hotel.create")
    after = event.after or {}
    assert (event.actor, event.hotel, after["timezone"]) == (operator, hotel, "Asia/Riyadh")


def test_create_keeps_branding_contact_and_a_valid_time_zone(operator):
    payload = new_hotel(
        timezone="Africa/Cairo",
        currency="EGP",
        primary_color="#112233",
        contact_phone="٠٥٠١٢٣٤٥٦٧",
        contact_email="desk@grand.example",
    )
    response = browser_client(operator).post(HOTELS, payload, format="json")

    assert response.status_code == 201, response.content
    hotel = Hotel.objects.get(slug="grand-riyadh")
    assert (hotel.timezone, hotel.currency, hotel.primary_color) == ("Africa/Cairo", "EGP", "#112233")
    assert hotel.contact_phone == "+966501234567"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "asia/riyadh", "UTC+3", ""])
def test_create_rejects_a_time_zone_that_is_not_iana(operator, timezone):
    response = browser_client(operator).post(HOTELS, new_hotel(timezone=timezone), format="json")

    assert response.status_code == 400
    assert "timezone" in response.json()
    assert not Hotel.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Grand Riyadh"),
        ("slug", "UPPER"),
        ("currency", "riyal"),
        ("primary_color", "teal"),
        ("contact_phone", "not a phone"),
        ("name_en", ""),
    ],
)
def test_create_names_the_bad_field(operator, field, value):
    response = browser_client(operator).post(HOTELS, new_hotel(**{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert response.json()["code"] == "invalid"


def test_create_rejects_a_taken_slug_with_a_field_error(operator):
    HotelFactory.create(slug="grand-riyadh")

    response = browser_client(operator).post(HOTELS, new_hotel(), format="json")

    assert response.status_code == 400
    assert "slug" in response.json()
    assert Hotel.objects.count() == 1


def test_create_can_name_a_new_first_superadmin_by_phone(operator):
    payload = new_hotel(first_superadmin={"phone": "0551234567", "email": "Boss@Grand.example", "full_name": "Boss"})

    response = browser_client(operator).post(HOTELS, payload, format="json")

    assert response.status_code == 201, response.content
    membership = HotelMembership.objects.get(hotel__slug="grand-riyadh")
    assert membership.role == Role.SUPERADMIN
    user = membership.user
    assert (user.phone_number, user.email, user.user_type) == ("+966551234567", "boss@grand.example", "STAFF")
    assert not user.has_usable_password()


def test_create_promotes_an_existing_guest_to_first_superadmin(operator):
    guest = GuestFactory.create(phone_number="+966551234567", email=None)

    payload = new_hotel(first_superadmin={"phone": "+966 55 123 4567", "email": "boss@grand.example"})
    response = browser_client(operator).post(HOTELS, payload, format="json")

    assert response.status_code == 201, response.content
    guest.refresh_from_db()
    assert (guest.user_type, guest.email) == ("STAFF", "boss@grand.example")
    assert HotelMembership.objects.get(user=guest).role == Role.SUPERADMIN


def test_create_with_a_bad_first_superadmin_creates_nothing(operator):
    UserFactory.create(email="taken@grand.example")

    bad_phone = browser_client(operator).post(HOTELS, new_hotel(first_superadmin={"phone": "12"}), format="json")
    taken = browser_client(operator).post(
        HOTELS, new_hotel(first_superadmin={"phone": "0551234567", "email": "TAKEN@grand.example"}), format="json"
    )

    assert bad_phone.status_code == 400
    assert "phone" in bad_phone.json()["first_superadmin"]
    assert taken.status_code == 400
    assert "email" in taken.json()["first_superadmin"]
    assert not Hotel.objects.exists()
    assert not AuditEvent.objects.exists()


def test_admin_changes_settings_and_the_change_is_audited():
    admin = MembershipFactory.create(role=Role.ADMIN)
    hotel = admin.hotel
    old_name = hotel.name_en
    url = f"{HOTELS}{hotel.slug}/"

    response = browser_client(admin.user).patch(url, {"timezone": "Asia/Dubai", "name_en": "New"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["my_role"] == "ADMIN"
    hotel.refresh_from_db()
    assert (hotel.timezone, hotel.name_en) == ("Asia/Dubai", "New")
    event = AuditEvent.objects.get(action="hotel.update")
    assert event.before == {"timezone": "Asia/Riyadh", "name_en": old_name}
    assert event.after == {"timezone": "Asia/Dubai", "name_en": "New"}
    assert event.actor == admin.user


def test_patch_rejects_an_unknown_time_zone():
    admin = MembershipFactory.create(role=Role.ADMIN)

    response = browser_client(admin.user).patch(
        f"{HOTELS}{admin.hotel.slug}/", {"timezone": "Europe/Atlantis"}, format="json"
    )

    assert response.status_code == 400
    assert "timezone" in response.json()
    admin.hotel.refresh_from_db()
    assert admin.hotel.timezone == "Asia/Riyadh"


def test_slug_cannot_change_but_may_be_sent_unchanged():
    admin = MembershipFactory.create(role=Role.ADMIN)
    slug = admin.hotel.slug
    client = browser_client(admin.user)

    changed = client.patch(f"{HOTELS}{slug}/", {"slug": "new-slug", "name_en": "X"}, format="json")
    same = client.patch(f"{HOTELS}{slug}/", {"slug": slug, "name_en": "Y"}, format="json")

    assert changed.status_code == 400
    assert "slug" in changed.json()
    assert same.status_code == 200
    assert Hotel.objects.get(pk=admin.hotel.pk).slug == slug
    assert Hotel.objects.get(pk=admin.hotel.pk).name_en == "Y"


def test_viewer_reads_the_hotel_but_cannot_change_it():
    viewer = MembershipFactory.create(role=Role.VIEWER)
    client = browser_client(viewer.user)
    url = f"{HOTELS}{viewer.hotel.slug}/"

    assert client.get(url).json()["my_role"] == "VIEWER"
    refused = client.patch(url, {"name_en": "Mine"}, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "role_too_low"


def test_unknown_hotels_and_out_of_range_ids_are_not_found():
    client = browser_client(UserFactory.create(is_superuser=True))
    hotel = HotelFactory.create()

    assert client.get(f"{HOTELS}no-such-hotel/").status_code == 404
    assert client.get(f"{HOTELS}{hotel.slug}/departments/99999999999999999999999/").status_code == 404
    assert client.get(f"{HOTELS}{hotel.slug}/members/99999999999999999999999/").status_code == 404
