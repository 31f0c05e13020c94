"""Tenant matrix over every reviews endpoint: other guests' items and other hotels' reviews get the one
404; roles too low get 403; nothing changes on a refusal; the public endpoint shows one hotel's
published reviews to everyone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.tenancy import (
    ANONYMOUS,
    GUEST,
    OTHER_GUEST,
    Endpoint,
    TenantWorld,
    everyone,
    hotel_scoped,
    matrix_cases,
)
from refuje.concierge.models import RequestStatus
from refuje.experiences.models import Experience
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role
from refuje.reviews import services
from refuje.reviews.models import Review

REVIEWS = (Review, Experience)
A = "/api/v1/hotels/{w.a.slug}"


def objects(world: TenantWorld) -> None:
    a, b = world.a, world.b
    a_exp = ExperienceFactory.create(hotel=a.hotel, department=a.department)
    b_exp = ExperienceFactory.create(hotel=b.hotel, department=b.department)

    def completed_request(hotel, department, guest, experience):
        stay = GuestStayFactory.create(hotel=hotel, guest=guest)
        return ServiceRequestFactory.create(
            hotel=hotel, stay=stay, department=department, experience=experience, status=RequestStatus.COMPLETED
        )

    def completed_booking(tenant, experience, customer, days):
        start = timezone.now() - timedelta(days=days)
        return BookingFactory.create(
            hotel=tenant.hotel,
            experience=experience,
            staff=tenant.staff,
            customer=customer,
            status=BookingStatus.COMPLETED,
            start=start,
        )

    b_booking = completed_booking(b, b_exp, world.other_guest, 3)
    reviewer = GuestStayFactory.create(hotel=a.hotel).guest
    a_review = services.review_create_for_booking(
        author=reviewer, booking=completed_booking(a, a_exp, reviewer, 4), rating=4, text="Hotel A review"
    )
    b_review = services.review_create_for_booking(
        author=world.other_guest, booking=b_booking, rating=1, text="Hotel B review"
    )
    world.extra.update(
        a_exp=a_exp,
        b_exp=b_exp,
        a_req=completed_request(a.hotel, a.department, world.guest, a_exp),
        other_req=completed_request(a.hotel, a.department, world.other_guest, a_exp),
        a_booking=completed_booking(a, a_exp, world.guest, 1),
        other_booking=completed_booking(a, a_exp, world.other_guest, 2),
        a_review=a_review,
        b_review=b_review,
    )


def only_hotel_a(world: TenantWorld, persona: str, response) -> None:
    seen = {item["id"] for item in response.json()["results"]}
    assert seen == {world.extra["a_review"].pk}, (persona, seen)


def nothing_from_b(world: TenantWorld, persona: str, response) -> None:
    assert response.json()["results"] == [], persona


def public_is_hotel_a(world: TenantWorld, persona: str, response) -> None:
    body = response.json()
    assert [item["text"] for item in body["results"]] == ["Hotel A review"], persona
    assert body["summary"]["count"] == 1


MODERATE = {"action": "hide", "reason": "Off topic"}
# Everyone may read the public page, signed in or not.
PUBLIC_OK = {**everyone(200), ANONYMOUS: 200}
PUBLIC_404 = {**everyone(404), ANONYMOUS: 404}

ENDPOINTS = [
    Endpoint(
        "request-review",
        "POST",
        "/api/v1/guest/requests/{w.extra[a_req].pk}/review/",
        body={"rating": 5},
        setup=objects,
        watch=REVIEWS,
        expect=everyone(404, guest=201),
    ),
    Endpoint(
        "request-review-other-guests",
        "POST",
        "/api/v1/guest/requests/{w.extra[other_req].pk}/review/",
        body={"rating": 5},
        setup=objects,
        watch=REVIEWS,
        expect=everyone(404, other_guest=201),
    ),
    Endpoint(
        "booking-review",
        "POST",
        "/api/v1/bookings/{w.extra[a_booking].pk}/review/",
        body={"rating": 5},
        setup=objects,
        watch=REVIEWS,
        expect=everyone(404, guest=201),
    ),
    Endpoint(
        "booking-review-other-customers",
        "POST",
        "/api/v1/bookings/{w.extra[other_booking].pk}/review/",
        body={"rating": 5},
        setup=objects,
        watch=REVIEWS,
        expect=everyone(404, other_guest=201),
    ),
    Endpoint(
        "staff-list",
        "GET",
        A + "/reviews/",
        setup=objects,
        verify=only_hotel_a,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "staff-list-b-experience",
        "GET",
        A + "/reviews/?experience={w.extra[b_exp].pk}",
        setup=objects,
        verify=nothing_from_b,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "moderate",
        "POST",
        A + "/reviews/{w.extra[a_review].pk}/moderate/",
        body=MODERATE,
        setup=objects,
        watch=REVIEWS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "moderate-b-id",
        "POST",
        A + "/reviews/{w.extra[b_review].pk}/moderate/",
        body=MODERATE,
        setup=objects,
        watch=REVIEWS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "public",
        "GET",
        "/api/v1/public/hotels/{w.a.slug}/experiences/{w.extra[a_exp].pk}/reviews/",
        setup=objects,
        verify=public_is_hotel_a,
        expect=PUBLIC_OK,
    ),
    Endpoint(
        "public-b-experience-through-a",
        "GET",
        "/api/v1/public/hotels/{w.a.slug}/experiences/{w.extra[b_exp].pk}/reviews/",
        setup=objects,
        expect=PUBLIC_404,
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)


@pytest.mark.parametrize("persona", [GUEST, OTHER_GUEST])
def test_a_guest_who_reviewed_at_the_hotel_still_cannot_list_or_moderate(tenant_world, persona):
    objects(tenant_world)
    review = tenant_world.extra["b_review"]
    slug = tenant_world.b.slug

    listed = tenant_world.request(persona, "GET", f"/api/v1/hotels/{slug}/reviews/")
    moderated = tenant_world.request(persona, "POST", f"/api/v1/hotels/{slug}/reviews/{review.pk}/moderate/", MODERATE)

    assert (listed.status_code, moderated.status_code) == (404, 404)
    review.refresh_from_db()
    assert review.is_hidden is False
