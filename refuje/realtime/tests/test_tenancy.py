"""Tenant matrix for both streams, against a real ASGI server: each persona's status of the
initial response (headers only; a stream never ends), the one 404 body for another hotel, and
the guest stream open to every signed-in person but carrying only their own requests (see
test_streams.py for what arrives)."""

from __future__ import annotations

import httpx
import pytest

from refuje.common.testing.tenancy import (
    PERSONAS,
    TenantWorld,
    everyone,
    hotel_scoped,
    not_found_body,
)
from refuje.hotels.models import Role

from .support import DEADLINE_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

STREAMS = {
    "staff-stream": ("/api/v1/hotels/{w.a.slug}/requests/stream/", hotel_scoped(minimum=Role.VIEWER, ok=200)),
    "staff-stream-missing-hotel": ("/api/v1/hotels/no-such-hotel/requests/stream/", everyone(404)),
    "guest-stream": ("/api/v1/guest/requests/stream/", everyone(200)),
}
CODES = {401: "not_authenticated", 403: "role_too_low", 404: "not_found"}


def cookies_of(world: TenantWorld, persona: str) -> dict[str, str]:
    client = world.client(persona)
    return {name: morsel.value for name, morsel in client.cookies.items()}


@pytest.mark.parametrize("auth", ["jwt", "session"])
@pytest.mark.parametrize("name", sorted(STREAMS))
def test_stream_tenant_matrix(asgi_server, name, auth):
    world = TenantWorld(auth=auth)
    template, expect = STREAMS[name]
    path = world.render(template)
    failures = []
    for persona in PERSONAS:
        with (
            httpx.Client(
                base_url=asgi_server.base_url, cookies=cookies_of(world, persona), timeout=DEADLINE_SECONDS
            ) as client,
            client.stream("GET", path, headers={"Accept": "text/event-stream", "Accept-Language": "en"}) as response,
        ):
            status = response.status_code
            if status != expect[persona]:
                failures.append((persona, status, expect[persona], response.read()[:200]))
                continue
            if status == 200:
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["cache-control"] == "no-store"
                continue  # closing the client ends the stream
            body = response.read()
            payload = httpx.Response(status, content=body).json()
            if status == 404:
                assert payload == not_found_body(), (persona, payload)
            assert payload["code"] == CODES[status], (persona, payload)
    assert not failures, failures
