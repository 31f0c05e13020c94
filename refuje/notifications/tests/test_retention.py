"""Retention: read notifications go after NOTIFICATION_RETENTION_DAYS, unread ones after
NOTIFICATION_UNREAD_RETENTION_DAYS, with their delivery rows; everything younger stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.common.testing.factories import UserFactory
from refuje.notifications import jobs
from refuje.notifications.models import Channel, Notification, NotificationDelivery
from refuje.notifications.tasks import retention_task

pytestmark = pytest.mark.django_db


def make(user, *, age_days: float, read: bool, now) -> Notification:
    created = now - timedelta(days=age_days)
    notification = Notification.objects.create(
        recipient=user,
        kind="request.acknowledged",
        language="en",
        title=f"{age_days} days old, {'read' if read else 'unread'}",
        created_at=created,
        read_at=created + timedelta(minutes=5) if read else None,
    )
    NotificationDelivery.objects.create(notification=notification, channel=Channel.SMS, created_at=created)
    return notification


def test_old_notifications_go_with_their_deliveries_and_recent_ones_stay(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 90
    settings.NOTIFICATION_UNREAD_RETENTION_DAYS = 365
    now = timezone.now()
    user = UserFactory.create()
    keep = [
        make(user, age_days=89, read=True, now=now),
        make(user, age_days=91, read=False, now=now),  # unread: kept longer
        make(user, age_days=364, read=False, now=now),
    ]
    make(user, age_days=91, read=True, now=now)
    make(user, age_days=366, read=False, now=now)
    make(user, age_days=400, read=True, now=now)

    assert jobs.retention_run(now=now) == 3

    assert sorted(Notification.objects.values_list("pk", flat=True)) == sorted(n.pk for n in keep)
    assert NotificationDelivery.objects.count() == 3
    assert jobs.retention_run(now=now) == 0  # a second run finds nothing


def test_a_backlog_is_deleted_in_batches_across_runs(settings, monkeypatch):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    monkeypatch.setattr(jobs, "BATCH_SIZE", 4)
    monkeypatch.setattr(jobs, "RETENTION_MAX_BATCHES", 2)
    now = timezone.now()
    user = UserFactory.create()
    for age in range(40, 51):
        make(user, age_days=age, read=True, now=now)

    assert jobs.retention_run(now=now) == 8  # two batches of four per run
    assert jobs.retention_run(now=now) == 3
    assert not Notification.objects.exists()


def test_the_scheduled_task_runs_it():
    user = UserFactory.create()
    make(user, age_days=1000, read=False, now=timezone.now())
    assert retention_task() == {"deleted": 1}
    assert not Notification.objects.exists()
