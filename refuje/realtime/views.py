"""Server-sent event streams of service requests: the staff board of a hotel and a guest's own.

Plain Django async views (DRF has no async views), served under ASGI. Each connection is checked
once, in a worker thread, by a DRF view (`*StreamView`): the same authenticators (session or JWT
cookie: EventSource cannot send headers), the same access helpers and the same error bodies as
every other endpoint; those views also describe the streams in the OpenAPI schema. Then the
stream relays its feed (feeds.py): `event:` is the kind, `data:` a JSON object with the activity,
and `id:` the highest RequestActivity id this stream has delivered. That is the event's own
activity id, except for an activity committed after a newer one (delivered late): it keeps the
higher id, so a reconnect does not replay the newer one a second time. A `Last-Event-ID` (header,
or `last_event_id` in the query) replays what came after it from the activity log, exactly once.
Heartbeat comments keep proxies from closing idle streams. Under WSGI these views would hold a
worker per client: serve them with uvicorn (config.asgi).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.accounts.models import User
from refuje.common.api import HOTEL_PATH, NOT_FOUND, NOT_SIGNED_IN, ROLE_TOO_LOW, actor_of
from refuje.common.errors import ApiError
from refuje.hotels.access import access_membership
from refuje.hotels.models import Role, role_rank

from .bus import get_hub
from .feeds import GUEST, HOTEL, Row, ScopeKey, fetch_limit, in_thread, registry, rows_after

DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_REVALIDATE_SECONDS = 60.0
DEFAULT_RETRY_MILLISECONDS = 3000
VIEWER_ATTRIBUTE = "_realtime_viewer"
MAX_EVENT_ID_DIGITS = 18
TAG = "requests"
PING = b": ping\n\n"


def heartbeat_seconds() -> float:
    return float(getattr(settings, "REALTIME_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS))


def revalidate_seconds() -> float:
    return float(getattr(settings, "REALTIME_REVALIDATE_SECONDS", DEFAULT_REVALIDATE_SECONDS))


def retry_milliseconds() -> int:
    return int(getattr(settings, "REALTIME_RETRY_MILLISECONDS", DEFAULT_RETRY_MILLISECONDS))


# --- Who is watching ------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """What one stream may see: a hotel's board (staff, filtered by departments below ADMIN,
    internal activities included) or a guest's own requests (no internal activities)."""

    user_id: int
    scope: ScopeKey
    staff: bool
    hotel_slug: str = ""
    all_departments: bool = True
    departments: frozenset[int] = frozenset()

    def render(self, row: Row) -> bytes | None:
        if not self.staff:
            return row.guest_event
        if self.all_departments or row.department_id in self.departments:
            return row.staff_event
        return None


def staff_viewer(actor: User, hotel_slug: str) -> Viewer:
    """Exactly the staff request list's scope (refuje.concierge.selectors.requests_visible_to)."""
    membership = access_membership(actor, hotel_slug, minimum=Role.VIEWER)
    everything = role_rank(membership.role) >= role_rank(Role.ADMIN)
    departments: frozenset[int] = frozenset()
    if not everything and membership.pk is not None:
        departments = frozenset(membership.departments.values_list("pk", flat=True))
    return Viewer(
        user_id=actor.pk,
        scope=(HOTEL, membership.hotel_id),
        staff=True,
        hotel_slug=hotel_slug,
        all_departments=everything,
        departments=departments,
    )


def guest_viewer(actor: User) -> Viewer:
    return Viewer(user_id=actor.pk, scope=(GUEST, actor.pk), staff=False)


def viewer_again(viewer: Viewer) -> Viewer | None:
    """The viewer as of now (roles, departments, deactivation), or None when access is gone."""
    user = User.objects.filter(pk=viewer.user_id, is_active=True).first()
    if user is None:
        return None
    if not viewer.staff:
        return viewer
    try:
        fresh = staff_viewer(user, viewer.hotel_slug)
    except ApiError:
        return None
    if fresh.scope != viewer.scope:
        return None  # the slug now names another hotel
    return replace(viewer, all_departments=fresh.all_departments, departments=fresh.departments)


def last_event_id(request: HttpRequest) -> int | None:
    raw = (request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_EVENT_ID_DIGITS:
        return int(raw)
    return None  # absent or not one of our ids: start from now


# --- The stream -----------------------------------------------------------------------------


def _with_id(event_id: int, event: bytes) -> bytes:
    return b"id: %d\n" % event_id + event


async def _replay(viewer: Viewer, after: int, replayed: set[int]) -> AsyncIterator[bytes]:
    """Rows after `after` in id order: each one's id is the stream's new highest."""
    limit = fetch_limit()
    while True:
        rows = await in_thread(rows_after, viewer.scope, after, limit)
        for row in rows:
            after = row.id
            chunk = viewer.render(row)
            if chunk is not None and row.id not in replayed:
                replayed.add(row.id)
                yield _with_id(row.id, chunk)
        if len(rows) < limit:
            return


async def event_stream(viewer: Viewer, last_id: int | None) -> AsyncIterator[bytes]:
    feeds = registry(get_hub())
    feed, wake = feeds.join(viewer.scope)
    heartbeat = heartbeat_seconds()
    try:
        while not feed.ready.is_set():  # the feed's first read of the log
            try:
                await asyncio.wait_for(feed.ready.wait(), heartbeat)
            except TimeoutError:
                yield PING
                feed.refresh()
        position = feed.end
        # From here on nothing is missed: a client may rely on this comment.
        yield f"retry: {retry_milliseconds()}\n: connected\n\n".encode()
        # Ids sent by replay, which the feed may discover again; only replay adds to it.
        replayed: set[int] = set()
        high_water = last_id or 0
        if last_id is not None:
            async for chunk in _replay(viewer, last_id, replayed):
                yield chunk
            high_water = max([high_water, *replayed])
        next_check = time.monotonic() + revalidate_seconds()
        while True:
            while position < feed.end:
                if position < feed.start:
                    # Too slow for the buffer: what it dropped is in the log.
                    position = feed.end
                    async for chunk in _replay(viewer, high_water, replayed):
                        yield chunk
                    high_water = max([high_water, *replayed])
                    continue
                row = feed.row_at(position)
                position += 1
                if row.id in replayed:
                    continue
                rendered = viewer.render(row)
                if rendered is not None:
                    high_water = max(high_water, row.id)
                    yield _with_id(high_water, rendered)
            try:
                # asyncio.timeout, not wait_for: no extra task per wait, which counts at 1,000 streams.
                async with asyncio.timeout(heartbeat):
                    await wake.get()
            except TimeoutError:
                yield PING
            if time.monotonic() >= next_check:
                fresh = await in_thread(viewer_again, viewer)
                if fresh is None:
                    # No longer allowed: end the stream; the reconnect gets the 404/401.
                    yield b"event: stream.closed\ndata: {}\n\n"
                    return
                viewer = fresh
                next_check = time.monotonic() + revalidate_seconds()
    finally:
        feeds.leave(feed, wake)


def _stream_response(viewer: Viewer, request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(event_stream(viewer, last_event_id(request)), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response


# --- Access checks and schema ---------------------------------------------------------------


class JsonOnly(BaseContentNegotiation):
    """EventSource asks for text/event-stream; refusals are answered in JSON regardless."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


LAST_EVENT_ID_HEADER = OpenApiParameter(
    "Last-Event-ID",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    description="The `id:` of the last event received; what came after it is replayed first, exactly once.",
)
LAST_EVENT_ID_QUERY = OpenApiParameter(
    "last_event_id", OpenApiTypes.INT, description="Same as the `Last-Event-ID` header, for clients that cannot set it."
)
EVENTS = (
    "`text/event-stream`. Each event: `id:` (the request activity id), `event:` (`request.created`, "
    "`request.updated`, `request.note`, `request.escalated`) and `data:` (JSON: `kind`, `activity` "
    "{id, action, from_status, to_status, note, at}, `request` {id, hotel, status, …} as it is now). "
    "Comments (`: ping`) every 15 s keep the connection open. Reconnect with `Last-Event-ID` to get "
    "missed events exactly once. Session or JWT-cookie authentication (EventSource sends cookies, not "
    "headers); Bearer works for native clients."
)


def _stream_ok(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.STR, description=description)


class StaffRequestStreamView(APIView):
    """Checks access to `staff_request_stream` and describes it; never streams itself."""

    content_negotiation_class = JsonOnly

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_stream",
        summary="Live events of the hotel's requests (SSE) [VIEWER; below ADMIN only your departments']",
        description=EVENTS + " Staff see internal notes and escalations.",
        parameters=[HOTEL_PATH, LAST_EVENT_ID_HEADER, LAST_EVENT_ID_QUERY],
        responses={
            (200, "text/event-stream"): _stream_ok("An endless event stream."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        setattr(request._request, VIEWER_ATTRIBUTE, staff_viewer(actor_of(request), hotel))
        return Response(status=200)


class GuestRequestStreamView(APIView):
    """Checks access to `guest_request_stream` and describes it; never streams itself."""

    content_negotiation_class = JsonOnly

    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_stream",
        summary="Live events of my requests (SSE)",
        description=EVENTS + " Only your own requests, without internal notes.",
        parameters=[LAST_EVENT_ID_HEADER, LAST_EVENT_ID_QUERY],
        responses={
            (200, "text/event-stream"): _stream_ok("An endless event stream."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request) -> Response:
        setattr(request._request, VIEWER_ATTRIBUTE, guest_viewer(actor_of(request)))
        return Response(status=200)


_staff_check = StaffRequestStreamView.as_view()
_guest_check = GuestRequestStreamView.as_view()


def _checked(check: Any, request: HttpRequest, kwargs: dict[str, Any]) -> HttpResponseBase:
    response: HttpResponseBase = check(request, **kwargs)
    render = getattr(response, "render", None)
    if callable(render):
        render()
    return response


async def _serve(check: Any, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
    refusal = await in_thread(_checked, check, request, kwargs)
    viewer = getattr(request, VIEWER_ATTRIBUTE, None)
    if not isinstance(viewer, Viewer):
        return refusal
    return _stream_response(viewer, request)


async def staff_request_stream(request: HttpRequest, hotel: str) -> HttpResponseBase:
    return await _serve(_staff_check, request, hotel=hotel)


async def guest_request_stream(request: HttpRequest) -> HttpResponseBase:
    return await _serve(_guest_check, request)


# drf-spectacular lists URL callbacks that carry an APIView class: these document the streams.
staff_request_stream.cls = StaffRequestStreamView  # type: ignore[attr-defined]
staff_request_stream.initkwargs = {}  # type: ignore[attr-defined]
guest_request_stream.cls = GuestRequestStreamView  # type: ignore[attr-defined]
guest_request_stream.initkwargs = {}  # type: ignore[attr-defined]
