"""What goes on the bus: every request change with its kind and activity id, bookings and
notifications with theirs; a bus that cannot be reached never breaks the write."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from refuje.bookings.events import BOOKING_CONFIRMED, booking_event
from refuje.concierge import services
from refuje.concierge.escalation import escalation_run
from refuje.concierge.models import RequestActivity, ServiceRequest
from refuje.realtime import bus

from .conftest import build_scene
from .support import free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bus_messages(private_redis, settings):
    """Everything published on the bus, read by a plain Redis subscriber."""
    settings.REALTIME_REDIS_URL = private_redis.url
    pubsub = private_redis.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(bus.channel())
    messages: list[dict] = []

    def read(count: int, prefix: str = "") -> list[dict]:
        """The first `count` messages whose kind starts with `prefix`."""

        def wanted() -> list[dict]:
            return [message for message in messages if message["kind"].startswith(prefix)]

        def more():
            message = pubsub.get_message(timeout=0.2)
            if message is not None:
                messages.append(json.loads(message["data"]))
            return len(wanted()) >= count

        wait_for(more, f"{count} bus messages")
        return wanted()[:count]

    yield read
    pubsub.close()


def test_every_request_change_is_published_with_its_kind_and_activity_id(bus_messages):
    scene = build_scene()
    staff = scene.staff.user
    request = services.service_request_create(
        actor=scene.guest, stay=scene.stay, description="Towels", created_via="guest", department_id=scene.department.pk
    )
    services.service_request_acknowledge(actor=staff, request=request)
    services.service_request_add_note(actor=staff, request=request, note="Fragile")
    services.service_request_confirm(actor=staff, request=request, reason="", scheduled_for=None)
    services.service_request_start(actor=staff, request=request)
    services.service_request_complete(actor=staff, request=request)
    declined = scene.request()
    services.service_request_acknowledge(actor=staff, request=declined)
    services.service_request_decline(actor=staff, request=declined, reason="No")
    cancelled = scene.request()
    services.service_request_cancel_by_guest(actor=scene.guest, request=cancelled, reason="")
    overdue = scene.request()
    escalation_run(now=timezone.now() + timedelta(days=1))

    kinds = {
        "acknowledge": "request.updated",
        "confirm": "request.updated",
        "start": "request.updated",
        "complete": "request.updated",
        "decline": "request.updated",
        "cancel": "request.updated",
        "note": "request.note",
        "escalate": "request.escalated",
        "create": "request.created",
    }
    # Factory-made requests have a create activity but no event: only service calls publish.
    published = RequestActivity.objects.exclude(request__in=[declined, cancelled, overdue], action="create")
    expected = [
        {
            "kind": kinds[activity.action],
            "activity_id": activity.pk,
            "request_id": activity.request_id,
            "hotel_id": scene.hotel.pk,
            "department_id": scene.department.pk,
            "guest_id": scene.guest.pk,
            "internal": activity.is_internal,
        }
        for activity in published.order_by("id")
    ]
    assert len(expected) == 11
    assert bus_messages(len(expected), "request.") == expected
    # Notifications of these changes ride the same bus.
    assert bus_messages(1, "notification.")
    assert ServiceRequest.objects.get(pk=overdue.pk).escalation_level == 2


def test_bookings_and_notifications_are_relayed_with_their_kinds(bus_messages):
    booking = SimpleNamespace(pk=7, hotel_id=3, customer_id=11, staff_id=5)
    # send_robust, as the publishers do: other apps' receivers expect real rows and may fail here.
    booking_event.send_robust(sender=object, kind=BOOKING_CONFIRMED, booking=booking, data={"amount_minor": 15000})
    from refuje.notifications.events import NOTIFICATION_CREATED, notification_event

    notification = SimpleNamespace(pk=9, recipient_id=11, hotel_id=3)
    notification_event.send_robust(sender=object, kind=NOTIFICATION_CREATED, notification=notification)
    assert bus_messages(2) == [
        {
            "kind": "booking.confirmed",
            "booking_id": 7,
            "hotel_id": 3,
            "customer_id": 11,
            "staff_id": 5,
            "data": {"amount_minor": 15000},
        },
        {"kind": "notification.created", "notification_id": 9, "recipient_id": 11, "hotel_id": 3},
    ]


def test_an_unreachable_bus_is_logged_and_never_breaks_the_write(settings, caplog):
    settings.REALTIME_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    scene = build_scene()
    with caplog.at_level(logging.WARNING, logger="refuje.realtime.bus"):
        request = services.service_request_create(
            actor=scene.guest,
            stay=scene.stay,
            description="Towels",
            created_via="guest",
            department_id=scene.department.pk,
        )
        services.service_request_acknowledge(actor=scene.staff.user, request=request)
    assert ServiceRequest.objects.get(pk=request.pk).status == "ACKNOWLEDGED"
    assert RequestActivity.objects.filter(request=request).count() == 2
    failures = [record.getMessage().split()[2] for record in caplog.records if "publishing" in record.getMessage()]
    assert [kind for kind in failures if kind.startswith("request.")] == ["request.created", "request.updated"]
