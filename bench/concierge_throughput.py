"""Concierge throughput: the real server on PostgreSQL under concurrent load, against a bare view.

    .venv/bin/python bench/concierge_throughput.py [--duration 15] [--concurrency 32] [--pool]

1. drops and recreates a dedicated PostgreSQL database (`refuje_bench` on 127.0.0.1:5432), migrates
   it and seeds a hotel, a department, staff and guests with active stays (bench/seed.py);
2. starts `uvicorn config.asgi:application --workers 2` with production settings (DEBUG off) and a
   URLconf that adds one bare Django view (bench/bare_urls.py: one INSERT + JSON);
3. measures, one after the other with the same concurrency and duration: the bare view, guest request
   creation (POST guest/requests/) and the staff request list (GET hotels/{hotel}/requests/, 50 rows);
4. prints a Markdown table (req/s, p50/p99 latency, ratio to the bare view), writes the numbers as JSON
   to bench/results/, stops the server and drops the database (unless --keep-db).

Client and server share the machine, so absolute numbers are lower than with a separate load host;
the ratios to the bare view, measured in the same run, are the comparable figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import re
import resource
import secrets
import shlex
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass
class Scenario:
    name: str
    label: str
    expected_status: int
    send: Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


@dataclass
class Result:
    name: str
    label: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    client_cpu_seconds: float = 0.0
    error_kinds: dict[str, int] = field(default_factory=dict)
    ratio_to_bare: float | None = None


# --- Setting up -----------------------------------------------------------------------------


CONNECTION_MODES = {
    "settings": "CONN_MAX_AGE from settings (60 s)",
    "per-request": "CONN_MAX_AGE=0 (a connection per request)",
    "pool": "psycopg connection pool",
}


def server_environment(database: str, *, connections: str) -> dict[str, str]:
    """Production settings (DEBUG off) on PostgreSQL and Redis, for every child process."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("REFUJE_", "DJANGO_", "BENCH_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "AUTH_COOKIE_SECURE": "false",
            "SECURE_SSL_REDIRECT": "false",
            # The console provider is refused in production; nothing is sent during the run.
            "OTP_PROVIDER": "authentica",
            "AUTHENTICA_API_KEY": "bench-dummy-key",
            # Production settings refuse to start without payment keys; nothing is charged.
            "MOYASAR_SECRET_KEY": "bench-dummy",
            "MOYASAR_PUBLISHABLE_KEY": "bench-dummy",
            "MOYASAR_WEBHOOK_SECRET": "bench-dummy",
            "DATABASE_URL": f"{POSTGRES}/{database}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": f"refuje-bench-{secrets.token_hex(4)}",
            # Tokens are minted before the run and must outlive it.
            "JWT_ACCESS_MINUTES": "120",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    if connections == "per-request":
        env["CONN_MAX_AGE"] = "0"
    elif connections == "pool":
        env["BENCH_DB_POOL"] = "1"
    return env


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_child(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and fixed arguments)
        [PYTHON, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"`{' '.join(args)}` failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """uvicorn in its own process group, so stopping it also stops its workers."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.command = [
            PYTHON, "-m", "uvicorn", "config.asgi:application",
            "--host", HOST, "--port", str(port), "--workers", str(workers),
            "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        self.env = env
        self.log = log
        self.base_url = f"http://{HOST}:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with httpx.Client(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    sys.exit(f"the server exited with code {self.process.returncode} while starting")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                time.sleep(0.2)
        self.stop()
        sys.exit(f"the server did not answer /healthz within {READY_TIMEOUT_SECONDS:.0f}s")

    def stop(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait()
        # Workers left behind by a killed master are in the same group.
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_alive(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.process = None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Load -----------------------------------------------------------------------------------


def scenarios(seeded: dict[str, Any]) -> list[Scenario]:
    guests = [f"Bearer {token}" for token in seeded["guest_tokens"]]
    staff = {"Authorization": f"Bearer {seeded['staff_token']}"}
    hotel, department = seeded["hotel"], seeded["department"]

    async def bare(client: httpx.AsyncClient, worker: int, n: int) -> httpx.Response:
        return await client.post("/bench/bare/", json={"note": f"bare {worker}-{n}"})

    async def create(client: httpx.AsyncClient, worker: int, n: int) -> httpx.Response:
        # Spread the load over every guest (each create locks its stay row).
        token = guests[(worker + n * 7919) % len(guests)]
        body = {"hotel": hotel, "department": department, "description": f"Two more towels, please ({worker}-{n})"}
        return await client.post("/api/v1/guest/requests/", json=body, headers={"Authorization": token})

    async def staff_list(client: httpx.AsyncClient, worker: int, n: int) -> httpx.Response:
        return await client.get(f"/api/v1/hotels/{hotel}/requests/", headers=staff)

    return [
        Scenario("bare_insert", "bare Django view: one INSERT + JSON", 201, bare),
        Scenario("guest_request_create", "POST guest/requests/ (create a request)", 201, create),
        Scenario("staff_request_list", "GET hotels/{hotel}/requests/ (50-row page, STAFF)", 200, staff_list),
    ]


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def load(
    scenario: Scenario, base_url: str, *, concurrency: int, seconds: float
) -> tuple[list[float], Counter[str], float]:
    """`concurrency` closed-loop clients for `seconds`: latencies of the expected answers, errors."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    # One client with one keep-alive connection per worker, like `wrk -c`: a single shared pool
    # spends the load generator's CPU scanning its connections on every request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # never used on plain HTTP, but built per client unless shared
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0, trust_env=False, verify=tls)
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(index: int) -> None:
        client, n = clients[index], 0
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                response = await scenario.send(client, index, n)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
            else:
                if response.status_code == scenario.expected_status:
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors[f"HTTP {response.status_code}"] += 1
            n += 1

    try:
        await asyncio.gather(*(worker(index) for index in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return latencies, errors, elapsed


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(scenario: Scenario, base_url: str, *, concurrency: int, seconds: float, warmup: float) -> Result:
    if warmup > 0:
        asyncio.run(load(scenario, base_url, concurrency=concurrency, seconds=warmup))
    cpu_before = cpu_seconds()
    latencies, errors, elapsed = asyncio.run(load(scenario, base_url, concurrency=concurrency, seconds=seconds))
    client_cpu = cpu_seconds() - cpu_before
    ordered = sorted(latencies)
    return Result(
        name=scenario.name,
        label=scenario.label,
        requests=len(ordered),
        errors=sum(errors.values()),
        seconds=round(elapsed, 2),
        rps=round(len(ordered) / elapsed, 1),
        p50_ms=round(percentile(ordered, 0.50) * 1000, 1),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 1),
        mean_ms=round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        # The load generator shares the machine: the CPU it used is CPU the server did not get.
        client_cpu_seconds=round(client_cpu, 1),
        error_kinds=dict(errors),
    )


# --- Reporting ------------------------------------------------------------------------------


def markdown(results: list[Result]) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | vs bare (req/s) | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ratio = f"{result.ratio_to_bare:.2f}×" if result.ratio_to_bare is not None else "—"
        lines.append(
            f"| {result.label} | {result.rps:,.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {ratio} | "
            f"{result.errors} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per scenario (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each scenario (3)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (2)")
    parser.add_argument("--guests", type=int, default=200, help="guests with active stays (200)")
    parser.add_argument("--database", default="refuje_bench", help="database to drop and recreate (refuje_bench)")
    parser.add_argument(
        "--connections",
        choices=sorted(CONNECTION_MODES),
        default="per-request",
        help=(
            "database connections of the server: one per request (default), a psycopg pool, or as the settings "
            "say (CONN_MAX_AGE=60, which under ASGI keeps one connection per finished request open)"
        ),
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    args = parser.parse_args()
    if importlib.util.find_spec("sniffio") is None:
        # httpcore tries `import sniffio` on every request; a failed import is not cached, so each
        # attempt searches sys.path again. Caching the failure keeps that CPU for the server.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    with contextlib.suppress(ImportError):
        # uvloop (installed with uvicorn) makes the load generator cheaper on the shared CPUs.
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if not DATABASE_NAME.match(args.database) or args.database in {"postgres", "template0", "template1"}:
        sys.exit("--database must be a plain lower-case name of a database this script may drop")

    started = datetime.now(UTC)
    load_before = [round(value, 2) for value in os.getloadavg()]
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"[bench] warning: the machine is busy (load average {load_before[0]}); numbers will be low", flush=True)
    stem = f"concierge-throughput-{started:%Y%m%dT%H%M%SZ}-{args.connections}"
    env = server_environment(args.database, connections=args.connections)
    print(f"[bench] recreating database {args.database}", flush=True)
    recreate_database(args.database)
    server = Server(env, free_port(), args.workers, RESULTS_DIR / f"{stem}-server.log")
    try:
        print("[bench] migrating", flush=True)
        run_child(["manage.py", "migrate", "--noinput"], env)
        print(f"[bench] seeding a hotel with {args.guests} guests", flush=True)
        seeded = json.loads(run_child(["-m", "bench.seed", "--guests", str(args.guests)], env).strip().splitlines()[-1])
        print(f"[bench] starting {' '.join(server.command[1:])}", flush=True)
        server.start()
        results: list[Result] = []
        for scenario in scenarios(seeded):
            print(f"[bench] {scenario.name}: {args.concurrency} clients, {args.duration:.0f}s", flush=True)
            results.append(
                measure(
                    scenario, server.base_url, concurrency=args.concurrency, seconds=args.duration, warmup=args.warmup
                )
            )
    finally:
        server.stop()
        if not args.keep_db:
            drop_database(args.database)

    bare = results[0].rps
    for result in results:
        result.ratio_to_bare = round(result.rps / bare, 3) if bare else None
    server_errors = count_server_errors(server.log)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join([shown_path(PYTHON), *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgresql": postgres_version(),
            "load_average_before": load_before,
        },
        "config": {
            "server": f"uvicorn --workers {args.workers} (ASGI)",
            "database_connections": CONNECTION_MODES[args.connections],
            "concurrency": args.concurrency,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "guests": args.guests,
        },
        "results": [asdict(result) for result in results],
        "server_errors_logged": server_errors,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stem}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(markdown(results))
    print(
        f"\n[bench] {started:%Y-%m-%d}, {os.cpu_count()} CPUs, {CONNECTION_MODES[args.connections]}; "
        f"results in {path.relative_to(BASE_DIR)}"
    )
    if server_errors:
        print(f"[bench] the server logged {server_errors} errors: see {server.log.relative_to(BASE_DIR)}")
    return 1 if server_errors or any(result.errors for result in results) else 0


def count_server_errors(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if "Traceback" in line)


def shown_path(path: str) -> str:
    """Inside the project, relative to it (`.venv/bin/python`), as one would type it."""
    try:
        return str(Path(path).relative_to(BASE_DIR))
    except ValueError:
        return path


def postgres_version() -> str:
    with psycopg.connect(f"{POSTGRES}/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


if __name__ == "__main__":
    sys.exit(main())
