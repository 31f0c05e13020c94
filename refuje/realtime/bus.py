"""The event bus: domain events from any process to the live streams of every process.

A bus message is a small JSON object: a wake-up naming what changed and who may care (`kind`,
`activity_id`, `hotel_id`, `guest_id`, …), never the authoritative data. Streams read that from
the activity log (see feeds.py), so a lost message delays an event but never loses it.

- Production (`REALTIME_REDIS_URL`, by default `REDIS_URL`): publishing is one Redis PUBLISH from
  sync code (request threads, Celery workers); each process holds ONE subscription
  (`redis.asyncio`, started lazily, reconnecting with backoff) and fans messages out in process.
  A failed publish is logged and never breaks the writing request; the message is still delivered
  to this process's own streams, and other processes' streams catch up by polling while their
  subscription is down and once when it comes back.
- Embedded (no Redis): an in-process bus. The Celery worker is another process whose events never
  reach it, so streams also poll the activity log every `REALTIME_POLL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

Message = dict[str, Any]

DEFAULT_CHANNEL = "refuje:events"
DEFAULT_POLL_SECONDS = 15.0
DEFAULT_RETRY_MAX_SECONDS = 5.0
RETRY_MIN_SECONDS = 0.1
# Silence on the subscription longer than this makes redis-py ping the server, so a dead
# connection is noticed even when no events flow.
HEALTH_CHECK_SECONDS = 15
PUBLISH_TIMEOUT_SECONDS = 0.5


def redis_url() -> str:
    return str(getattr(settings, "REALTIME_REDIS_URL", "") or "")


def channel() -> str:
    return str(getattr(settings, "REALTIME_CHANNEL", DEFAULT_CHANNEL))


def poll_seconds() -> float:
    return float(getattr(settings, "REALTIME_POLL_SECONDS", DEFAULT_POLL_SECONDS))


def retry_max_seconds() -> float:
    return float(getattr(settings, "REALTIME_REDIS_RETRY_MAX_SECONDS", DEFAULT_RETRY_MAX_SECONDS))


# --- Publishing (sync) ----------------------------------------------------------------------

_publishers: dict[str, redis.Redis] = {}
_publishers_lock = threading.Lock()


def _publisher(url: str) -> redis.Redis:
    with _publishers_lock:
        client = _publishers.get(url)
        if client is None:
            # One quick attempt: a writer never waits on an unreachable bus.
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
                socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            _publishers[url] = client
        return client


def publish(message: Message) -> None:
    """Send `message` to the streams of every process. Never raises."""
    try:
        data = json.dumps(message, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        logger.exception("Realtime: cannot encode %r", message)
        return
    url = redis_url()
    if url:
        try:
            _publisher(url).publish(channel(), data)
        except Exception:
            logger.warning(
                "Realtime: publishing %s to Redis failed; other processes' streams catch up from the activity log",
                message.get("kind"),
                exc_info=True,
            )
        else:
            return  # this process hears it back through its own subscription
    deliver_locally(json.loads(data))


# --- The per-process hub --------------------------------------------------------------------

_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def deliver_locally(message: Message) -> None:
    """Hand `message` to every hub of this process (thread-safe)."""
    with _hubs_lock:
        hubs = list(_hubs.values())
    for hub in hubs:
        hub.post(message)


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under uvicorn)."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            hub = _hubs[loop] = Hub(loop)
    return hub


class Dispatcher:
    """What the hub hands messages to; feeds.FeedRegistry implements it."""

    def dispatch(self, message: Message) -> None:
        raise NotImplementedError

    def refresh_all(self) -> None:
        raise NotImplementedError


class Hub:
    """Receives bus messages for one event loop and passes them to its dispatchers.

    Owns the process's one Redis subscription and the polling ticker; both start with the first
    dispatcher (`start`). `live` is True while the Redis subscription is up: only then may streams
    rely on wake-ups alone.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.url = redis_url()
        self.live = False
        self.dispatchers: list[Dispatcher] = []
        self.taps: set[asyncio.Queue[Message]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._thread_id: int | None = None
        self.state: dict[str, object] = {}  # per-loop companions, e.g. the feed registry

    def start(self, dispatcher: Dispatcher) -> None:
        if dispatcher not in self.dispatchers:
            self.dispatchers.append(dispatcher)
        if self._tasks:
            return
        self._thread_id = threading.get_ident()
        self._tasks.append(self.loop.create_task(self._tick_forever()))
        if self.url:
            self._tasks.append(self.loop.create_task(self._subscribe_forever()))

    def tap(self) -> asyncio.Queue[Message]:
        """Every message this hub receives, for diagnostics and tests (remove with `untap`)."""
        queue: asyncio.Queue[Message] = asyncio.Queue()
        self.taps.add(queue)
        if not self._tasks:
            self.start(_NO_DISPATCHER)
        return queue

    def untap(self, queue: asyncio.Queue[Message]) -> None:
        self.taps.discard(queue)

    def post(self, message: Message) -> None:
        """Thread-safe entry for messages from sync code in this process."""
        if threading.get_ident() == self._thread_id:
            self.dispatch(message)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self.loop.call_soon_threadsafe(self.dispatch, message)

    def dispatch(self, message: Message) -> None:
        for queue in list(self.taps):
            queue.put_nowait(message)
        for dispatcher in self.dispatchers:
            try:
                dispatcher.dispatch(message)
            except Exception:
                logger.exception("Realtime: dispatching %r failed", message)

    def _refresh_all(self) -> None:
        for dispatcher in self.dispatchers:
            dispatcher.refresh_all()

    async def _tick_forever(self) -> None:
        # Without a live subscription, events of other processes arrive only through the log.
        while True:
            await asyncio.sleep(poll_seconds())
            if not self.live:
                self._refresh_all()

    async def _subscribe_forever(self) -> None:
        delay = RETRY_MIN_SECONDS
        while True:
            client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=1.0, health_check_interval=HEALTH_CHECK_SECONDS
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(channel())
                if not self.live:
                    logger.info("Realtime: subscribed to %s", channel())
                self.live = True
                delay = RETRY_MIN_SECONDS
                # Whatever was published while we were not listening is in the log.
                self._refresh_all()
                while True:
                    received = await pubsub.get_message(timeout=HEALTH_CHECK_SECONDS)
                    if received is not None and received.get("type") == "message":
                        self._receive(received["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.live:
                    logger.warning("Realtime: lost the Redis subscription (%s); polling until it is back", exc)
                self.live = False
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, retry_max_seconds())

    def _receive(self, data: bytes | str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("Realtime: ignoring a malformed bus message")
            return
        if isinstance(message, dict):
            self.dispatch(message)


class _NoDispatcher(Dispatcher):
    def dispatch(self, message: Message) -> None:
        return None

    def refresh_all(self) -> None:
        return None


_NO_DISPATCHER = _NoDispatcher()
