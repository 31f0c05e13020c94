"""Across web nodes: two uvicorn processes (config.asgi) on the test database and a Redis of our
own. A request created through one node reaches a stream on the other; with Redis stopped,
creating still works and streams catch up from the activity log, then resubscribe when it is back."""

from __future__ import annotations

import httpx
import pytest

from refuje.concierge.models import RequestActivity
from refuje.realtime import bus

from .conftest import build_scene
from .support import ProcessServer, bearer, jwt_cookies, node_environment, open_stream, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def nodes(private_redis, tmp_path):
    started: list[ProcessServer] = []

    def start(*names: str, **extra: str) -> list[ProcessServer]:
        servers = [
            ProcessServer(node_environment(private_redis.url, **extra), tmp_path / f"{name}.log").spawn()
            for name in names
        ]
        started.extend(servers)
        return [server.wait_ready() for server in servers]  # both boot at once

    yield start
    for server in started:
        server.stop()


def create_through(node: ProcessServer, scene) -> dict:
    response = httpx.post(
        f"{node.base_url}/api/v1/guest/requests/",
        json={"hotel": scene.hotel.slug, "department": scene.department.pk, "description": "Two towels"},
        headers=bearer(scene.guest),
        timeout=20,
    )
    assert response.status_code == 201, response.text
    return response.json()


def stream_path(scene) -> str:
    return f"/api/v1/hotels/{scene.hotel.slug}/requests/stream/"


def test_a_request_created_on_one_node_reaches_a_stream_on_another(nodes, private_redis):
    scene = build_scene()
    # No polling at all: only Redis can carry the event from one node to the other.
    a, b = nodes("a", "b", REALTIME_POLL_SECONDS="3600")
    with open_stream(b.base_url, stream_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        wait_for(lambda: private_redis.subscribers(bus.channel()) == 1, "node b to subscribe")
        created = create_through(a, scene)
        event = stream.next_event()
        response = httpx.post(
            f"{a.base_url}/api/v1/hotels/{scene.hotel.slug}/requests/{created['id']}/transition/",
            json={"action": "acknowledge"},
            headers=bearer(scene.staff.user),
            timeout=20,
        )
        assert response.status_code == 200, response.text
        update = stream.next_event()
    activities = list(RequestActivity.objects.filter(request_id=created["id"]).order_by("id"))
    assert [(event.id, event.kind), (update.id, update.kind)] == [
        (activities[0].pk, "request.created"),
        (activities[1].pk, "request.updated"),
    ]
    assert event.data["request"]["id"] == created["id"]


def test_with_redis_stopped_writes_work_and_streams_catch_up_then_resubscribe(nodes, private_redis, tmp_path):
    scene = build_scene()
    a, b = nodes("a", "b")
    with open_stream(b.base_url, stream_path(scene), cookies=jwt_cookies(scene.admin.user)) as stream:
        wait_for(lambda: private_redis.subscribers(bus.channel()) == 1, "node b to subscribe")
        private_redis.stop()

        during = create_through(a, scene)  # the write does not depend on the bus
        missed = stream.next_event()  # node b polls the activity log while Redis is away

        private_redis.start()  # same port, empty: node b must subscribe again by itself
        wait_for(lambda: private_redis.subscribers(bus.channel()) == 1, "node b to resubscribe", errors=(Exception,))
        after = create_through(a, scene)
        back = stream.next_event()
    assert (missed.kind, missed.data["request"]["id"]) == ("request.created", during["id"])
    assert (back.kind, back.data["request"]["id"]) == ("request.created", after["id"])
    assert len({missed.id, back.id}) == 2
    log = (tmp_path / "a.log").read_text()
    assert "publishing request.created to Redis failed" in log
    assert "lost the Redis subscription" in (tmp_path / "b.log").read_text()
