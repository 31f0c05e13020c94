"""The request event hook: listeners hear about every change once, after commit, never on rollback."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from refuje.concierge import services
from refuje.concierge.events import request_event
from refuje.concierge.models import RequestActivity, RequestStatus, ServiceRequest

from .conftest import build_scene

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@pytest.fixture
def heard():
    events = []

    def listener(sender, kind, request, activity, **kwargs):
        # What a listener sees must already be committed: read it back on a fresh query.
        committed = ServiceRequest.objects.get(pk=request.pk).status
        events.append((kind, request.pk, activity.pk, activity.action, committed))

    request_event.connect(listener, weak=False, dispatch_uid="test-listener")
    yield events
    request_event.disconnect(dispatch_uid="test-listener")


def test_transition_event_fires_once_after_commit(heard):
    scene = build_scene()
    request = scene.request()
    with transaction.atomic():
        services.service_request_acknowledge(actor=scene.staff.user, request=request)
        assert heard == []  # not before the commit
    activity = RequestActivity.objects.get(request=request, action="acknowledge")
    assert heard == [("request.updated", request.pk, activity.pk, "acknowledge", RequestStatus.ACKNOWLEDGED)]


def test_no_event_when_the_transaction_rolls_back(heard):
    scene = build_scene()
    request = scene.request()

    def acknowledge_then_fail():
        with transaction.atomic():
            services.service_request_acknowledge(actor=scene.staff.user, request=request)
            raise Boom

    with pytest.raises(Boom):
        acknowledge_then_fail()
    assert heard == []
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW


def test_no_event_for_a_repeat_or_a_refusal(heard):
    scene = build_scene()
    request = scene.request(status=RequestStatus.ACKNOWLEDGED)
    services.service_request_acknowledge(actor=scene.staff.user, request=request)
    with pytest.raises(services.IllegalTransition):
        services.service_request_complete(actor=scene.staff.user, request=request)
    assert heard == []


def test_create_and_note_events(heard):
    scene = build_scene()
    created = services.service_request_create(
        actor=scene.guest,
        stay=scene.stay,
        description="Extra blanket",
        created_via="guest",
        department_id=scene.department.pk,
    )
    note = services.service_request_add_note(actor=scene.staff.user, request=created, note="On it")
    assert [(kind, pk, action) for kind, pk, _, action, _ in heard] == [
        ("request.created", created.pk, "create"),
        ("request.note", created.pk, "note"),
    ]
    assert heard[1][2] == note.pk


@pytest.fixture
def broken_listener():
    def broken(**kwargs):
        raise Boom("listener bug")

    request_event.connect(broken, weak=False, dispatch_uid="broken-listener")
    yield
    request_event.disconnect(dispatch_uid="broken-listener")


def test_a_failing_listener_is_logged_and_does_not_stop_the_others(broken_listener, heard, caplog):
    # broken_listener is connected first, so it runs before the recording one.
    scene = build_scene()
    request = scene.request()
    with caplog.at_level(logging.ERROR, logger="refuje.concierge.events"):
        services.service_request_acknowledge(actor=scene.staff.user, request=request)
    assert len(heard) == 1
    assert "listener bug" in caplog.text
    request.refresh_from_db()
    assert request.status == RequestStatus.ACKNOWLEDGED


def test_api_changes_publish_events(heard):
    scene = build_scene()
    request = scene.request()
    response = scene.client(scene.staff.user).post(
        f"{scene.staff_url}{request.pk}/transition/", {"action": "acknowledge"}, format="json"
    )
    assert response.status_code == 200
    assert [(kind, action) for kind, _, _, action, _ in heard] == [("request.updated", "acknowledge")]
