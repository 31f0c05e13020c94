"""Both streams end to end against a real ASGI server (uvicorn in a thread) with an httpx client:
every transition arrives with its kind and activity id, filtered per viewer; Last-Event-ID replays
missed events exactly once; disconnecting cleans up; late commits and events of other processes
are not lost."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from refuje.concierge import services
from refuje.concierge.escalation import escalation_run
from refuje.concierge.events import request_event
from refuje.concierge.models import RequestActivity, ServiceRequest
from refuje.hotels.models import HotelMembership
from refuje.realtime import bus, receivers
from refuje.realtime.feeds import FeedRegistry, kind_of

from .conftest import build_scene
from .support import jwt_cookies, open_stream, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def staff_path(scene) -> str:
    return f"/api/v1/hotels/{scene.hotel.slug}/requests/stream/"


GUEST_PATH = "/api/v1/guest/requests/stream/"


def create(scene, department=None, description="Two towels, please"):
    return services.service_request_create(
        actor=scene.guest,
        stay=scene.stay,
        description=description,
        created_via="guest",
        department_id=(department or scene.department).pk,
    )


def expected(activities) -> list[tuple[int, str]]:
    return [(activity.pk, kind_of(activity.action)) for activity in activities]


def seen(events) -> list[tuple[int | None, str]]:
    return [(event.id, event.kind) for event in events]


def test_staff_stream_carries_every_change_with_its_kind_and_activity_id(asgi_server):
    scene = build_scene()
    staff = scene.staff.user
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        first = create(scene)
        services.service_request_acknowledge(actor=staff, request=first)
        services.service_request_add_note(actor=staff, request=first, note="Guest is allergic to feathers")
        services.service_request_confirm(actor=staff, request=first, reason="On the way", scheduled_for=None)
        services.service_request_start(actor=staff, request=first)
        services.service_request_complete(actor=staff, request=first)
        second = create(scene, description="Fix the tap")
        services.service_request_acknowledge(actor=staff, request=second)
        services.service_request_decline(actor=staff, request=second, reason="Not our job")
        third = create(scene, description="Late checkout")
        services.service_request_cancel_by_guest(actor=scene.guest, request=third, reason="Never mind")
        overdue = create(scene, description="Nobody answers")
        escalation_run(now=timezone.now() + timedelta(days=1))  # level 1 and level 2

        activities = list(RequestActivity.objects.filter(hotel=scene.hotel).order_by("id"))
        events = stream.events(len(activities))

    assert seen(events) == expected(activities)
    kinds = [event.kind for event in events]
    assert kinds.count("request.created") == 4
    assert kinds.count("request.note") == 1
    assert kinds.count("request.escalated") == 2
    assert all(event.data["kind"] == event.kind for event in events)
    by_id = {event.id: event.data for event in events}
    note = next(a for a in activities if a.action == "note")
    assert by_id[note.pk]["activity"]["note"] == "Guest is allergic to feathers"
    assert by_id[note.pk]["activity"]["is_internal"] is True
    escalations = [event.data for event in events if event.kind == "request.escalated"]
    assert {data["request"]["id"] for data in escalations} == {overdue.pk}
    assert by_id[activities[-1].pk]["request"]["escalation_level"] == 2


def test_guest_stream_has_only_own_requests_without_internal_activities(asgi_server):
    scene = build_scene()
    staff = scene.staff.user
    other = build_scene()  # another hotel, another guest
    with (
        open_stream(asgi_server.base_url, GUEST_PATH, cookies=jwt_cookies(scene.guest)) as mine,
        open_stream(asgi_server.base_url, GUEST_PATH, cookies=jwt_cookies(other.guest)) as theirs,
    ):
        request = create(scene)
        services.service_request_add_note(actor=staff, request=request, note="VIP, be quick")
        services.service_request_acknowledge(actor=staff, request=request)
        escalation_run(now=timezone.now() + timedelta(days=1))  # nothing NEW left: no escalation
        overdue = create(scene, description="Ignored")
        escalation_run(now=timezone.now() + timedelta(days=1))
        services.service_request_cancel_by_guest(actor=scene.guest, request=overdue, reason="")
        # The other guest's first event is their own request: nothing of ours came before it.
        theirs_request = create(other)
        assert seen([theirs.next_event()]) == expected(RequestActivity.objects.filter(request=theirs_request))

        public = RequestActivity.objects.filter(request__stay=scene.stay, is_internal=False).order_by("id")
        events = mine.events(public.count())
        # …and the next one is again a public one: the internal ones never come.
        services.service_request_start(actor=staff, request=request)
        events.append(mine.next_event())

    assert seen(events) == expected(RequestActivity.objects.filter(request__stay=scene.stay, is_internal=False))
    assert RequestActivity.objects.filter(request__stay=scene.stay, is_internal=True).count() == 3
    for event in events:
        assert "is_internal" not in event.data["activity"]
        assert set(event.data["request"]) == {"id", "hotel", "status"}


def test_staff_below_admin_see_only_their_departments(asgi_server):
    scene = build_scene()
    with (
        open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.staff.user)) as staff,
        open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.viewer.user)) as viewer,
        open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user)) as admin,
    ):
        elsewhere = create(scene, department=scene.other_department)
        mine = create(scene)
        scene.viewer.departments.add(scene.other_department)
        # The viewer's departments are read when the stream starts (and re-checked periodically).
        with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.viewer.user)) as later:
            services.service_request_acknowledge(actor=scene.admin.user, request=elsewhere)
            ack = RequestActivity.objects.get(request=elsewhere, action="acknowledge")
            assert seen([later.next_event()]) == expected([ack])
        services.service_request_acknowledge(actor=scene.staff.user, request=mine)

        assert seen([staff.next_event()]) == expected(RequestActivity.objects.filter(request=mine, action="create"))
        assert seen(admin.events(4)) == expected(RequestActivity.objects.filter(hotel=scene.hotel).order_by("id"))
        # The first viewer stream started without departments: it sees nothing of either.
        create(scene, department=scene.other_department)
        staff_ack = RequestActivity.objects.get(request=mine, action="acknowledge")
        assert seen([staff.next_event()]) == expected([staff_ack])
        assert viewer.comments >= 1  # alive, heartbeating, silent


def test_reconnect_with_last_event_id_replays_missed_events_exactly_once(asgi_server):
    scene = build_scene()
    staff = scene.staff.user
    cookies = jwt_cookies(scene.admin.user)
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=cookies) as stream:
        request = create(scene)
        last = stream.next_event()
    assert last.id is not None
    services.service_request_acknowledge(actor=staff, request=request)
    services.service_request_add_note(actor=staff, request=request, note="Called the room")
    services.service_request_start(actor=staff, request=request)
    missed = list(RequestActivity.objects.filter(request=request).exclude(pk=last.id).order_by("id"))
    assert len(missed) == 3

    headers = {"Last-Event-ID": str(last.id)}
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=cookies, headers=headers) as stream:
        replayed = stream.events(3)
        services.service_request_complete(actor=staff, request=request)
        after = stream.next_event()
    assert seen(replayed) == expected(missed)
    complete = RequestActivity.objects.get(request=request, action="complete")
    assert seen([after]) == expected([complete])  # no duplicate of a replayed event came first

    # The query parameter works the same for clients that cannot set headers; nothing is replayed
    # twice and a guest's replay leaves out internal activities.
    path = f"{GUEST_PATH}?last_event_id={last.id}"
    with open_stream(asgi_server.base_url, path, cookies=jwt_cookies(scene.guest)) as stream:
        public = list(RequestActivity.objects.filter(request=request, is_internal=False, pk__gt=last.id))
        assert seen(stream.events(len(public))) == expected(public)
        services.service_request_add_note(actor=staff, request=request, note="Internal")
        other = create(scene, description="Sentinel")
        assert seen([stream.next_event()]) == expected(RequestActivity.objects.filter(request=other))


def _feeds():
    found = {}
    for hub in list(bus._hubs.values()):
        registry = hub.state.get("feeds")
        if isinstance(registry, FeedRegistry):
            found.update({key: len(feed.listeners) for key, feed in list(registry.feeds.items())})
    return found


def test_disconnect_unsubscribes(asgi_server):
    scene = build_scene()
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        assert _feeds() == {("hotel", scene.hotel.pk): 1}
        # Bound to a name: an unreferenced httpx stream closes its connection when collected.
        with open_stream(asgi_server.base_url, GUEST_PATH, cookies=jwt_cookies(scene.guest)) as _guest:
            assert _feeds() == {("hotel", scene.hotel.pk): 1, ("guest", scene.guest.pk): 1}
        wait_for(lambda: _feeds() == {("hotel", scene.hotel.pk): 1}, "the guest stream to be cleaned up")
        create(scene)
        stream.next_event()
    wait_for(lambda: _feeds() == {}, "the staff stream to be cleaned up")


def test_events_that_never_reach_this_process_arrive_by_polling_the_log(asgi_server):
    """Embedded mode: the Celery worker's events go to its own in-process bus, not ours."""
    scene = build_scene()
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        request_event.disconnect(dispatch_uid="realtime.relay_request_event")
        try:
            request = create(scene)
            escalation_run(now=timezone.now() + timedelta(days=1))
        finally:
            receivers.connect()
        events = stream.events(3)
    assert seen(events) == expected(RequestActivity.objects.filter(request=request).order_by("id"))


@pytest.mark.concurrency
def test_an_activity_committed_after_a_newer_one_is_delivered_once(asgi_server):
    """Ids are assigned at INSERT, visible at COMMIT: a lower id can become visible later."""
    scene = build_scene()
    slow, fast = create(scene, description="slow"), create(scene, description="fast")
    inserted, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def acknowledge_slowly():
        try:
            with transaction.atomic():
                services.service_request_acknowledge(
                    actor=scene.staff.user, request=ServiceRequest.objects.get(pk=slow.pk)
                )
                inserted.set()
                release.wait(30)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            inserted.set()

    with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        worker = threading.Thread(target=acknowledge_slowly)
        worker.start()
        assert inserted.wait(30)
        services.service_request_acknowledge(actor=scene.staff.user, request=fast)
        newer = stream.next_event()
        release.set()
        worker.join(30)
        older = stream.next_event()
        services.service_request_start(actor=scene.staff.user, request=fast)
        sentinel = stream.next_event()
    assert not failures
    slow_ack = RequestActivity.objects.get(request=slow, action="acknowledge")
    fast_ack = RequestActivity.objects.get(request=fast, action="acknowledge")
    start = RequestActivity.objects.get(request=fast, action="start")
    assert slow_ack.pk < fast_ack.pk
    assert [event.data["activity"]["id"] for event in (newer, older, sentinel)] == [fast_ack.pk, slow_ack.pk, start.pk]
    # The late event keeps the stream's highest id: a reconnect from it must not bring the newer
    # activity a second time.
    assert (newer.id, older.id, sentinel.id) == (fast_ack.pk, fast_ack.pk, start.pk)

    headers = {"Last-Event-ID": str(older.id)}
    with open_stream(
        asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.admin.user), headers=headers
    ) as again:
        first = again.next_event()
    assert (first.id, first.data["activity"]["id"]) == (start.pk, start.pk)


def test_a_stream_ends_when_access_is_withdrawn(asgi_server, settings):
    settings.REALTIME_REVALIDATE_SECONDS = 0.2
    scene = build_scene()
    with open_stream(asgi_server.base_url, staff_path(scene), cookies=jwt_cookies(scene.staff.user)) as stream:
        create(scene)
        assert stream.next_event().kind == "request.created"  # re-checked and still allowed
        HotelMembership.objects.filter(pk=scene.staff.pk).update(is_active=False)
        closed = stream.next_event()
    assert (closed.id, closed.kind, closed.data) == (None, "stream.closed", {})


def _other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_idle_streams_hold_no_database_connection(asgi_server, settings):
    settings.REALTIME_POLL_SECONDS = 3600  # no polling ticks while we count
    scenes = [build_scene() for _ in range(3)]
    with contextlib.ExitStack() as stack:
        streams = [
            stack.enter_context(open_stream(asgi_server.base_url, path, cookies=jwt_cookies(user)))
            for scene in scenes
            for path, user in ((staff_path(scene), scene.staff.user), (GUEST_PATH, scene.guest))
        ]
        wait_for(lambda: _other_connections() == 0, "the server to hold no database connection")
        create(scenes[0])  # the streams still work: the feed reads, then lets go again
        assert streams[0].next_event().kind == "request.created"
        wait_for(lambda: _other_connections() == 0, "the server to let go of its connection again")
        assert len(streams) == 6
