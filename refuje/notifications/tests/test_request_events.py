"""Each request event notifies the right people, in their language, on their channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone, translation
from freezegun import freeze_time

from refuje.common.testing.factories import DepartmentFactory, MembershipFactory
from refuje.concierge import services as concierge
from refuje.concierge.escalation import escalation_run
from refuje.concierge.models import CreatedVia, DepartmentPolicy, EscalationContact
from refuje.hotels.models import Role
from refuje.notifications import kinds
from refuje.notifications.models import Channel, DeliveryStatus, Notification
from refuje.notifications.receivers import on_request_event

from .conftest import build_scene, template_id_for

pytestmark = pytest.mark.django_db


def received(user, kind=None):
    found = Notification.objects.filter(recipient=user).order_by("id")
    if kind:
        found = found.filter(kind=kind)
    return list(found)


def kinds_of(user):
    return [notification.kind for notification in received(user)]


def create_request(scene, department=None, **kwargs):
    return concierge.service_request_create(
        actor=scene.guest,
        stay=scene.stay,
        description="Two more towels, please",
        created_via=CreatedVia.GUEST,
        department_id=(department or scene.department).pk,
        **kwargs,
    )


def test_a_new_request_alerts_the_departments_staff_each_in_their_language(
    scene, console_providers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = create_request(scene)

    [english] = received(scene.staff.user, kinds.REQUEST_NEW)
    [arabic] = received(scene.staff_ar.user, kinds.REQUEST_NEW)
    assert english.language == "en"
    assert english.title == "New request: Housekeeping"
    assert english.body == f"Room 1204 · request #{request.pk}. Please acknowledge it."
    assert arabic.language == "ar"
    assert "التدبير المنزلي" in arabic.title
    with translation.override("ar"):
        assert arabic.title == str(kinds.KINDS[kinds.REQUEST_NEW].title) % {"department": "التدبير المنزلي"}
    assert english.target == f"/hotels/{scene.hotel.slug}/requests/{request.pk}/"
    assert english.data["request_id"] == request.pk
    # Not the other department, not the admin (the department has staff), not the guest.
    assert received(scene.other_staff.user) == []
    assert received(scene.admin.user) == []
    assert received(scene.guest) == []
    # The text never carries what the guest wrote.
    assert "towels" not in english.body + english.title


def test_a_department_without_staff_alerts_the_hotels_admins(
    scene, console_providers, django_capture_on_commit_callbacks
):
    empty = DepartmentFactory.create(hotel=scene.hotel)
    with django_capture_on_commit_callbacks(execute=True):
        create_request(scene, department=empty)
    assert kinds_of(scene.admin.user) == [kinds.REQUEST_NEW]
    assert received(scene.staff.user) == []


def test_inactive_members_and_viewers_are_not_alerted(scene, console_providers, django_capture_on_commit_callbacks):
    scene.staff_ar.is_active = False
    scene.staff_ar.save()
    viewer = MembershipFactory.create(hotel=scene.hotel, role=Role.VIEWER)
    viewer.departments.add(scene.department)
    with django_capture_on_commit_callbacks(execute=True):
        create_request(scene)
    assert kinds_of(scene.staff.user) == [kinds.REQUEST_NEW]
    assert received(scene.staff_ar.user) == []
    assert received(viewer.user) == []


def test_staff_creating_a_request_for_a_guest_are_not_alerted_about_their_own_request(
    scene, console_providers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_create(
            actor=scene.staff.user,
            stay=scene.stay,
            description="Iron",
            created_via=CreatedVia.STAFF,
            department_id=scene.department.pk,
        )
    assert received(scene.staff.user) == []
    assert kinds_of(scene.staff_ar.user) == [kinds.REQUEST_NEW]


def test_the_guest_hears_of_acknowledgement_confirmation_and_completion_on_whatsapp_in_arabic(
    scene, gupshup, django_capture_on_commit_callbacks
):
    request = scene.request()
    actor = scene.staff.user
    when = timezone.now() + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_acknowledge(actor=actor, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_confirm(actor=actor, request=request, scheduled_for=when)
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_start(actor=actor, request=request)  # nothing for the guest
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_complete(actor=actor, request=request)

    notes = received(scene.guest)
    assert [n.kind for n in notes] == [kinds.REQUEST_ACKNOWLEDGED, kinds.REQUEST_CONFIRMED, kinds.REQUEST_COMPLETED]
    assert all(n.language == "ar" for n in notes)
    assert all("التدبير المنزلي" in n.body and "الفندق الكبير" in n.title for n in notes)
    assert notes[0].target == f"/guest/requests/{request.pk}/"
    # The confirmed time is in the body (the variant with a time), in the hotel's time zone.
    with translation.override("ar"):
        variant = kinds.KINDS[kinds.REQUEST_CONFIRMED].body_with
        assert variant is not None
        confirmed = str(variant[1]) % {
            "number": request.pk,
            "department": "التدبير المنزلي",
            "when": kinds.display_value(when, language="ar", timezone=scene.hotel.timezone),
        }
    assert notes[1].body == confirmed
    # Each went out as the Arabic WhatsApp template, with the Arabic values, and is marked sent.
    sent = [(m.template_id, m.params) for m in gupshup.sent]
    assert sent[0] == (
        template_id_for(kinds.REQUEST_ACKNOWLEDGED, "ar"),
        ("الفندق الكبير", str(request.pk), "التدبير المنزلي"),
    )
    assert [template for template, _params in sent] == [
        template_id_for(kind, "ar")
        for kind in (kinds.REQUEST_ACKNOWLEDGED, kinds.REQUEST_CONFIRMED, kinds.REQUEST_COMPLETED)
    ]
    for notification in notes:
        [delivery] = notification.deliveries.all()
        assert (delivery.channel, delivery.status, delivery.provider) == (
            Channel.WHATSAPP,
            DeliveryStatus.SENT,
            "gupshup",
        )
        assert delivery.provider_message_id
    assert all(m.destination == scene.guest.phone_number.removeprefix("+") for m in gupshup.sent)


def test_an_english_guest_is_told_of_a_decline_with_its_reason(settings, gupshup, django_capture_on_commit_callbacks):
    scene = build_scene(guest_language="en")
    request = scene.request()
    concierge.service_request_acknowledge(actor=scene.staff.user, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_decline(actor=scene.staff.user, request=request, reason="Fully booked tonight")

    [declined] = received(scene.guest, kinds.REQUEST_DECLINED)
    assert declined.title == "Grand Hotel: request declined"
    assert declined.body == (f"Sorry, your request #{request.pk} to Housekeeping was declined: Fully booked tonight")
    [message] = gupshup.sent
    assert message.template_id == template_id_for(kinds.REQUEST_DECLINED, "en")
    assert message.params == ("Grand Hotel", str(request.pk), "Housekeeping", "Fully booked tonight")


def test_a_cancelled_or_expired_request_sends_the_guest_nothing(
    scene, console_providers, django_capture_on_commit_callbacks
):
    request = scene.request()
    with django_capture_on_commit_callbacks(execute=True):
        concierge.service_request_cancel_by_guest(actor=scene.guest, request=request)
    assert received(scene.guest) == []


def test_an_event_delivered_twice_notifies_once(scene, console_providers, django_capture_on_commit_callbacks):
    request = scene.request()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        concierge.service_request_acknowledge(actor=scene.staff.user, request=request)
    activity = request.activities.get(action="acknowledge")
    on_request_event(None, kind="request.updated", request=request, activity=activity)
    assert len(callbacks) >= 1
    assert kinds_of(scene.guest) == [kinds.REQUEST_ACKNOWLEDGED]


# --- Escalation -----------------------------------------------------------------------------


def overdue(scene):
    now = timezone.now()
    return scene.request(created_at=now - timedelta(minutes=20), response_due_at=now - timedelta(minutes=1))


def escalate_at(request, when, capture):
    with freeze_time(when), capture(execute=True):
        escalation_run()


def test_level_1_goes_to_the_policys_level_1_contacts(scene, console_providers, django_capture_on_commit_callbacks):
    policy = DepartmentPolicy.objects.create(department=scene.department)
    EscalationContact.objects.create(policy=policy, membership=scene.other_staff, level=1)
    request = overdue(scene)
    escalate_at(request, timezone.now(), django_capture_on_commit_callbacks)

    [alert] = received(scene.other_staff.user, kinds.REQUEST_ESCALATED)
    assert alert.title == f"Overdue: request #{request.pk}"
    assert "(escalation level 1)" in alert.body
    assert alert.data["level"] == 1
    assert received(scene.staff.user, kinds.REQUEST_ESCALATED) == []
    assert received(scene.admin.user, kinds.REQUEST_ESCALATED) == []


def test_level_1_without_contacts_goes_to_the_departments_staff(
    scene, console_providers, django_capture_on_commit_callbacks
):
    request = overdue(scene)
    escalate_at(request, timezone.now(), django_capture_on_commit_callbacks)
    assert kinds_of(scene.staff.user) == [kinds.REQUEST_ESCALATED]
    assert kinds_of(scene.staff_ar.user) == [kinds.REQUEST_ESCALATED]
    assert received(scene.admin.user) == []


def test_level_2_goes_to_the_hotels_admins_and_level_2_contacts_once(
    scene, settings, console_providers, django_capture_on_commit_callbacks
):
    settings.ESCALATION_LEVEL2_AFTER_MINUTES = 30
    policy = DepartmentPolicy.objects.create(department=scene.department)
    EscalationContact.objects.create(policy=policy, membership=scene.other_staff, level=2)
    superadmin = MembershipFactory.create(hotel=scene.hotel, role=Role.SUPERADMIN)
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    request = scene.request(created_at=t0 - timedelta(minutes=15), response_due_at=t0)
    escalate_at(request, t0 + timedelta(minutes=1), django_capture_on_commit_callbacks)
    escalate_at(request, t0 + timedelta(minutes=31), django_capture_on_commit_callbacks)
    escalate_at(request, t0 + timedelta(minutes=40), django_capture_on_commit_callbacks)  # nothing new

    for member in (scene.admin, superadmin, scene.other_staff):
        [alert] = received(member.user, kinds.REQUEST_ESCALATED)
        assert alert.data["level"] == 2
    # Level 1 went to the department's staff (no level-1 contacts), once.
    assert [n.data["level"] for n in received(scene.staff.user, kinds.REQUEST_ESCALATED)] == [1]
