"""Live feeds of request activities, read from the activity log and shared by a process's streams.

One `Feed` per scope (a hotel's board, a guest's own requests) and event loop. On a wake-up from
the bus (or a polling tick) it reads the activities it has not seen from the database — once for
all the streams of that scope in this process — and appends them to a short in-memory buffer;
each stream keeps a position in that buffer and filters rows by what its viewer may see. A stream
therefore costs one queue and an integer, and holds no database connection while idle: every
read is a short call in a worker thread that closes its connection afterwards.

Activity ids are assigned at INSERT but become visible at COMMIT, so a lower id can appear after a
higher one. A feed therefore also re-reads the ids of the last `REALTIME_LOOKBACK_SECONDS` and
appends any it has not seen yet: late commits are delivered, and never twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.utils import timezone

from refuje.concierge.models import RequestAction, RequestActivity

from .bus import Dispatcher, Hub, Message

logger = logging.getLogger(__name__)

T = TypeVar("T")

HOTEL = "hotel"
GUEST = "guest"
ScopeKey = tuple[str, int]

DEFAULT_LOOKBACK_SECONDS = 60.0
DEFAULT_BUFFER_ROWS = 1000
DEFAULT_FETCH_LIMIT = 500

REQUEST_CREATED = "request.created"
REQUEST_UPDATED = "request.updated"
REQUEST_NOTE = "request.note"
REQUEST_ESCALATED = "request.escalated"
REQUEST_KINDS = (REQUEST_CREATED, REQUEST_UPDATED, REQUEST_NOTE, REQUEST_ESCALATED)


def kind_of(action: str) -> str:
    """The event kind of an activity: the same live and on replay."""
    if action == RequestAction.CREATE:
        return REQUEST_CREATED
    if action == RequestAction.NOTE:
        return REQUEST_NOTE
    if action == RequestAction.ESCALATE:
        return REQUEST_ESCALATED
    return REQUEST_UPDATED


def lookback_seconds() -> float:
    return float(getattr(settings, "REALTIME_LOOKBACK_SECONDS", DEFAULT_LOOKBACK_SECONDS))


def buffer_rows() -> int:
    return int(getattr(settings, "REALTIME_BUFFER_ROWS", DEFAULT_BUFFER_ROWS))


def fetch_limit() -> int:
    return int(getattr(settings, "REALTIME_FETCH_LIMIT", DEFAULT_FETCH_LIMIT))


# --- Database access (sync, each call in a worker thread) -----------------------------------


def _closing(function: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any) -> T:
        try:
            return function(*args)
        finally:
            # Worker threads are shared by every stream: never leave a connection behind.
            connections.close_all()

    return run


# Feed reads get threads of their own: they are what every stream of a scope waits for, and must
# not queue behind per-connection work (access checks of new and long-lived streams).
_feed_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="realtime-feed")


async def in_thread(function: Callable[..., T], *args: Any, feed: bool = False) -> T:
    """Run a short piece of sync database work off the event loop and close its connection."""
    executor = _feed_threads if feed else None
    return await sync_to_async(_closing(function), thread_sensitive=False, executor=executor)(*args)


@dataclass(frozen=True, slots=True)
class Row:
    """One activity as the streams need it: routing fields and the two rendered payloads."""

    id: int
    kind: str
    department_id: int
    is_internal: bool
    staff_event: bytes  # the SSE event without its `id:` line, encoded once for every stream
    guest_event: bytes | None  # None: staff only


ROW_FIELDS = (
    "id",
    "action",
    "from_status",
    "to_status",
    "note",
    "is_internal",
    "at",
    "actor_id",
    "request_id",
    "hotel__slug",
    "request__department_id",
    "request__status",
    "request__priority",
    "request__escalation_level",
    "request__response_due_at",
    "request__updated_at",
    "request__stay__room",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _row(values: dict[str, Any]) -> Row:
    kind = kind_of(values["action"])
    activity = {
        "id": values["id"],
        "action": values["action"],
        "from_status": values["from_status"],
        "to_status": values["to_status"],
        "note": values["note"],
        "at": _iso(values["at"]),
    }
    request = {"id": values["request_id"], "hotel": values["hotel__slug"], "status": values["request__status"]}
    staff = {
        "kind": kind,
        "activity": {**activity, "is_internal": values["is_internal"], "actor": values["actor_id"]},
        "request": {
            **request,
            "department": values["request__department_id"],
            "priority": values["request__priority"],
            "escalation_level": values["request__escalation_level"],
            "room": values["request__stay__room"],
            "response_due_at": _iso(values["request__response_due_at"]),
            "updated_at": _iso(values["request__updated_at"]),
        },
    }
    guest = None if values["is_internal"] else {"kind": kind, "activity": activity, "request": request}
    return Row(
        id=values["id"],
        kind=kind,
        department_id=values["request__department_id"],
        is_internal=values["is_internal"],
        staff_event=sse_event(kind, staff),
        guest_event=sse_event(kind, guest) if guest else None,
    )


def sse_event(kind: str, data: dict[str, Any]) -> bytes:
    """An SSE event without its `id:` line, which each stream adds (see views.event_stream)."""
    # json.dumps escapes newlines inside strings, so `data:` stays one line.
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {kind}\ndata: {payload}\n\n".encode()


def _scope(key: ScopeKey) -> Any:
    kind, pk = key
    if kind == HOTEL:
        return RequestActivity.objects.filter(hotel_id=pk)
    # A guest never sees internal activities (notes, escalations): they are not even read.
    return RequestActivity.objects.filter(request__stay__guest_id=pk, is_internal=False)


def rows_after(key: ScopeKey, after: int, limit: int) -> list[Row]:
    query = _scope(key).filter(id__gt=after).order_by("id").values(*ROW_FIELDS)[:limit]
    return [_row(values) for values in query]


def rows_by_id(key: ScopeKey, ids: list[int]) -> list[Row]:
    query = _scope(key).filter(id__in=ids).order_by("id").values(*ROW_FIELDS)
    return [_row(values) for values in query]


def ids_between(key: ScopeKey, lower: int, upper: int) -> list[int]:
    return list(_scope(key).filter(id__gt=lower, id__lte=upper).order_by("id").values_list("id", flat=True))


def rows_since(key: ScopeKey, cursor: int, floor: int, seen: frozenset[int], limit: int) -> tuple[list[Row], list[Row]]:
    """(new, late): up to `limit` rows after `cursor`, and rows in (floor, cursor] not in `seen`
    (committed after a newer one). One worker-thread call, one connection."""
    new = rows_after(key, cursor, limit)
    late_ids = [pk for pk in ids_between(key, floor, cursor) if pk not in seen]
    return new, rows_by_id(key, late_ids) if late_ids else []


def scope_start(key: ScopeKey, lookback: float) -> tuple[int, int, list[int]]:
    """(lower, cursor, recent ids): the newest id, the newest id older than the lookback, and the
    ids in between, which already existed when the feed started."""
    cursor = _scope(key).order_by("-id").values_list("id", flat=True).first() or 0
    cutoff = timezone.now() - timedelta(seconds=lookback)
    lower = _scope(key).filter(at__lt=cutoff).order_by("-id").values_list("id", flat=True).first() or 0
    lower = min(lower, cursor)
    return lower, cursor, ids_between(key, lower, cursor)


# --- Feeds ----------------------------------------------------------------------------------


class Feed:
    """The activities of one scope, as this process discovers them, in discovery order.

    `rows[i]` has position `start + i`; positions only grow. Listeners are woken (a coalescing
    queue of size one each) whenever rows were appended.
    """

    def __init__(self, key: ScopeKey) -> None:
        self.key = key
        self.rows: list[Row] = []
        self.start = 0
        self.listeners: set[asyncio.Queue[None]] = set()
        self.ready = asyncio.Event()
        self.failed_at: float | None = None
        self._cursor = 0
        self._seen: dict[int, float] = {}  # id → when seen, for ids above the lookback floor
        self._history: deque[tuple[float, int]] = deque()  # (when, cursor) to find the floor
        self._running = False
        self._again = False
        self._task: asyncio.Task[None] | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.rows)

    def row_at(self, position: int) -> Row:
        return self.rows[position - self.start]

    def refresh(self) -> None:
        """Read the log soon; a refresh already running runs once more instead (single flight)."""
        if self._running:
            self._again = True
            return
        self._running = True
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    if not self.ready.is_set():
                        await self._initialise()
                    else:
                        await self._fetch()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The database is down or busy: the streams keep their heartbeats, the next
                    # wake-up or tick tries again.
                    logger.warning("Realtime: reading the activity log for %s failed", self.key, exc_info=True)
                    self.failed_at = time.monotonic()
                    break
                if not self._again:
                    break
        finally:
            self._running = False

    async def _initialise(self) -> None:
        lookback = lookback_seconds()
        lower, cursor, recent = await in_thread(scope_start, self.key, lookback, feed=True)
        now = time.monotonic()
        self._cursor = cursor
        self._seen = dict.fromkeys(recent, now)
        self._history.append((now - lookback, lower))
        self._history.append((now, cursor))
        self.ready.set()
        self._wake()

    def _floor(self, now: float) -> int:
        """The cursor as it was one lookback ago: ids above it may still be committed late."""
        horizon = now - lookback_seconds()
        while len(self._history) > 1 and self._history[1][0] <= horizon:
            self._history.popleft()
        return self._history[0][1] if self._history else 0

    async def _fetch(self) -> None:
        now = time.monotonic()
        floor = self._floor(now)
        limit = fetch_limit()
        new, late = await in_thread(rows_since, self.key, self._cursor, floor, frozenset(self._seen), limit, feed=True)
        found = [row for row in [*late, *new] if row.id not in self._seen]
        for row in found:
            self._seen[row.id] = now
        if new:
            self._cursor = max(self._cursor, new[-1].id)
            self._history.append((now, self._cursor))
        self._seen = {pk: when for pk, when in self._seen.items() if pk > floor}
        if found:
            self.rows.extend(found)
            overflow = len(self.rows) - buffer_rows()
            if overflow > 0:
                del self.rows[:overflow]
                self.start += overflow
            self._wake()
        if len(new) == limit:
            self._again = True

    def _wake(self) -> None:
        for queue in self.listeners:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)


class FeedRegistry(Dispatcher):
    """The feeds of one event loop, woken by the hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.feeds: dict[ScopeKey, Feed] = {}

    def join(self, key: ScopeKey) -> tuple[Feed, asyncio.Queue[None]]:
        feed = self.feeds.get(key)
        if feed is None:
            feed = self.feeds[key] = Feed(key)
            self.hub.start(self)
            feed.refresh()
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        feed.listeners.add(queue)
        return feed, queue

    def leave(self, feed: Feed, queue: asyncio.Queue[None]) -> None:
        feed.listeners.discard(queue)
        if not feed.listeners and self.feeds.get(feed.key) is feed:
            del self.feeds[feed.key]

    def dispatch(self, message: Message) -> None:
        if message.get("kind") not in REQUEST_KINDS:
            return
        for key in ((HOTEL, message.get("hotel_id")), (GUEST, message.get("guest_id"))):
            feed = self.feeds.get(key)  # type: ignore[arg-type]
            if feed is not None:
                feed.refresh()

    def refresh_all(self) -> None:
        for feed in list(self.feeds.values()):
            feed.refresh()


def registry(hub: Hub) -> FeedRegistry:
    found = hub.state.get("feeds")
    if not isinstance(found, FeedRegistry):
        found = hub.state["feeds"] = FeedRegistry(hub)
    return found
