"""A small threaded HTTP server for fake providers: records every request, answers through a handler.

Each instance listens on its own 127.0.0.1 port chosen by the OS, so parallel test workers never
collide. Failure switches (fail the next N requests, add a delay) apply before the handler runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    raw_body: bytes
    json: Any = None  # decoded when the body is JSON
    form: dict[str, str] | None = None  # decoded when the body is form-encoded (last value wins)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def body(self) -> Any:
        """The parsed body, whichever encoding it used."""
        return self.form if self.form is not None else self.json


@dataclass(frozen=True)
class FakeResponse:
    status: int
    body: Any = None  # dict/list → JSON; str/bytes → as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        if self.body is None:
            return b"", "text/plain"
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[RecordedRequest], FakeResponse]


def _parse(method: str, target: str, headers: dict[str, str], raw: bytes) -> RecordedRequest:
    parts = urlsplit(target)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    decoded_json: Any = None
    form: dict[str, str] | None = None
    if content_type == "application/json" and raw:
        try:
            decoded_json = json.loads(raw)
        except ValueError:
            decoded_json = None
    elif content_type == "application/x-www-form-urlencoded":
        form = {key: values[-1] for key, values in parse_qs(raw.decode(), keep_blank_values=True).items()}
    return RecordedRequest(
        method=method,
        path=parts.path,
        query=parse_qs(parts.query, keep_blank_values=True),
        headers=headers,
        raw_body=raw,
        json=decoded_json,
        form=form,
    )


class FakeServer:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[FakeResponse] = []
        self._delays: list[float] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping on a delay switch
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("The fake server is not running.")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- recording ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- switches ----------------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, status: int = 500, body: Any = None) -> None:
        """Answer the next `count` requests with this status and body instead of the real handler."""
        with self._lock:
            self._failures.extend([FakeResponse(status, body)] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next `count` answers back for `seconds`, to push a client past its timeout."""
        with self._lock:
            self._delays.extend([seconds] * count)

    def reset_switches(self) -> None:
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    # --- serving -----------------------------------------------------------------------------
    def respond(self, recorded: RecordedRequest) -> FakeResponse:
        """Record the request, apply the switches, then let the fake's handler answer."""
        with self._lock:
            self._requests.append(recorded)
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if delay:
            self._stopping.wait(delay)
        if failure is not None:
            return failure
        return self._handler(recorded)


def _make_request_handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            recorded = _parse(self.command, self.path, headers, raw)
            try:
                response = server.respond(recorded)
            except Exception as exc:  # a bug in a fake must show up as a 500, not a hung client
                response = FakeResponse(500, {"fake_error": repr(exc)})
            payload, content_type = response.encode()
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        # http.server dispatches on these exact names.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; requests are recorded instead

    return RequestHandler
