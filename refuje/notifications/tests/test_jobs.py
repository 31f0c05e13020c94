"""Periodic jobs: re-alerts (capped), reminders (once), the daily digest (once per local day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from refuje.bookings.events import BOOKING_REMINDER, booking_event
from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.concierge.models import DepartmentPolicy, RequestAction, RequestActivity, RequestStatus
from refuje.hotels.models import Role
from refuje.notifications import kinds, tasks
from refuje.notifications.jobs import (
    deliver_pending_run,
    digest_run,
    local_day_bounds,
    realert_run,
    reminder_run,
)
from refuje.notifications.models import DailyDigest, DeliveryStatus, Notification, NotificationDelivery

from .conftest import build_scene

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def count(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind).count()


# --- Re-alerts ------------------------------------------------------------------------------


def test_a_new_request_re_alerts_its_department_every_interval_up_to_the_cap(
    scene, settings, console_providers, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_REALERT_INTERVAL_MINUTES = 5
    settings.NOTIFICATION_REALERT_MAX = 3
    with freeze_time(T0) as clock:
        request = scene.request()
        outcomes = []
        for minutes in (4, 1, 1, 4, 5, 5, 5, 30):  # at 4, 5, 6, 10, 15, 20, 25, 55 minutes
            clock.tick(timedelta(minutes=minutes))
            with django_capture_on_commit_callbacks(execute=True):
                outcomes.append(realert_run())

    assert outcomes == [[], [request.pk], [], [request.pk], [request.pk], [], [], []]
    for member in (scene.staff, scene.staff_ar):
        alerts = Notification.objects.filter(recipient=member.user, kind=kinds.REQUEST_REALERT).order_by("id")
        assert [n.data["minutes"] for n in alerts] == [5, 10, 15]
    # Each member reads the alert in their own language.
    titles = {
        member.user.preferred_language: Notification.objects.filter(recipient=member.user, kind=kinds.REQUEST_REALERT)
        .order_by("id")[0]
        .title
        for member in (scene.staff, scene.staff_ar)
    }
    assert titles == {
        "en": f"Still waiting: request #{request.pk}",
        "ar": f"ما زال ينتظر: الطلب رقم {request.pk}",
    }
    assert count(scene.other_staff.user, kinds.REQUEST_REALERT) == 0


def test_an_acknowledged_request_is_no_longer_re_alerted(scene, console_providers):
    with freeze_time(T0) as clock:
        request = scene.request()
        clock.tick(timedelta(minutes=5))
        assert realert_run() == [request.pk]
        request.status = RequestStatus.ACKNOWLEDGED
        request.save()
        clock.tick(timedelta(minutes=5))
        assert realert_run() == []


def test_the_realert_task_runs_the_job(scene, console_providers):
    with freeze_time(T0) as clock:
        scene.request()
        clock.tick(timedelta(minutes=6))
        outcome = tasks.realert_task.apply()
        assert outcome.result == {"realerted": 1}
        assert tasks.realert_task.apply().result == {"realerted": 0}


# --- Reminders ------------------------------------------------------------------------------


def acknowledged(scene, by, at, **kwargs):
    return scene.request(
        status=RequestStatus.ACKNOWLEDGED,
        acknowledged_at=at,
        acknowledged_by=by,
        created_at=at - timedelta(minutes=2),
        response_due_at=at,
        **kwargs,
    )


def test_an_acknowledged_request_that_does_not_move_reminds_its_acknowledger_once(
    scene, console_providers, django_capture_on_commit_callbacks
):
    DepartmentPolicy.objects.create(department=scene.department, reminder_interval_minutes=10)
    request = acknowledged(scene, scene.staff.user, T0)
    results = []
    for minutes in (9, 10, 11, 60):
        with freeze_time(T0 + timedelta(minutes=minutes)), django_capture_on_commit_callbacks(execute=True):
            results.append(reminder_run().acknowledged)

    assert results == [[], [request.pk], [], []]
    [reminder] = Notification.objects.filter(kind=kinds.REQUEST_REMINDER)
    assert reminder.recipient == scene.staff.user
    assert reminder.title == f"Request #{request.pk} needs an update"
    assert "acknowledged 10 minutes ago" in reminder.body


def test_without_a_policy_the_default_reminder_interval_applies(scene, console_providers):
    request = acknowledged(scene, scene.staff.user, T0)
    with freeze_time(T0 + timedelta(minutes=29)):
        assert reminder_run().acknowledged == []
    with freeze_time(T0 + timedelta(minutes=30)):
        assert reminder_run().acknowledged == [request.pk]


def test_a_reminder_goes_to_the_department_when_the_acknowledger_left(scene, console_providers):
    scene.staff.is_active = False
    scene.staff.save()
    acknowledged(scene, scene.staff.user, T0)
    with freeze_time(T0 + timedelta(minutes=31)):
        reminder_run()
    assert count(scene.staff.user, kinds.REQUEST_REMINDER) == 0
    assert count(scene.staff_ar.user, kinds.REQUEST_REMINDER) == 1


def test_a_request_that_moved_on_is_not_reminded_about(scene, console_providers):
    scene.request(
        status=RequestStatus.IN_PROGRESS, acknowledged_at=T0, created_at=T0 - timedelta(minutes=1), response_due_at=T0
    )
    with freeze_time(T0 + timedelta(hours=2)):
        assert reminder_run().acknowledged == []


def test_the_guest_is_reminded_once_of_a_confirmed_request_coming_up(
    scene, settings, console_providers, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_REMINDER_LEAD_MINUTES = 60
    request = scene.request(
        status=RequestStatus.CONFIRMED,
        scheduled_for=T0 + timedelta(minutes=90),
        created_at=T0 - timedelta(hours=1),
        response_due_at=T0,
    )
    with freeze_time(T0 + timedelta(minutes=29)):
        assert reminder_run().upcoming == []
    with freeze_time(T0 + timedelta(minutes=30)):
        assert reminder_run().upcoming == [request.pk]
    with freeze_time(T0 + timedelta(minutes=45)):
        assert reminder_run().upcoming == []
    [note] = Notification.objects.filter(recipient=scene.guest, kind=kinds.REQUEST_UPCOMING)
    assert note.language == "ar"
    assert "التدبير المنزلي" in note.body


def test_a_confirmed_booking_starting_soon_announces_one_reminder(
    settings, console_providers, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_REMINDER_LEAD_MINUTES = 60
    booking = BookingFactory.create(start=T0 + timedelta(minutes=45), customer=GuestFactory.create())
    BookingFactory.create(start=T0 + timedelta(minutes=45), status=BookingStatus.CANCELLED)
    BookingFactory.create(start=T0 + timedelta(hours=3))
    heard = []

    def listener(sender, kind, booking, data, **kwargs):
        heard.append((kind, booking.pk))

    booking_event.connect(listener, weak=False, dispatch_uid="test-booking-reminder")
    try:
        with freeze_time(T0):
            for _ in range(2):
                with django_capture_on_commit_callbacks(execute=True):
                    reminder_run()
    finally:
        booking_event.disconnect(dispatch_uid="test-booking-reminder")

    assert heard == [(BOOKING_REMINDER, booking.pk)]
    assert count(booking.customer, kinds.BOOKING_REMINDER) == 1
    assert count(booking.staff.user, kinds.STAFF_BOOKING_REMINDER) == 1


def test_the_reminders_task_runs_the_job(scene, console_providers):
    with freeze_time(T0 + timedelta(minutes=31)):
        acknowledged(scene, scene.staff.user, T0)
        assert tasks.reminders_task.apply().result == {"acknowledged": 1, "upcoming": 0, "bookings": 0}


# --- Daily digest ---------------------------------------------------------------------------


def digest_hotel(tz, **fields):
    hotel = HotelFactory.create(timezone=tz, name_en="Grand Hotel", name_ar="الفندق الكبير", **fields)
    admin_en = MembershipFactory.create(
        hotel=hotel, role=Role.ADMIN, user__preferred_language="en", user__email=f"admin-{hotel.slug}@example.com"
    )
    admin_ar = MembershipFactory.create(hotel=hotel, role=Role.SUPERADMIN, user__preferred_language="ar")
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    return hotel, admin_en, admin_ar, staff


def digests_of(user):
    return list(Notification.objects.filter(recipient=user, kind=kinds.DIGEST_DAILY).order_by("id"))


def test_the_digest_goes_to_admins_once_per_local_day_from_the_configured_hour(
    settings, console_providers, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 8
    hotel, admin_en, admin_ar, staff = digest_hotel("Asia/Riyadh")  # UTC+3, no DST
    runs = {}
    for moment in ("2026-03-02 04:59", "2026-03-02 05:00", "2026-03-02 05:15", "2026-03-02 20:00", "2026-03-03 05:00"):
        with freeze_time(f"{moment}:00+00:00"), django_capture_on_commit_callbacks(execute=True):
            runs[moment] = digest_run()
    assert runs == {
        "2026-03-02 04:59": [],
        "2026-03-02 05:00": [hotel.pk],
        "2026-03-02 05:15": [],
        "2026-03-02 20:00": [],
        "2026-03-03 05:00": [hotel.pk],
    }
    assert list(
        DailyDigest.objects.filter(hotel=hotel).values_list("local_date", flat=True).order_by("local_date")
    ) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
    english = digests_of(admin_en.user)
    assert [n.title for n in english] == [
        "Grand Hotel: summary of 1 March 2026",
        "Grand Hotel: summary of 2 March 2026",
    ]
    arabic = digests_of(admin_ar.user)
    assert len(arabic) == 2
    assert arabic[0].language == "ar"
    assert "الفندق الكبير" in arabic[0].title
    assert digests_of(staff.user) == []
    # The English admin has an e-mail address: the digest went by e-mail too.
    assert english[0].deliveries.get().status == DeliveryStatus.SENT


def test_the_digest_counts_the_previous_local_day(settings, console_providers):
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 8
    scene = build_scene(timezone="Asia/Riyadh")
    day_start = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)  # 2 March 00:00 in Riyadh
    inside = [
        scene.request(created_at=day_start, response_due_at=day_start + timedelta(minutes=15)),
        scene.request(
            created_at=day_start + timedelta(hours=23, minutes=59),
            response_due_at=day_start + timedelta(hours=24),
            status=RequestStatus.COMPLETED,
            completed_at=day_start + timedelta(hours=23, minutes=59),
        ),
    ]
    scene.request(created_at=day_start - timedelta(seconds=1), response_due_at=day_start)  # 1 March local
    RequestActivity.objects.create(
        hotel=scene.hotel, request=inside[0], action=RequestAction.ESCALATE, note="1", at=day_start + timedelta(hours=1)
    )
    with freeze_time("2026-03-03 05:00:00+00:00"):
        assert digest_run() == [scene.hotel.pk]
    digest = DailyDigest.objects.get(hotel=scene.hotel)
    assert digest.summary == {
        "created": 2,
        "completed": 1,
        "escalated": 1,
        "open": 2,
        "bookings": 0,
        "day": "2026-03-02",
    }
    [note] = Notification.objects.filter(recipient=scene.admin.user, kind=kinds.DIGEST_DAILY)
    assert note.body == "2 new requests, 1 completed, 1 escalated, 2 still open; 0 bookings."


def test_the_digest_follows_daylight_saving_time(settings, console_providers):
    """New York springs forward on 8 March 2026: 8:00 is 13:00 UTC before and 12:00 UTC after, and
    8 March has 23 hours."""
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 8
    hotel, *_members = digest_hotel("America/New_York")
    with freeze_time("2026-03-07 12:59:00+00:00"):
        assert digest_run() == []
    with freeze_time("2026-03-07 13:00:00+00:00"):
        assert digest_run() == [hotel.pk]
    with freeze_time("2026-03-08 11:59:00+00:00"):
        assert digest_run() == []
    with freeze_time("2026-03-08 12:00:00+00:00"):
        assert digest_run() == [hotel.pk]

    start, end = local_day_bounds(date(2026, 3, 8), "America/New_York")
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    start, end = local_day_bounds(date(2026, 11, 1), "America/New_York")
    assert end - start == timedelta(hours=25)


def test_hotels_get_their_digest_at_their_own_local_hour(settings, console_providers):
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 8
    riyadh, *_ = digest_hotel("Asia/Riyadh")
    kolkata, *_ = digest_hotel("Asia/Kolkata")  # UTC+5:30
    new_york, *_ = digest_hotel("America/New_York")
    # Yesterday's digests are done (New York's local date is still 9 June at 02:30 UTC).
    for hotel in (riyadh, kolkata, new_york):
        DailyDigest.objects.create(hotel=hotel, local_date=date(2026, 6, 9))
    with freeze_time("2026-06-10 02:30:00+00:00"):  # 05:30 Riyadh, 08:00 Kolkata, 22:30 New York
        assert digest_run() == [kolkata.pk]
    with freeze_time("2026-06-10 05:00:00+00:00"):  # 08:00 Riyadh, 01:00 New York
        assert digest_run() == [riyadh.pk]
    with freeze_time("2026-06-10 12:00:00+00:00"):  # 08:00 New York (EDT)
        assert digest_run() == [new_york.pk]


def test_inactive_hotels_get_no_digest(settings, console_providers):
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 0
    digest_hotel("Asia/Riyadh", is_active=False)
    assert digest_run() == []


def test_the_digest_task_runs_the_job(settings, console_providers):
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 0
    digest_hotel("UTC")
    assert tasks.daily_digest_task.apply().result == {"hotels": 1}
    assert tasks.daily_digest_task.apply().result == {"hotels": 0}


# --- Delivery sweep -------------------------------------------------------------------------


def test_the_sweep_sends_deliveries_whose_task_was_lost(gupshup, django_capture_on_commit_callbacks):
    from refuje.notifications.services import notify

    guest = GuestFactory.create()
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue never happens
        notification = notify(recipient=guest, kind=kinds.REQUEST_COMPLETED, context={"number": 1})
    delivery = notification.deliveries.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_pending_run() == 0  # too fresh: its own task may still come
    with freeze_time(timezone.now() + timedelta(minutes=3)), django_capture_on_commit_callbacks(execute=True):
        assert deliver_pending_run() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(gupshup.sent) == 1
    assert NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 0


def test_tasks_are_registered_under_their_beat_names(settings):
    from config.celery import app

    names = {entry["task"] for key, entry in settings.CELERY_BEAT_SCHEDULE.items() if key.startswith("notifications")}
    assert names == {
        "refuje.notifications.realert",
        "refuje.notifications.reminders",
        "refuje.notifications.daily_digest",
        "refuje.notifications.retention",
        "refuje.notifications.deliver_pending",
    }
    assert names | {"refuje.notifications.deliver"} <= set(app.tasks)


def test_each_periodic_task_records_its_heartbeat(settings, console_providers):
    from refuje.common.models import JobHeartbeat

    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 23
    for task in (
        tasks.realert_task,
        tasks.reminders_task,
        tasks.daily_digest_task,
        tasks.retention_task,
        tasks.deliver_pending_task,
    ):
        assert task.apply().successful()
    beats = {beat.name: beat for beat in JobHeartbeat.objects.filter(name__startswith="refuje.notifications.")}
    assert set(beats) == {
        "refuje.notifications.realert",
        "refuje.notifications.reminders",
        "refuje.notifications.daily_digest",
        "refuje.notifications.retention",
        "refuje.notifications.deliver_pending",
    }
    assert all(beat.last_ok for beat in beats.values())
