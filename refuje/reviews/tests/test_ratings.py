"""Ratings always equal the mean of the published reviews; the reconcile job finds and fixes drift."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from refuje.experiences.models import Experience
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import HotelMembership
from refuje.reviews import services
from refuje.reviews.models import Review
from refuje.reviews.ratings import rating_average, ratings_reconcile
from refuje.reviews.tasks import reconcile_ratings_task

from .conftest import build_scene

pytestmark = pytest.mark.django_db


def expected(ratings: list[int]) -> tuple[Decimal, int]:
    if not ratings:
        return Decimal("0.00"), 0
    mean = Decimal(sum(ratings)) / len(ratings)
    return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), len(ratings)


def stored(obj) -> tuple[Decimal, int]:
    obj.refresh_from_db()
    return obj.rating_average, obj.rating_count


@pytest.mark.parametrize(
    ("total", "count", "average"),
    [(0, 0, "0.00"), (5, 1, "5.00"), (14, 3, "4.67"), (4, 3, "1.33"), (5, 2, "2.50"), (9, 8, "1.13")],
)
def test_rating_average_rounds_half_up_to_two_decimals(total, count, average):
    assert rating_average(total, count) == Decimal(average)


# --- Reconcile ------------------------------------------------------------------------------


def test_reconcile_fixes_a_corrupted_experience_and_staff_rating(caplog):
    scene = build_scene()
    for rating in (5, 3):
        author = scene.another_guest()
        services.review_create_for_booking(author=author, booking=scene.booking(customer=author), rating=rating)
    untouched = ExperienceFactory.create(hotel=scene.hotel)
    Experience.objects.filter(pk=scene.experience.pk).update(rating_average=Decimal("1.00"), rating_count=9)
    HotelMembership.objects.filter(pk=scene.therapist.pk).update(rating_count=0, rating_average=Decimal("0.00"))

    with caplog.at_level(logging.WARNING, logger="refuje.reviews.ratings"):
        report = ratings_reconcile()

    assert stored(scene.experience) == (Decimal("4.00"), 2)
    assert stored(scene.therapist) == (Decimal("4.00"), 2)
    assert stored(untouched) == (Decimal("0.00"), 0)
    assert {(drift.kind, drift.id) for drift in report.drift} == {
        ("experience", scene.experience.pk),
        ("staff", scene.therapist.pk),
    }
    experience_drift = next(drift for drift in report.drift if drift.kind == "experience")
    assert (experience_drift.stored.average, experience_drift.stored.count) == (Decimal("1.00"), 9)
    assert (experience_drift.actual.average, experience_drift.actual.count) == (Decimal("4.00"), 2)
    assert f"Rating drift fixed on experience {scene.experience.pk}" in caplog.text
    assert report.checked_experiences == Experience.objects.count()
    assert report.checked_staff == HotelMembership.objects.count()


def test_reconcile_counts_only_published_reviews():
    scene = build_scene()
    services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=5)
    hidden = services.review_create_for_request(
        author=scene.guest, request=scene.request(experience=scene.experience), rating=1
    )
    services.review_moderate(actor=scene.admin.user, review=hidden, action="hide", reason="Spam")
    # Someone "fixes" the rating by hand, counting the hidden review.
    Experience.objects.filter(pk=scene.experience.pk).update(rating_average=Decimal("3.00"), rating_count=2)

    report = ratings_reconcile()

    assert stored(scene.experience) == (Decimal("5.00"), 1)
    assert len(report.drift) == 1


def test_reconcile_without_drift_reports_nothing_and_writes_nothing(django_assert_max_num_queries):
    scene = build_scene()
    services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=4)

    # One scan per rated table, whatever their size, when nothing drifted.
    with django_assert_max_num_queries(2):
        report = ratings_reconcile()

    assert report.drift == []
    assert report.as_dict() == {
        "checked_experiences": Experience.objects.count(),
        "checked_staff": HotelMembership.objects.count(),
        "fixed": 0,
    }


def test_the_reconcile_task_runs_the_job_and_is_scheduled():
    scene = build_scene()
    services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=4)
    Experience.objects.filter(pk=scene.experience.pk).update(rating_count=0)

    result = reconcile_ratings_task.apply().get()

    assert result["fixed"] == 1
    assert stored(scene.experience) == (Decimal("4.00"), 1)
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-ratings"]
    assert entry["task"] == reconcile_ratings_task.name == "refuje.reviews.reconcile_ratings"


# --- Property: after any sequence of changes, ratings are the mean of the published ratings ---

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("booking"), st.integers(min_value=1, max_value=5)),
        st.tuples(st.just("request"), st.integers(min_value=1, max_value=5)),
        st.tuples(st.sampled_from(["hide", "publish"]), st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=12,
)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(actions=ACTIONS)
def test_ratings_always_equal_the_mean_of_published_ratings(actions):
    # Each example runs in a savepoint that is rolled back, so examples never see each other's rows.
    with transaction.atomic():
        scene = build_scene()
        made: list[Review] = []
        for action, value in actions:
            if action == "booking":
                made.append(
                    services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=value)
                )
            elif action == "request":
                request = scene.request(experience=scene.experience)
                made.append(services.review_create_for_request(author=scene.guest, request=request, rating=value))
            elif made:
                target = made[value % len(made)]
                services.review_moderate(actor=scene.admin.user, review=target, action=action, reason="Checked")

            published = Review.objects.filter(is_hidden=False)
            assert stored(scene.experience) == expected(list(published.values_list("rating", flat=True)))
            assert stored(scene.therapist) == expected(
                list(published.filter(booking__isnull=False).values_list("rating", flat=True))
            )
        transaction.set_rollback(True)
