"""Routing by preference and delivery on each channel, against the fake providers."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone, translation

from refuje.common.testing.factories import GuestFactory, UserFactory
from refuje.notifications import kinds
from refuje.notifications.models import Channel, DeliveryStatus, NotificationDelivery, NotificationPreference
from refuje.notifications.services import (
    NOT_CLAIMED,
    RETRY,
    SENT,
    delivery_attempt,
    delivery_status_update,
    notify,
    preference_update,
)
from refuje.push.services import push_subscription_upsert

from .conftest import template_id_for

pytestmark = pytest.mark.django_db

GUEST_CONTEXT = {
    "hotel": {"ar": "الفندق الكبير", "en": "Grand Hotel"},
    "department": {"ar": "التدبير المنزلي", "en": "Housekeeping"},
    "number": 42,
    "room": "1204",
}


def notify_guest(guest, capture, kind=kinds.REQUEST_ACKNOWLEDGED, **kwargs):
    with capture(execute=True):
        return notify(recipient=guest, kind=kind, context=GUEST_CONTEXT, **kwargs)


def notify_staff(user, capture, kind=kinds.REQUEST_NEW):
    with capture(execute=True):
        return notify(recipient=user, kind=kind, context=GUEST_CONTEXT)


def channels(notification):
    return {d.channel: d.status for d in notification.deliveries.all()}


def subscribe(user, fake_push):
    browser = fake_push.subscribe()
    push_subscription_upsert(user=user, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth)
    return browser


# --- Guests: WhatsApp, SMS fallback ---------------------------------------------------------


def test_a_guest_gets_whatsapp_when_a_template_exists(gupshup, fake_authentica, django_capture_on_commit_callbacks):
    guest = GuestFactory.create(preferred_language="en")
    notification = notify_guest(guest, django_capture_on_commit_callbacks)

    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.SENT}
    [message] = gupshup.sent
    assert message.template_id == template_id_for(kinds.REQUEST_ACKNOWLEDGED, "en")
    assert message.params == ("Grand Hotel", "42", "Housekeeping")
    delivery = notification.deliveries.get()
    assert delivery.provider_message_id == message.message_id
    assert delivery.attempts == 1
    assert fake_authentica.sent_sms == []


def test_without_a_template_for_the_kind_the_guest_gets_an_sms(
    settings, gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_WHATSAPP_TEMPLATES = {}
    guest = GuestFactory.create(preferred_language="en")
    notification = notify_guest(guest, django_capture_on_commit_callbacks)

    assert channels(notification) == {Channel.SMS: DeliveryStatus.SENT}
    [sms] = fake_authentica.sent_sms
    assert sms.phone == guest.phone_number
    assert sms.message == (
        "Grand Hotel: request received\nYour request #42 to Housekeeping has been received and is being handled."
    )
    assert gupshup.sent == []


def test_an_sms_only_provider_sends_sms(authentica_only, django_capture_on_commit_callbacks):
    guest = GuestFactory.create(preferred_language="ar")
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.SMS: DeliveryStatus.SENT}
    [sms] = authentica_only.sent_sms
    assert "التدبير المنزلي" in sms.message


def test_a_refused_whatsapp_message_falls_back_to_sms_once(
    gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create(preferred_language="en")
    gupshup.fail_next(1, status=400, body={"status": "error", "message": "Invalid Destination"})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)

    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.FAILED, Channel.SMS: DeliveryStatus.SENT}
    assert "Invalid Destination" in notification.deliveries.get(channel=Channel.WHATSAPP).error
    assert len(fake_authentica.sent_sms) == 1


def test_a_transient_whatsapp_failure_is_retried_not_failed(
    gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create(preferred_language="en")
    gupshup.fail_next(1, status=503, body={"status": "error", "message": "Service Unavailable"})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)  # eager: the retry runs at once

    delivery = notification.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == (DeliveryStatus.SENT, 2, None)
    assert len(gupshup.sent) == 1
    assert fake_authentica.sent_sms == []


def test_a_transient_failure_releases_the_claim_for_the_retry(gupshup, django_capture_on_commit_callbacks):
    guest = GuestFactory.create()
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify(recipient=guest, kind=kinds.REQUEST_ACKNOWLEDGED, context=GUEST_CONTEXT)
    delivery = notification.deliveries.get()
    gupshup.fail_next(1, status=503)
    assert delivery_attempt(delivery_id=delivery.pk) == RETRY
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == (DeliveryStatus.PENDING, 1, None)
    assert "503" in delivery.error
    assert delivery_attempt(delivery_id=delivery.pk) == SENT


def test_transient_failures_give_up_after_the_last_attempt_and_fall_back(
    settings, gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_DELIVERY_MAX_ATTEMPTS = 2
    guest = GuestFactory.create(preferred_language="en")
    gupshup.fail_next(2, status=500)
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.FAILED, Channel.SMS: DeliveryStatus.SENT}
    assert notification.deliveries.get(channel=Channel.WHATSAPP).attempts == 2
    assert len(fake_authentica.sent_sms) == 1


def test_a_delivery_is_sent_once_however_often_its_task_runs(gupshup, django_capture_on_commit_callbacks):
    guest = GuestFactory.create()
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    delivery = notification.deliveries.get()
    assert delivery_attempt(delivery_id=delivery.pk) == NOT_CLAIMED
    assert len(gupshup.sent) == 1


def test_a_fresh_claim_keeps_a_second_worker_off_and_a_stale_one_does_not(
    settings, gupshup, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create()
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify(recipient=guest, kind=kinds.REQUEST_ACKNOWLEDGED, context=GUEST_CONTEXT)
    delivery = notification.deliveries.get()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now())
    assert delivery_attempt(delivery_id=delivery.pk) == NOT_CLAIMED
    assert gupshup.sent == []
    settings.NOTIFICATION_DELIVERY_CLAIM_STALE_SECONDS = 0
    assert delivery_attempt(delivery_id=delivery.pk) == SENT
    assert len(gupshup.sent) == 1


# --- Preferences ----------------------------------------------------------------------------


def test_with_whatsapp_switched_off_the_guest_gets_sms(gupshup, fake_authentica, django_capture_on_commit_callbacks):
    guest = GuestFactory.create()
    preference_update(user=guest, changes={"whatsapp": False})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.SMS: DeliveryStatus.SENT}
    assert gupshup.sent == []


def test_with_every_channel_off_only_the_in_app_item_remains(
    gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create()
    preference_update(user=guest, changes={"whatsapp": False, "sms": False, "push": False, "email": False})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {}
    assert notification.read_at is None
    assert gupshup.sent == []
    assert fake_authentica.sent_sms == []


def test_a_muted_kind_stays_in_the_app(gupshup, django_capture_on_commit_callbacks):
    guest = GuestFactory.create()
    preference_update(user=guest, changes={"muted_kinds": [kinds.REQUEST_ACKNOWLEDGED]})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {}
    other = notify_guest(guest, django_capture_on_commit_callbacks, kind=kinds.REQUEST_COMPLETED)
    assert channels(other) == {Channel.WHATSAPP: DeliveryStatus.SENT}


def test_whatsapp_failing_when_sms_is_off_falls_back_to_nothing(
    gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create()
    preference_update(user=guest, changes={"sms": False})
    gupshup.fail_next(1, status=400, body={"status": "error", "message": "Invalid Destination"})
    notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.FAILED}
    assert fake_authentica.sent_sms == []


# --- Staff: push, or WhatsApp/SMS without a working subscription ----------------------------


def test_staff_with_a_push_subscription_get_push_only(fake_push, gupshup, django_capture_on_commit_callbacks):
    user = UserFactory.create(preferred_language="en")
    browser = subscribe(user, fake_push)
    notification = notify_staff(user, django_capture_on_commit_callbacks)

    assert channels(notification) == {Channel.PUSH: DeliveryStatus.SENT}
    [message] = fake_push.messages_for(browser.endpoint)
    assert message.urgency == "high"
    assert message.json == {
        "title": "New request: Housekeeping",
        "body": "Room 1204 · request #42. Please acknowledge it.",
        "url": "/",
        "tag": f"notification-{notification.pk}",
        "kind": kinds.REQUEST_NEW,
    }
    assert gupshup.sent == []


def test_staff_without_push_get_whatsapp(fake_push, gupshup, django_capture_on_commit_callbacks):
    user = UserFactory.create(preferred_language="ar")
    notification = notify_staff(user, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.SENT}
    [message] = gupshup.sent
    assert message.template_id == template_id_for(kinds.REQUEST_NEW, "ar")
    assert message.params == (notification.title, notification.body)


def test_staff_who_switched_push_off_get_sms_without_whatsapp_templates(
    settings, fake_push, authentica_only, django_capture_on_commit_callbacks
):
    user = UserFactory.create()
    subscribe(user, fake_push)
    preference_update(user=user, changes={"push": False})
    notification = notify_staff(user, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.SMS: DeliveryStatus.SENT}
    assert fake_push.received == []


def test_a_push_nobody_accepts_falls_back_to_whatsapp(fake_push, gupshup, django_capture_on_commit_callbacks):
    user = UserFactory.create()
    browser = subscribe(user, fake_push)
    fake_push.answer_with(browser.endpoint, 410)
    notification = notify_staff(user, django_capture_on_commit_callbacks)
    assert channels(notification) == {Channel.PUSH: DeliveryStatus.FAILED, Channel.WHATSAPP: DeliveryStatus.SENT}


def test_a_push_service_that_is_down_is_tried_again_before_messages_are_sent(
    settings, fake_push, gupshup, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_DELIVERY_MAX_ATTEMPTS = 3
    user = UserFactory.create()
    browser = subscribe(user, fake_push)
    fake_push.fail_next(1, status=503)

    notification = notify_staff(user, django_capture_on_commit_callbacks)

    delivery = notification.deliveries.get()
    assert (delivery.channel, delivery.status, delivery.attempts) == (Channel.PUSH, DeliveryStatus.SENT, 2)
    assert len(fake_push.messages_for(browser.endpoint)) == 1
    assert gupshup.sent == []


def test_a_push_service_down_for_every_attempt_falls_back_to_whatsapp(
    settings, fake_push, gupshup, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_DELIVERY_MAX_ATTEMPTS = 2
    user = UserFactory.create()
    browser = subscribe(user, fake_push)
    fake_push.answer_with(browser.endpoint, 503)

    notification = notify_staff(user, django_capture_on_commit_callbacks)

    assert channels(notification) == {Channel.PUSH: DeliveryStatus.FAILED, Channel.WHATSAPP: DeliveryStatus.SENT}
    assert notification.deliveries.get(channel=Channel.PUSH).attempts == 2


def test_guest_kinds_do_not_use_push_and_staff_alerts_cannot_be_muted(fake_push, gupshup):
    with translation.override("en"), pytest.raises(Exception, match="can't be muted"):
        preference_update(user=UserFactory.create(), changes={"muted_kinds": [kinds.REQUEST_NEW]})
    assert kinds.REQUEST_NEW not in kinds.MUTABLE_KINDS
    assert Channel.PUSH not in kinds.KINDS[kinds.REQUEST_CONFIRMED].channels


# --- E-mail ---------------------------------------------------------------------------------


def test_the_digest_goes_by_email_to_admins_with_an_address(console_providers, django_capture_on_commit_callbacks):
    admin = UserFactory.create(preferred_language="en", email="admin@hotel.example")
    context = {"hotel": {"ar": "ف", "en": "Grand Hotel"}, "date": "2026-03-01", "created": 3, "completed": 2}
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(recipient=admin, kind=kinds.DIGEST_DAILY, context=context)
    assert channels(notification) == {Channel.EMAIL: DeliveryStatus.SENT}
    [message] = mail.outbox
    assert message.to == ["admin@hotel.example"]
    assert message.subject == notification.title == "Grand Hotel: summary of 2026-03-01"

    without = UserFactory.create(email=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert channels(notify(recipient=without, kind=kinds.DIGEST_DAILY, context=context)) == {}


# --- Provider delivery reports --------------------------------------------------------------


def sent_whatsapp(guest, capture):
    notification = notify_guest(guest, capture)
    return notification, notification.deliveries.get(channel=Channel.WHATSAPP)


def status_of(delivery):
    delivery.refresh_from_db()
    return delivery.status


def test_reports_move_a_delivery_forward_only(gupshup, django_capture_on_commit_callbacks):
    _notification, delivery = sent_whatsapp(GuestFactory.create(), django_capture_on_commit_callbacks)
    message_id = delivery.provider_message_id

    assert delivery_status_update(provider="gupshup", message_id=message_id, status="delivered") is True
    assert status_of(delivery) == DeliveryStatus.DELIVERED
    assert delivery_status_update(provider="gupshup", message_id=message_id, status="sent") is True  # late
    assert status_of(delivery) == DeliveryStatus.DELIVERED
    delivery_status_update(provider="gupshup", message_id=message_id, status="read")
    assert status_of(delivery) == DeliveryStatus.READ
    delivery_status_update(provider="gupshup", message_id=message_id, status="failed", error="late failure")
    assert status_of(delivery) == DeliveryStatus.READ


def test_a_reported_failure_falls_back_to_sms_exactly_once(
    gupshup, fake_authentica, django_capture_on_commit_callbacks
):
    notification, delivery = sent_whatsapp(GuestFactory.create(), django_capture_on_commit_callbacks)
    for _ in range(2):  # the provider repeats its callback
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_status_update(
                provider="gupshup",
                message_id=delivery.provider_message_id,
                status="failed",
                error="1002 Number Does Not Exist On WhatsApp",
            )
    assert channels(notification) == {Channel.WHATSAPP: DeliveryStatus.FAILED, Channel.SMS: DeliveryStatus.SENT}
    assert notification.deliveries.get(channel=Channel.WHATSAPP).error == "1002 Number Does Not Exist On WhatsApp"
    assert len(fake_authentica.sent_sms) == 1


def test_reports_for_unknown_messages_are_not_ours(db):
    assert delivery_status_update(provider="gupshup", message_id="not-a-notification", status="delivered") is False
    assert delivery_status_update(provider="gupshup", message_id="", status="failed") is False


def test_rendering_uses_the_recipients_language_even_inside_another_language(
    console_providers, django_capture_on_commit_callbacks
):
    guest = GuestFactory.create(preferred_language="en")
    with translation.override("ar"):
        notification = notify_guest(guest, django_capture_on_commit_callbacks)
    assert notification.language == "en"
    assert notification.title == "Grand Hotel: request received"
    assert NotificationPreference.objects.filter(user=guest).exists() is False


def test_a_notification_is_announced_after_commit_only(console_providers, django_capture_on_commit_callbacks):
    from refuje.notifications.events import notification_event

    heard = []

    def listener(sender, kind, notification, **kwargs):
        heard.append((kind, notification.pk, notification.recipient_id))

    notification_event.connect(listener, weak=False, dispatch_uid="test-notification-event")
    try:
        guest = GuestFactory.create()
        with django_capture_on_commit_callbacks(execute=False):
            notify(recipient=guest, kind=kinds.REQUEST_COMPLETED, context=GUEST_CONTEXT)
        assert heard == []  # never committed
        with django_capture_on_commit_callbacks(execute=True):
            notification = notify(recipient=guest, kind=kinds.REQUEST_COMPLETED, context=GUEST_CONTEXT)
    finally:
        notification_event.disconnect(dispatch_uid="test-notification-event")
    assert heard == [("notification.created", notification.pk, guest.pk)]


def test_unknown_kinds_are_refused(db):
    with pytest.raises(ValueError, match="Unknown notification kind"):
        notify(recipient=GuestFactory.create(), kind="no.such.kind")
