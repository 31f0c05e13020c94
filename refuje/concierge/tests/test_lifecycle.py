"""Every (status, action) pair of the request lifecycle, through the API (the expiry job through its service).

The expected table is written out here on purpose: it is DESIGN.md's diagram, checked against the
code's table rather than derived from it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone

from refuje.common.errors import Conflict
from refuje.concierge import services
from refuje.concierge.models import RequestActivity, RequestStatus, ServiceRequest

pytestmark = pytest.mark.django_db

S = RequestStatus
# action → {from status: to status}; every other status refuses the action.
EXPECTED = {
    "acknowledge": {S.NEW: S.ACKNOWLEDGED},
    "confirm": {S.ACKNOWLEDGED: S.CONFIRMED},
    "decline": {S.ACKNOWLEDGED: S.DECLINED},
    "start": {S.ACKNOWLEDGED: S.IN_PROGRESS, S.CONFIRMED: S.IN_PROGRESS},
    "complete": {S.CONFIRMED: S.COMPLETED, S.IN_PROGRESS: S.COMPLETED},
    "cancel": {S.NEW: S.CANCELLED, S.ACKNOWLEDGED: S.CANCELLED},
    "expire": {S.NEW: S.EXPIRED, S.ACKNOWLEDGED: S.EXPIRED},
}
TARGET = {action: next(iter(moves.values())) for action, moves in EXPECTED.items()}
# What staff may do next, per status (the `allowed_actions` of a refusal).
STAFF_NEXT = {
    S.NEW: ["acknowledge"],
    S.ACKNOWLEDGED: ["confirm", "decline", "start"],
    S.CONFIRMED: ["start", "complete"],
    S.IN_PROGRESS: ["complete"],
}
GUEST_NEXT = {S.NEW: ["cancel"], S.ACKNOWLEDGED: ["cancel"]}
SYSTEM_NEXT = {S.NEW: ["expire"], S.ACKNOWLEDGED: ["expire"]}
PAIRS = [(status, action) for action in EXPECTED for status in RequestStatus.values]


def row(request):
    return model_to_dict(ServiceRequest.objects.get(pk=request.pk))


def body_for(action, request):
    """A valid body; a repeat carries exactly what was stored (a retry, not a new reason)."""
    if action == "decline":
        return {"action": action, "reason": request.declined_reason or "Fully booked tonight"}
    if action == "confirm" and request.status != S.CONFIRMED:
        return {"action": action, "reason": "Table for two", "scheduled_for": (timezone.now() + timedelta(hours=2))}
    return {"action": action}


def perform(scene, request, action):
    """Take `action` the way its party does: staff and guests through the API, expiry through its service."""
    if action == "cancel":
        return scene.client(scene.guest).post(f"/api/v1/guest/requests/{request.pk}/cancel/", {}, format="json")
    if action == "expire":
        try:
            services.service_request_expire(request=request, reason="Stay ended")
        except Conflict as exc:
            return exc
        return None
    return scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/", body_for(action, request), format="json"
    )


def refusal(outcome):
    """(status code, body) of a refusal, whether it came back over HTTP or was raised by a service."""
    if isinstance(outcome, Conflict):
        return 409, {"code": outcome.get_codes(), **outcome.extra}
    return outcome.status_code, outcome.json()


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_status_and_action(scene, status, action):
    request = scene.request(status=status)
    activities = RequestActivity.objects.filter(request=request)
    before_row, before_count = row(request), activities.count()

    outcome = perform(scene, request, action)

    if status in EXPECTED[action]:
        assert outcome is None or outcome.status_code == 200, getattr(outcome, "content", outcome)
        request.refresh_from_db()
        assert request.status == EXPECTED[action][status]
        added = list(activities.order_by("id"))[before_count:]
        assert len(added) == 1
        assert (added[0].action, added[0].from_status, added[0].to_status) == (action, status, request.status)
    elif status == TARGET[action]:
        # Repeating an applied action: a clean answer, nothing written.
        assert outcome is None or outcome.status_code == 200, getattr(outcome, "content", outcome)
        assert row(request) == before_row
        assert activities.count() == before_count
    else:
        code, body = refusal(outcome)
        assert code == 409
        assert body["code"] == "illegal_transition"
        allowed = {"cancel": GUEST_NEXT, "expire": SYSTEM_NEXT}.get(action, STAFF_NEXT)
        assert body["allowed_actions"] == allowed.get(status, [])
        assert row(request) == before_row
        assert activities.count() == before_count


def test_transition_table_has_exactly_the_documented_moves():
    from refuje.concierge.lifecycle import TRANSITIONS

    actual = {
        str(action): dict.fromkeys(transition.sources, transition.target) for action, transition in TRANSITIONS.items()
    }
    assert actual == {action: dict(moves) for action, moves in EXPECTED.items()}


def test_acknowledge_records_who_and_when(scene):
    request = scene.request()
    response = scene.client(scene.staff.user).post(
        f"{scene.staff_url}{request.pk}/transition/", {"action": "acknowledge"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACKNOWLEDGED"
    assert body["acknowledged_by"]["id"] == scene.staff.user.pk
    assert body["acknowledged_at"] is not None
    assert body["allowed_actions"] == ["confirm", "decline", "start"]
    assert [a["action"] for a in body["activities"]] == ["create", "acknowledge"]


def test_decline_without_reason_is_400_and_writes_nothing(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    before = row(request)
    for body in ({"action": "decline"}, {"action": "decline", "reason": "   "}):
        response = scene.client(scene.admin.user).post(
            f"{scene.staff_url}{request.pk}/transition/", body, format="json"
        )
        assert response.status_code == 400
        assert "reason" in response.json()
    assert row(request) == before
    assert RequestActivity.objects.filter(request=request).count() == 1


def test_decline_service_requires_a_reason_too(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    with pytest.raises(ValidationError) as caught:
        services.service_request_decline(actor=scene.admin.user, request=request, reason="  ")
    assert caught.value.error_dict["reason"][0].code == "blank"
    request.refresh_from_db()
    assert request.status == S.ACKNOWLEDGED


@pytest.mark.parametrize("action", ["acknowledge", "start", "complete"])
def test_reason_with_an_action_that_takes_none_is_400(scene, action):
    status = {"acknowledge": S.NEW, "start": S.ACKNOWLEDGED, "complete": S.IN_PROGRESS}[action]
    request = scene.request(status=status)
    before = row(request)
    response = scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/", {"action": action, "reason": "because"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert row(request) == before
    assert RequestActivity.objects.filter(request=request).count() == 1


def test_scheduled_for_only_with_confirm(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    response = scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/",
        {"action": "start", "scheduled_for": timezone.now() + timedelta(hours=1)},
        format="json",
    )
    assert response.status_code == 400
    assert "scheduled_for" in response.json()


def test_confirm_stores_reason_and_time(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    when = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    response = scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/",
        {"action": "confirm", "reason": "Table by the window", "scheduled_for": when.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.status, request.confirmation_reason, request.scheduled_for) == (
        S.CONFIRMED,
        "Table by the window",
        when,
    )
    assert request.activities.last().note == "Table by the window"


def test_a_new_reason_on_a_repeated_confirm_is_refused_as_reason_without_change(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    client = scene.client(scene.admin.user)
    url = f"{scene.staff_url}{request.pk}/transition/"
    assert client.post(url, {"action": "confirm", "reason": "At 8"}, format="json").status_code == 200
    before, count = row(request), RequestActivity.objects.filter(request=request).count()

    same = client.post(url, {"action": "confirm", "reason": "At 8"}, format="json")
    bare = client.post(url, {"action": "confirm"}, format="json")
    changed = client.post(url, {"action": "confirm", "reason": "At 9 instead"}, format="json")

    assert (same.status_code, bare.status_code) == (200, 200)
    assert changed.status_code == 400
    assert changed.json()["code"] == "reason_without_change"
    assert row(request) == before
    assert RequestActivity.objects.filter(request=request).count() == count


def test_a_different_reason_on_a_repeated_decline_is_refused(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    client = scene.client(scene.admin.user)
    url = f"{scene.staff_url}{request.pk}/transition/"
    assert client.post(url, {"action": "decline", "reason": "Closed"}, format="json").status_code == 200
    assert client.post(url, {"action": "decline", "reason": "Closed"}, format="json").status_code == 200
    again = client.post(url, {"action": "decline", "reason": "Something else"}, format="json")
    assert again.status_code == 400
    assert again.json()["code"] == "reason_without_change"
    assert RequestActivity.objects.filter(request=request, action="decline").count() == 1


def test_illegal_transition_answer_is_explained(scene):
    request = scene.request(status=S.COMPLETED)
    response = scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/",
        {"action": "acknowledge"},
        HTTP_ACCEPT_LANGUAGE="en",
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body == {
        "detail": body["detail"],
        "code": "illegal_transition",
        "status": "COMPLETED",
        "allowed_actions": [],
    }
    assert "Completed" in body["detail"]


def test_unknown_action_is_400(scene):
    request = scene.request()
    response = scene.client(scene.admin.user).post(
        f"{scene.staff_url}{request.pk}/transition/", {"action": "cancel"}, format="json"
    )
    assert response.status_code == 400
    assert "action" in response.json()


def test_final_statuses_record_when_the_request_closed(scene):
    request = scene.request(status=S.IN_PROGRESS)
    services.service_request_complete(actor=scene.admin.user, request=request)
    request.refresh_from_db()
    assert request.closed_at is not None
    assert request.completed_at == request.closed_at


def test_notes_are_activities_without_a_status_change(scene):
    request = scene.request(status=S.ACKNOWLEDGED)
    response = scene.client(scene.staff.user).post(
        f"{scene.staff_url}{request.pk}/notes/", {"note": "  Guest prefers after 6pm  "}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["is_internal"] is True
    note = RequestActivity.objects.get(pk=response.json()["id"])
    assert (note.action, note.from_status, note.to_status, note.note) == (
        "note",
        S.ACKNOWLEDGED,
        S.ACKNOWLEDGED,
        "Guest prefers after 6pm",
    )
    request.refresh_from_db()
    assert request.status == S.ACKNOWLEDGED


def test_blank_note_is_400(scene):
    request = scene.request()
    response = scene.client(scene.staff.user).post(
        f"{scene.staff_url}{request.pk}/notes/", {"note": " "}, format="json"
    )
    assert response.status_code == 400
    assert RequestActivity.objects.filter(request=request).count() == 1
