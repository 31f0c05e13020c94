"""Test harness for live streams: a private redis-server, ASGI servers (in a thread or as uvicorn
processes on the test database) and a small SSE client on httpx."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from django.conf import settings
from django.db import connection

from refuje.accounts.sessions import session_start

BASE_DIR = Path(settings.BASE_DIR)
DEADLINE_SECONDS = 20.0  # a guard against hanging, never a timing assertion


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server of our own on a free port: stopping it touches nobody else's tests."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is required (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert self.binary is not None
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        wait_for(client.ping, "redis-server to start", errors=(redis.ConnectionError,))

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

    def subscribers(self, channel: str) -> int:
        counts = self.client().pubsub_numsub(channel)
        return int(counts[0][1]) if counts else 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def wait_for(
    check: Callable[[], Any], what: str, *, errors: tuple[type[Exception], ...] = (), seconds: float = DEADLINE_SECONDS
) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except errors:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


# --- Servers --------------------------------------------------------------------------------


class ThreadServer:
    """uvicorn serving config.asgi in a thread of the test process (same settings, same database)."""

    def __init__(self) -> None:
        from config.asgi import application

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        wait_for(lambda: self.server.started, "the in-thread server to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ProcessServer:
    """`uvicorn config.asgi:application` in its own process, on the test database."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessServer:
        return self.spawn().wait_ready()

    def spawn(self) -> ProcessServer:
        command = [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--lifespan", "off", "--log-level", "info", "--no-access-log",
            "--timeout-graceful-shutdown", "1",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self) -> ProcessServer:
        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"server exited: {self.log.read_text()[-3000:]}")
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200

        wait_for(healthy, "the server process to start", errors=(httpx.HTTPError,), seconds=60)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait()
        self.process = None


def node_environment(redis_url: str, **extra: str) -> dict[str, str]:
    """A server process on the pytest database (rows committed by transactional tests)."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REFUJE_TESTING": "1",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": redis_url,
            "REALTIME_REDIS_URL": redis_url,
            "REALTIME_HEARTBEAT_SECONDS": "0.5",
            "REALTIME_POLL_SECONDS": "0.5",
            "REALTIME_REDIS_RETRY_MAX_SECONDS": "0.5",
            "AUTH_COOKIE_SECURE": "false",
            "SECURE_SSL_REDIRECT": "false",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


# --- Clients --------------------------------------------------------------------------------


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_start(user=user).access}"}


def jwt_cookies(user: Any) -> dict[str, str]:
    return {settings.AUTH_ACCESS_COOKIE: session_start(user=user).access}


@dataclass
class Event:
    id: int | None
    kind: str
    data: dict[str, Any]


@dataclass
class Stream:
    """An open SSE response read event by event (comments are counted, not returned)."""

    response: httpx.Response
    lines: Iterator[str]
    comments: int = 0
    received: list[Event] = field(default_factory=list)

    def next_event(self) -> Event:
        event_id: int | None = None
        kind = "message"
        data: list[str] = []
        deadline = time.monotonic() + DEADLINE_SECONDS  # heartbeats alone would keep us reading forever
        for line in self.lines:
            if time.monotonic() > deadline:
                raise AssertionError(f"no event within {DEADLINE_SECONDS:.0f}s (received so far: {self.received})")
            if line == "":
                if data:
                    event = Event(event_id, kind, json.loads("\n".join(data)))
                    self.received.append(event)
                    return event
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                event_id = int(value)
            elif name == "event":
                kind = value
            elif name == "data":
                data.append(value)
        raise AssertionError("the stream ended")

    def events(self, count: int) -> list[Event]:
        return [self.next_event() for _ in range(count)]

    def connected(self) -> Stream:
        """Read up to the `: connected` comment: from then on the stream misses nothing."""
        for line in self.lines:
            if line.startswith(":"):
                self.comments += 1
                if line == ": connected":
                    return self
        raise AssertionError("the stream ended")


@contextlib.contextmanager
def open_stream(
    base_url: str, path: str, *, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Iterator[Stream]:
    timeout = httpx.Timeout(DEADLINE_SECONDS)
    with (
        httpx.Client(base_url=base_url, cookies=cookies, timeout=timeout, trust_env=False) as client,
        client.stream("GET", path, headers={"Accept": "text/event-stream", **(headers or {})}) as response,
    ):
        assert response.status_code == 200, (response.status_code, response.read()[:300])
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response, response.iter_lines()).connected()
