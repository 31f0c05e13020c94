"""Invariants the models and the database keep on their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from refuje.concierge.models import AppendOnlyError, RequestActivity, RequestStatus, ServiceRequest
from refuje.hotels.models import Hotel

pytestmark = pytest.mark.django_db


def test_activities_cannot_be_changed_or_deleted(scene):
    request = scene.request()
    activity = RequestActivity.objects.get(request=request)
    activity.note = "rewritten history"
    with pytest.raises(AppendOnlyError):
        activity.save()
    with pytest.raises(AppendOnlyError):
        activity.delete()
    with pytest.raises(AppendOnlyError):
        RequestActivity.objects.filter(pk=activity.pk).update(note="rewritten")
    with pytest.raises(AppendOnlyError):
        RequestActivity.objects.filter(pk=activity.pk).delete()
    activity.refresh_from_db()
    assert activity.note == ""


def test_deleting_a_whole_hotel_still_removes_its_history(scene):
    scene.request()
    Hotel.objects.filter(pk=scene.hotel.pk).delete()
    assert not RequestActivity.objects.exists()
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "DONE"},
        {"priority": "asap"},
        {"escalation_level": 3},
        {"description": ""},
        {"status": RequestStatus.DECLINED, "declined_reason": ""},
        {"created_via": "fax"},
    ],
)
def test_database_refuses_invalid_requests(scene, changes):
    request = scene.request()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(**changes)


def test_database_refuses_a_deadline_before_creation(scene):
    request = scene.request()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(response_due_at=timezone.now() - timedelta(days=1))
