"""SSE fan-out: how many staff streams one server process holds, publish→receive latency, memory.

    .venv/bin/python bench/sse_fanout.py [--clients 1000] [--events 30] [--interval 0.5]

1. drops and recreates a dedicated PostgreSQL database (`refuje_bench_sse`), migrates it and seeds a
   hotel, a department, a STAFF member of it and guests with active stays (bench/seed.py);
2. starts ONE uvicorn process (`config.asgi`, production settings, Redis pub/sub on 127.0.0.1:6379
   with a channel of its own, so nothing else hears the run);
3. opens `--clients` concurrent streams of `GET hotels/{hotel}/requests/stream/` (raw asyncio sockets,
   Bearer token of the STAFF member) and waits until each has said `: connected`;
4. records the server's RSS and thread count before and after the clients connected;
5. creates `--events` requests one after another through `POST guest/requests/`, `--interval` apart,
   and times, for every client, the arrival of each event: from the moment the bus message was
   published (the bench subscribes to the same Redis channel and notes when each message arrives,
   which is when the server's own subscription gets it) and from the moment the POST was sent;
6. checks that every client got every event exactly once, prints a Markdown table, writes JSON to
   bench/results/, stops the server and drops the database (unless --keep-db).

Client and server share the machine (2 cores), so the load generator's CPU is CPU the server lacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.concierge_throughput import (
    HOST,
    REDIS_URL,
    RESULTS_DIR,
    Server,
    drop_database,
    free_port,
    percentile,
    recreate_database,
    run_child,
    server_environment,
)

CONNECT_BATCH = 100
DELIVERY_DEADLINE_SECONDS = 60.0


@dataclass
class Result:
    clients_requested: int
    clients_connected: int
    connect_seconds: float
    events: int
    deliveries: int
    missing: int
    duplicates: int
    p50_from_publish_ms: float
    p99_from_publish_ms: float
    max_from_publish_ms: float
    p50_from_send_ms: float
    p99_from_send_ms: float
    create_p50_ms: float
    rss_idle_mb: float
    rss_connected_mb: float
    rss_per_client_kb: float
    threads_idle: int
    threads_connected: int
    errors: dict[str, int] = field(default_factory=dict)


def proc_status(pid: int) -> dict[str, str]:
    values: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            values[name] = value.strip()
    return values


def rss_kb(pid: int) -> int:
    return int(proc_status(pid)["VmRSS"].split()[0])


def threads(pid: int) -> int:
    return int(proc_status(pid)["Threads"])


class StreamClient:
    """One SSE connection on a raw socket: HTTP/1.1, chunked transfer decoding, event parsing."""

    def __init__(self, index: int, port: int, path: str, token: str) -> None:
        self.index = index
        self.port = port
        self.path = path
        self.token = token
        self.connected = asyncio.Event()
        self.arrivals: dict[int, float] = {}
        self.duplicates = 0
        self.error = ""

    async def run(self) -> None:
        try:
            reader, writer = await asyncio.open_connection(HOST, self.port)
        except OSError as exc:
            self.error = type(exc).__name__
            self.connected.set()
            return
        try:
            request = (
                f"GET {self.path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: text/event-stream\r\n"
                f"Authorization: Bearer {self.token}\r\n\r\n"
            )
            writer.write(request.encode())
            status = await reader.readline()
            if b" 200 " not in status:
                self.error = status.decode(errors="replace").strip()
                self.connected.set()
                return
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            buffer = b""
            while True:
                size = int((await reader.readline()).strip() or b"0", 16)
                if size == 0:
                    return
                buffer += (await reader.readexactly(size + 2))[:-2]
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._event(block)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = self.error or type(exc).__name__
        finally:
            self.connected.set()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _event(self, block: bytes) -> None:
        now = time.perf_counter()
        for line in block.split(b"\n"):
            if line == b": connected":
                self.connected.set()
            elif line.startswith(b"data: "):
                # The activity's own id: `id:` is the stream's highest id, which a late event keeps.
                event_id = int(json.loads(line[6:])["activity"]["id"])
                if event_id in self.arrivals:
                    self.duplicates += 1
                else:
                    self.arrivals[event_id] = now


async def listen_to_bus(channel: str, published: dict[int, float], ready: asyncio.Event) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    ready.set()
    try:
        async for message in pubsub.listen():
            now = time.perf_counter()
            data = json.loads(message["data"])
            if data.get("kind") == "request.created":
                published[int(data["activity_id"])] = now
    finally:
        await pubsub.aclose()
        await client.aclose()


async def fan_out(args: argparse.Namespace, server: Server, seeded: dict[str, Any], channel: str) -> Result:
    assert server.process is not None
    pid = server.process.pid
    port = int(server.base_url.rsplit(":", 1)[1])
    path = f"/api/v1/hotels/{seeded['hotel']}/requests/stream/"
    guests = seeded["guest_tokens"]
    body = {"hotel": seeded["hotel"], "department": seeded["department"]}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, trust_env=False) as api:
        # Warm the process up (imports, first queries) before the idle measurement.
        for index in range(3):
            response = await api.post(
                "/api/v1/guest/requests/",
                json={**body, "description": f"warm-up {index}"},
                headers={"Authorization": f"Bearer {guests[index % len(guests)]}"},
            )
            response.raise_for_status()
        await asyncio.sleep(1)
        rss_idle, threads_idle = rss_kb(pid), threads(pid)

        clients = [StreamClient(index, port, path, seeded["staff_token"]) for index in range(args.clients)]
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        for first in range(0, len(clients), CONNECT_BATCH):
            batch = clients[first : first + CONNECT_BATCH]
            tasks.extend(asyncio.create_task(client.run()) for client in batch)
            await asyncio.gather(*(client.connected.wait() for client in batch))
        connect_seconds = time.perf_counter() - started
        live = [client for client in clients if not client.error]
        print(f"[bench] {len(live)}/{len(clients)} streams connected in {connect_seconds:.1f}s", flush=True)
        await asyncio.sleep(2)
        rss_connected, threads_connected = rss_kb(pid), threads(pid)

        sent_at: dict[int, float] = {}
        published_at: dict[int, float] = {}
        bus_ready = asyncio.Event()
        listener = asyncio.create_task(listen_to_bus(channel, published_at, bus_ready))
        await bus_ready.wait()
        create_ms: list[float] = []
        for index in range(args.events):
            token = guests[index % len(guests)]
            sent = time.perf_counter()
            response = await api.post(
                "/api/v1/guest/requests/",
                json={**body, "description": f"bench event {index}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            answered = time.perf_counter()
            response.raise_for_status()
            create_ms.append((answered - sent) * 1000)
            activity_id = response.json()["timeline"][0]["id"]
            sent_at[activity_id] = sent
            await asyncio.sleep(args.interval)
        # Wait for stragglers (bounded): an event that never comes is counted as missing.
        deadline = time.perf_counter() + DELIVERY_DEADLINE_SECONDS
        while time.perf_counter() < deadline and any(
            activity_id not in client.arrivals for client in live for activity_id in sent_at
        ):
            await asyncio.sleep(0.5)

        listener.cancel()
        for task in [*tasks, listener]:
            task.cancel()
        await asyncio.gather(*tasks, listener, return_exceptions=True)

    from_publish: list[float] = []
    from_send: list[float] = []
    missing = 0
    for client in live:
        for activity_id, sent in sent_at.items():
            arrived = client.arrivals.get(activity_id)
            if arrived is None:
                missing += 1
                continue
            from_send.append((arrived - sent) * 1000)
            if activity_id in published_at:
                from_publish.append((arrived - published_at[activity_id]) * 1000)
    errors: dict[str, int] = {}
    for client in clients:
        if client.error:
            errors[client.error] = errors.get(client.error, 0) + 1
    ordered_publish, ordered_send = sorted(from_publish), sorted(from_send)
    return Result(
        clients_requested=args.clients,
        clients_connected=len(live),
        connect_seconds=round(connect_seconds, 1),
        events=args.events,
        deliveries=len(from_send),
        missing=missing,
        duplicates=sum(client.duplicates for client in clients),
        p50_from_publish_ms=round(percentile(ordered_publish, 0.50), 1),
        p99_from_publish_ms=round(percentile(ordered_publish, 0.99), 1),
        max_from_publish_ms=round(ordered_publish[-1], 1) if ordered_publish else 0.0,
        p50_from_send_ms=round(percentile(ordered_send, 0.50), 1),
        p99_from_send_ms=round(percentile(ordered_send, 0.99), 1),
        create_p50_ms=round(statistics.median(create_ms), 1) if create_ms else 0.0,
        rss_idle_mb=round(rss_idle / 1024, 1),
        rss_connected_mb=round(rss_connected / 1024, 1),
        rss_per_client_kb=round((rss_connected - rss_idle) / max(1, len(live)), 1),
        threads_idle=threads_idle,
        threads_connected=threads_connected,
        errors=errors,
    )


def markdown(result: Result) -> str:
    rows = [
        (
            "streams connected (one server process)",
            f"{result.clients_connected} / {result.clients_requested} (in {result.connect_seconds} s)",
        ),
        (
            "events × streams delivered",
            f"{result.deliveries} (missing {result.missing}, duplicates {result.duplicates})",
        ),
        (
            "publish→receive p50 / p99 / max",
            f"{result.p50_from_publish_ms} / {result.p99_from_publish_ms} / {result.max_from_publish_ms} ms",
        ),
        (
            "create→receive p50 / p99 (from sending the POST)",
            f"{result.p50_from_send_ms} / {result.p99_from_send_ms} ms",
        ),
        ("POST guest/requests/ p50 while streaming", f"{result.create_p50_ms} ms"),
        ("server RSS idle → with streams", f"{result.rss_idle_mb} → {result.rss_connected_mb} MB"),
        ("memory per stream", f"{result.rss_per_client_kb} KB"),
        ("server threads idle → with streams", f"{result.threads_idle} → {result.threads_connected}"),
    ]
    return "\n".join(["| measure | value |", "|---|---:|", *(f"| {name} | {value} |" for name, value in rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="concurrent streams (1000)")
    parser.add_argument("--events", type=int, default=30, help="requests created while they listen (30)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between creates (0.5)")
    parser.add_argument("--guests", type=int, default=20, help="guests with active stays (20)")
    parser.add_argument("--database", default="refuje_bench_sse", help="database to drop and recreate")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.clients * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server inherits it
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    started = datetime.now(UTC)
    load_before = [round(value, 2) for value in os.getloadavg()]
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"[bench] warning: the machine is busy (load average {load_before[0]}); numbers will be low", flush=True)
    stem = f"sse-fanout-{started:%Y%m%dT%H%M%SZ}"
    env = server_environment(args.database, connections="per-request")
    env["REALTIME_CHANNEL"] = f"refuje-bench-{secrets.token_hex(4)}"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    print(f"[bench] recreating database {args.database}", flush=True)
    recreate_database(args.database)
    server = Server(env, free_port(), 1, RESULTS_DIR / f"{stem}-server.log")
    try:
        print("[bench] migrating", flush=True)
        run_child(["manage.py", "migrate", "--noinput"], env)
        seed_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        seeded = json.loads(
            run_child(["-m", "bench.seed", "--guests", str(args.guests)], seed_env).strip().splitlines()[-1]
        )
        print(f"[bench] starting one uvicorn process on {server.base_url}", flush=True)
        server.start()
        result = asyncio.run(fan_out(args, server, seeded, env["REALTIME_CHANNEL"]))
    finally:
        server.stop()
        if not args.keep_db:
            drop_database(args.database)

    table = markdown(result)
    print(table)
    print(f"load average before → after: {load_before[0]} → {round(os.getloadavg()[0], 2)}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "started": started.isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_before": load_before,
            "load_after": [round(value, 2) for value in os.getloadavg()],
        },
        "arguments": vars(args),
        "result": asdict(result),
    }
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if not result.missing and not result.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
