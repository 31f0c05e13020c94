"""The reviews API: guests review completed requests and bookings once, staff moderate, anyone reads
an experience's published reviews. Ratings follow every change in the same transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from refuje.bookings.models import BookingStatus
from refuje.compliance.models import AuditEvent
from refuje.concierge.models import RequestStatus
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.reviews import services
from refuje.reviews.events import REVIEW_CREATED, REVIEW_HIDDEN, REVIEW_PUBLISHED, review_event
from refuje.reviews.models import Review

pytestmark = pytest.mark.django_db


def request_url(request) -> str:
    return f"/api/v1/guest/requests/{request.pk}/review/"


def booking_url(booking) -> str:
    return f"/api/v1/bookings/{booking.pk}/review/"


def public_url(scene, experience=None) -> str:
    experience = experience or scene.experience
    return f"/api/v1/public/hotels/{scene.hotel.slug}/experiences/{experience.pk}/reviews/"


def staff_url(scene) -> str:
    return f"/api/v1/hotels/{scene.hotel.slug}/reviews/"


def moderate_url(scene, review) -> str:
    return f"/api/v1/hotels/{scene.hotel.slug}/reviews/{review.pk}/moderate/"


def post(client, url, body, language="en"):
    return client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE=language)


def rating_of(obj) -> tuple[Decimal, int]:
    obj.refresh_from_db()
    return obj.rating_average, obj.rating_count


def review(scene, rating, *, author=None, hidden=False, booking=True, text="") -> Review:
    """A review through the service (and hidden through moderation, so ratings stay right)."""
    if booking:
        author = author or scene.another_guest()
        made = services.review_create_for_booking(
            author=author, booking=scene.booking(customer=author), rating=rating, text=text
        )
    else:
        made = services.review_create_for_request(author=scene.guest, request=scene.request(), rating=rating, text=text)
    if hidden:
        made = services.review_moderate(actor=scene.admin.user, review=made, action="hide", reason="Spam")
    return made


# --- Request reviews ------------------------------------------------------------------------


def test_a_guest_reviews_a_completed_request_of_an_experience(scene):
    request = scene.request(experience=scene.experience)

    response = post(scene.client(scene.guest), request_url(request), {"rating": 4, "text": "  Lovely, thanks  "})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rating"] == 4
    assert body["text"] == "Lovely, thanks"
    assert body["request"] == request.pk
    assert body["booking"] is None
    assert body["is_hidden"] is False
    stored = Review.objects.get(pk=body["id"])
    assert (stored.author, stored.hotel, stored.experience, stored.staff) == (
        scene.guest,
        scene.hotel,
        scene.experience,
        None,
    )
    assert rating_of(scene.experience) == (Decimal("4.00"), 1)


def test_a_request_without_experience_counts_for_no_experience(scene):
    request = scene.request()

    response = post(scene.client(scene.guest), request_url(request), {"rating": 2})

    assert response.status_code == 201, response.content
    assert Review.objects.get().experience is None
    assert rating_of(scene.experience) == (Decimal("0.00"), 0)


@pytest.mark.parametrize(
    "status", [RequestStatus.NEW, RequestStatus.IN_PROGRESS, RequestStatus.CANCELLED, RequestStatus.DECLINED]
)
def test_a_request_that_is_not_completed_cannot_be_reviewed(scene, status):
    request = scene.request(status=status)

    response = post(scene.client(scene.guest), request_url(request), {"rating": 5})

    assert response.status_code == 409
    assert response.json() == {"detail": "Only a completed request can be reviewed.", "code": "not_completed"}
    assert not Review.objects.exists()


def test_a_request_is_reviewed_only_once(scene):
    request = scene.request(experience=scene.experience)
    client = scene.client(scene.guest)
    assert post(client, request_url(request), {"rating": 5}).status_code == 201

    again = post(client, request_url(request), {"rating": 1, "text": "Changed my mind"})

    assert again.status_code == 409
    assert again.json() == {"detail": "You have already reviewed this.", "code": "already_reviewed"}
    assert Review.objects.get().rating == 5
    assert rating_of(scene.experience) == (Decimal("5.00"), 1)


def test_another_guests_request_is_not_found(scene):
    request = scene.request()
    stranger = scene.another_guest()

    response = post(scene.client(stranger), request_url(request), {"rating": 1})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Review.objects.exists()


def test_staff_cannot_review_a_guests_request(scene):
    response = post(scene.client(scene.admin.user), request_url(scene.request()), {"rating": 1})

    assert response.status_code == 404


def test_reviewing_needs_a_sign_in(scene):
    response = post(scene.client(), request_url(scene.request()), {"rating": 1})

    assert response.status_code == 401


# --- Booking reviews ------------------------------------------------------------------------


def test_a_customer_reviews_a_completed_booking_for_experience_and_staff(scene):
    booking = scene.booking()

    response = post(scene.client(scene.guest), booking_url(booking), {"rating": 5, "text": "Best massage"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["booking"] == booking.pk
    assert body["request"] is None
    stored = Review.objects.get(pk=body["id"])
    assert (stored.experience, stored.staff) == (scene.experience, scene.therapist)
    assert rating_of(scene.experience) == (Decimal("5.00"), 1)
    assert rating_of(scene.therapist) == (Decimal("5.00"), 1)


def test_ratings_are_the_rounded_mean_of_the_reviews_they_count(scene):
    for rating in (5, 4, 4, 1):
        review(scene, rating)
    assert rating_of(scene.experience) == (Decimal("3.50"), 4)
    assert rating_of(scene.therapist) == (Decimal("3.50"), 4)

    # A request about the same experience counts for the experience, not for the therapist.
    services.review_create_for_request(author=scene.guest, request=scene.request(experience=scene.experience), rating=2)

    assert rating_of(scene.experience) == (Decimal("3.20"), 5)
    assert rating_of(scene.therapist) == (Decimal("3.50"), 4)


def test_two_thirds_round_half_up_to_two_decimals(scene):
    for rating in (5, 5, 4):
        review(scene, rating)

    assert rating_of(scene.experience) == (Decimal("4.67"), 3)


@pytest.mark.parametrize(
    "status",
    [BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW],
)
def test_a_booking_that_is_not_completed_cannot_be_reviewed(scene, status):
    booking = scene.booking(status=status)

    response = post(scene.client(scene.guest), booking_url(booking), {"rating": 5})

    assert response.status_code == 409
    assert response.json() == {"detail": "Only a completed booking can be reviewed.", "code": "not_completed"}
    assert not Review.objects.exists()
    assert rating_of(scene.therapist) == (Decimal("0.00"), 0)


def test_a_booking_is_reviewed_only_once(scene):
    booking = scene.booking()
    client = scene.client(scene.guest)
    assert post(client, booking_url(booking), {"rating": 3}).status_code == 201

    again = post(client, booking_url(booking), {"rating": 5})

    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"
    assert rating_of(scene.therapist) == (Decimal("3.00"), 1)


def test_another_customers_booking_is_not_found(scene):
    booking = scene.booking()

    response = post(scene.client(scene.another_guest()), booking_url(booking), {"rating": 1})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Review.objects.exists()


# --- Validation in both languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "english", "arabic"),
    [
        ({"rating": 6}, "rating", "Ensure this value is less than or equal to 5.", "تأكد ان القيمة أقل من أو تساوي 5."),
        (
            {"rating": 0},
            "rating",
            "Ensure this value is greater than or equal to 1.",
            "تأكد ان القيمة أكبر من أو تساوي 1.",
        ),
        ({}, "rating", "This field is required.", "هذا الحقل مطلوب."),
        ({"rating": "five"}, "rating", "A valid integer is required.", "الرجاء إدخال رقم صحيح صالح."),
        (
            {"rating": 4, "text": "x" * 2001},
            "text",
            "Ensure this field has no more than 2000 characters.",
            "تأكد ان عدد الحروف في هذا الحقل لا تتجاوز 2000.",
        ),
    ],
)
def test_bad_input_is_explained_in_the_requests_language(scene, body, field, english, arabic):
    request = scene.request()
    client = scene.client(scene.guest)

    in_english = post(client, request_url(request), body, language="en")
    in_arabic = post(client, request_url(request), body, language="ar")

    assert in_english.status_code == in_arabic.status_code == 400
    assert in_english.json() == {field: [english], "code": "invalid"}
    assert in_arabic.json() == {field: [arabic], "code": "invalid"}
    assert not Review.objects.exists()


def test_conflicts_are_explained_in_the_requests_language(scene):
    request = scene.request(status=RequestStatus.NEW)

    response = post(scene.client(scene.guest), request_url(request), {"rating": 5}, language="ar")

    assert response.status_code == 409
    with translation.override("ar"):
        expected = gettext("Only a completed request can be reviewed.")
    assert response.json() == {"detail": expected, "code": "not_completed"}


def test_the_service_refuses_a_rating_out_of_range(scene):
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            services.review_create_for_request(author=scene.guest, request=scene.request(), rating=7)

        assert caught.value.message_dict == {"rating": ["Give a rating from 1 to 5."]}


# --- Public reviews -------------------------------------------------------------------------


def test_the_public_sees_published_reviews_and_their_summary(scene):
    review(scene, 5, text="Wonderful")
    review(scene, 4)
    review(scene, 4)
    review(scene, 1, hidden=True, text="Rude words")
    review(scene, 3, booking=False)  # a request review without experience counts elsewhere
    ExperienceFactory.create(hotel=scene.hotel)

    response = scene.client().get(public_url(scene))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [item["rating"] for item in body["results"]] == [4, 4, 5]  # newest first
    assert body["summary"] == {
        "average": 4.33,
        "count": 3,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
    }
    assert "Rude words" not in response.content.decode()


def test_the_public_sees_no_personal_data(scene):
    services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=5, text="Great")

    item = scene.client().get(public_url(scene)).json()["results"][0]

    assert set(item) == {"id", "rating", "text", "author_name", "created_at"}
    assert item["author_name"] == "Sara A."
    assert scene.guest.phone_number not in str(item)


@pytest.mark.parametrize(
    ("full_name", "language", "shown"),
    [
        ("Sara Al-Harbi", "en", "Sara A."),
        ("Omar", "en", "Omar"),
        ("سارة بنت علي", "ar", "سارة ع."),
        ("", "en", "Guest"),
        ("  ", "ar", "ضيف"),
    ],
)
def test_reviewers_appear_by_first_name_and_initial(scene, full_name, language, shown):
    author = scene.another_guest()
    author.full_name = full_name
    author.save()
    services.review_create_for_booking(author=author, booking=scene.booking(customer=author), rating=4)

    item = scene.client().get(public_url(scene), HTTP_ACCEPT_LANGUAGE=language).json()["results"][0]

    assert item["author_name"] == shown


def test_the_public_list_is_paginated(scene):
    for _ in range(3):
        review(scene, 5)

    body = scene.client().get(public_url(scene) + "?page_size=2&page=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 1
    assert body["summary"]["count"] == 3


def test_an_experience_without_reviews_has_an_empty_summary(scene):
    body = scene.client().get(public_url(scene)).json()

    assert body["results"] == []
    assert body["summary"] == {
        "average": None,
        "count": 0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }


def test_inactive_or_foreign_experiences_are_not_found(scene):
    inactive = ExperienceFactory.create(hotel=scene.hotel, is_active=False)
    foreign = ExperienceFactory.create()
    client = scene.client()

    assert client.get(public_url(scene, inactive)).status_code == 404
    assert client.get(public_url(scene, foreign)).status_code == 404
    scene.hotel.is_active = False
    scene.hotel.save()
    assert client.get(public_url(scene)).status_code == 404


# --- Staff list and moderation --------------------------------------------------------------


def test_staff_list_shows_hidden_reviews_and_filters(scene):
    five = review(scene, 5)
    hidden = review(scene, 1, hidden=True)
    request_review = review(scene, 3, booking=False)
    other_experience = ExperienceFactory.create(hotel=scene.hotel, department=scene.department)
    elsewhere = services.review_create_for_request(
        author=scene.guest, request=scene.request(experience=other_experience), rating=5
    )
    client = scene.client(scene.viewer.user)

    def ids(query=""):
        response = client.get(staff_url(scene) + query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    assert ids() == [elsewhere.pk, request_review.pk, hidden.pk, five.pk]
    assert ids("?hidden=true") == [hidden.pk]
    assert ids("?hidden=false") == [elsewhere.pk, request_review.pk, five.pk]
    assert ids("?rating=5") == [elsewhere.pk, five.pk]
    assert ids(f"?experience={scene.experience.pk}") == [hidden.pk, five.pk]
    assert ids(f"?staff={scene.therapist.pk}") == [hidden.pk, five.pk]
    assert ids(f"?experience={scene.experience.pk}&rating=1&hidden=true") == [hidden.pk]


def test_staff_list_rejects_bad_filters(scene):
    response = scene.client(scene.viewer.user).get(staff_url(scene) + "?rating=9", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"rating": ["Ensure this value is less than or equal to 5."], "code": "invalid"}


def test_hiding_a_review_takes_it_out_of_ratings_and_is_audited(scene):
    kept = review(scene, 5)
    bad = review(scene, 1)
    assert rating_of(scene.experience) == (Decimal("3.00"), 2)

    response = post(scene.client(scene.admin.user), moderate_url(scene, bad), {"action": "hide", "reason": "Insults"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_hidden"] is True
    assert body["moderation_reason"] == "Insults"
    assert body["moderated_by"]["id"] == scene.admin.user.pk
    assert body["moderated_at"] is not None
    assert rating_of(scene.experience) == (Decimal("5.00"), 1)
    assert rating_of(scene.therapist) == (Decimal("5.00"), 1)
    event = AuditEvent.objects.get(action="review.hide")
    assert (event.actor, event.hotel, event.target_id) == (scene.admin.user, scene.hotel, str(bad.pk))
    assert event.before == {"rating": 1, "is_hidden": False, "moderation_reason": ""}
    assert event.after == {"rating": 1, "is_hidden": True, "moderation_reason": "Insults"}
    public = scene.client().get(public_url(scene)).json()
    assert [item["id"] for item in public["results"]] == [kept.pk]


def test_publishing_brings_a_hidden_review_back(scene):
    review(scene, 5)
    hidden = review(scene, 2, hidden=True)
    assert rating_of(scene.experience) == (Decimal("5.00"), 1)

    response = post(scene.client(scene.admin.user), moderate_url(scene, hidden), {"action": "publish"})

    assert response.status_code == 200, response.content
    assert response.json()["is_hidden"] is False
    assert rating_of(scene.experience) == (Decimal("3.50"), 2)
    assert AuditEvent.objects.filter(action="review.publish", target_id=str(hidden.pk)).count() == 1


def test_repeating_the_current_state_changes_nothing(scene):
    hidden = review(scene, 2, hidden=True)
    audits = AuditEvent.objects.count()

    response = post(scene.client(scene.admin.user), moderate_url(scene, hidden), {"action": "hide", "reason": "Again"})

    assert response.status_code == 200
    assert response.json()["moderation_reason"] == "Spam"
    assert AuditEvent.objects.count() == audits


def test_hiding_needs_a_reason_in_the_requests_language(scene):
    target = review(scene, 1)
    client = scene.client(scene.admin.user)

    english = post(client, moderate_url(scene, target), {"action": "hide"}, language="en")
    arabic = post(client, moderate_url(scene, target), {"action": "hide", "reason": "   "}, language="ar")

    assert english.status_code == arabic.status_code == 400
    assert english.json() == {"reason": ["This field may not be blank."], "code": "invalid"}
    assert arabic.json() == {"reason": ["لا يمكن ترك هذا الحقل فارغًا."], "code": "invalid"}
    target.refresh_from_db()
    assert target.is_hidden is False


def test_an_unknown_moderation_action_is_refused(scene):
    target = review(scene, 1)

    response = post(scene.client(scene.admin.user), moderate_url(scene, target), {"action": "delete"})

    assert response.status_code == 400
    assert response.json() == {"action": ['"delete" is not a valid choice.'], "code": "invalid"}


def test_moderating_needs_an_admin(scene):
    target = review(scene, 1)

    response = post(scene.client(scene.therapist.user), moderate_url(scene, target), {"action": "hide", "reason": "x"})

    assert response.status_code == 403
    assert response.json()["code"] == "role_too_low"
    target.refresh_from_db()
    assert target.is_hidden is False


# --- Events ---------------------------------------------------------------------------------


def test_each_change_publishes_one_event_after_commit(scene, django_capture_on_commit_callbacks):
    seen = []

    def listener(sender, kind, review, **kwargs):
        seen.append((kind, review.pk))

    review_event.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            made = services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=4)
        with django_capture_on_commit_callbacks(execute=True):
            services.review_moderate(actor=scene.admin.user, review=made, action="hide", reason="Spam")
        with django_capture_on_commit_callbacks(execute=True):
            services.review_moderate(actor=scene.admin.user, review=made, action="hide", reason="Spam")
        with django_capture_on_commit_callbacks(execute=True):
            services.review_moderate(actor=scene.admin.user, review=made, action="publish")
    finally:
        review_event.disconnect(listener)

    assert seen == [(REVIEW_CREATED, made.pk), (REVIEW_HIDDEN, made.pk), (REVIEW_PUBLISHED, made.pk)]


def test_a_refused_review_publishes_nothing(scene, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(services.NotCompleted):
        services.review_create_for_booking(
            author=scene.guest, booking=scene.booking(status=BookingStatus.CONFIRMED), rating=4
        )

    assert callbacks == []


def test_the_staff_members_rating_shows_in_the_members_api(scene):
    review(scene, 4)
    review(scene, 1)
    review(scene, 2, hidden=True)  # hidden reviews do not count

    response = scene.client(scene.admin.user).get(f"/api/v1/hotels/{scene.hotel.slug}/members/{scene.therapist.pk}/")

    assert response.status_code == 200, response.content
    assert (response.json()["rating_average"], response.json()["rating_count"]) == ("2.50", 2)
