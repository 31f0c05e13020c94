"""Booking contention: many customers try to book the same slot at once, against the real server.

    .venv/bin/python bench/booking_contention.py [--clients 50] [--rounds 10] [--staff 1] [--workers 2]

1. drops and recreates a dedicated PostgreSQL database (`refuje_bench_bookings` on 127.0.0.1:5432),
   migrates it and seeds (in a child process, production settings): a hotel, one free experience
   (60 minutes, 15-minute buffer after) offered by `--staff` members working 08:00-22:00 every day,
   and `--clients` guests with verified phones and Bearer tokens;
2. starts `uvicorn config.asgi:application --workers 2` (DEBUG off), like bench/concierge_throughput.py;
3. runs `--rounds` rounds: in each, every client POSTs /api/v1/bookings/ for one start (without
   choosing staff) at the same moment; half the clients ask for the start, half for 30 minutes later,
   so the requests overlap without being identical;
4. checks after each round, in PostgreSQL, that no two active bookings of a staff member overlap,
   and counts 201/409/other answers: with one staff member exactly one 201 per round is correct;
5. prints a Markdown table (answers, latency p50/p99, the round's wall time), writes JSON to
   bench/results/, stops the server and drops the database (unless --keep-db).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.concierge_throughput import (  # noqa: E402
    DATABASE_NAME,
    POSTGRES,
    PYTHON,
    RESULTS_DIR,
    Server,
    count_server_errors,
    drop_database,
    free_port,
    postgres_version,
    recreate_database,
    run_child,
    server_environment,
    shown_path,
)

OVERLAPS_SQL = """
SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
  ON a.staff_id = b.staff_id AND a.id < b.id
 AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end
 WHERE a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
"""


def bench_environment(database: str) -> dict[str, str]:
    env = server_environment(database, connections="per-request")
    # Production refuses to start without Moyasar keys; the experience here is free, so nothing is
    # ever sent to Moyasar.
    env.update(
        {
            "MOYASAR_SECRET_KEY": "sk_test_bench",
            "MOYASAR_PUBLISHABLE_KEY": "pk_test_bench",
            "MOYASAR_WEBHOOK_SECRET": "bench-webhook-secret",
        }
    )
    return env


# --- Seeding (child process) ----------------------------------------------------------------


def seed(clients: int, staff_count: int, rounds: int) -> dict[str, Any]:
    from datetime import time as clock

    from django.db import transaction
    from django.utils import timezone

    from refuje.accounts.models import User, UserType
    from refuje.accounts.sessions import session_start
    from refuje.bookings.models import ExperienceBookingPolicy, StaffScheduleInterval
    from refuje.experiences.models import Experience
    from refuje.hotels.models import Department, Hotel, HotelMembership, Role

    with transaction.atomic():
        hotel = Hotel.objects.create(slug="bench", name_en="Bench Hotel", name_ar="فندق القياس", timezone="Asia/Riyadh")
        department = Department.objects.create(hotel=hotel, name_en="Spa", name_ar="السبا")
        experience = Experience.objects.create(
            hotel=hotel,
            department=department,
            title_en="Massage",
            title_ar="تدليك",
            price_minor=0,
            currency="SAR",
            duration_minutes=60,
        )
        policy = ExperienceBookingPolicy.objects.create(
            experience=experience, buffer_after_minutes=15, min_notice_minutes=0, slot_step_minutes=30
        )
        members = []
        for index in range(staff_count):
            user = User.objects.create_user(f"+96658{index + 1:07d}", None, full_name=f"Therapist {index}")
            members.append(HotelMembership.objects.create(user=user, hotel=hotel, role=Role.STAFF))
        policy.bookable_staff.set(members)
        StaffScheduleInterval.objects.bulk_create(
            StaffScheduleInterval(membership=member, weekday=day, start=clock(8), end=clock(22))
            for member in members
            for day in range(7)
        )
        guests = [
            User.objects.create_user(
                f"+96659{index + 1:07d}",
                None,
                full_name=f"Bench Guest {index}",
                user_type=UserType.GUEST,
                phone_verified_at=timezone.now(),
            )
            for index in range(clients)
        ]
    zone = hotel.tz
    day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    # Two hours apart: a round's bookings (with the buffer) never reach the next round's start.
    starts = [
        datetime.combine(day + timedelta(days=index // 6), clock(8 + 2 * (index % 6)), tzinfo=zone)
        for index in range(rounds)
    ]
    return {
        "experience": experience.pk,
        "starts": [start.isoformat() for start in starts],
        "tokens": [session_start(user=guest).access for guest in guests],
    }


# --- Load -----------------------------------------------------------------------------------


async def one_round(base_url: str, tokens: list[str], experience: int, start: str) -> dict[str, Any]:
    later = (datetime.fromisoformat(start) + timedelta(minutes=30)).isoformat()
    clients = [httpx.AsyncClient(base_url=base_url, timeout=60.0, trust_env=False) for _ in tokens]
    gate = asyncio.Event()
    latencies: list[float] = []
    answers: Counter[str] = Counter()

    async def send(index: int) -> None:
        body = {"experience": experience, "start": start if index % 2 == 0 else later}
        headers = {"Authorization": f"Bearer {tokens[index]}"}
        await gate.wait()
        sent = time.perf_counter()
        try:
            response = await clients[index].post("/api/v1/bookings/", json=body, headers=headers)
        except httpx.HTTPError as exc:
            answers[type(exc).__name__] += 1
            return
        latencies.append(time.perf_counter() - sent)
        code = response.json().get("code", "") if response.status_code == 409 else ""
        answers[f"{response.status_code} {code}".strip()] += 1

    try:
        # Open every connection first, so the round measures the race rather than TCP handshakes.
        await asyncio.gather(*(client.get("/healthz") for client in clients))
        tasks = [asyncio.create_task(send(index)) for index in range(len(tokens))]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    ordered = sorted(latencies)
    return {
        "start": start,
        "answers": dict(answers),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 1)
        if ordered
        else None,
        "round_seconds": round(elapsed, 3),
    }


def overlapping_pairs(database: str) -> int:
    with psycopg.connect(f"{POSTGRES}/{database}") as conn:
        row = conn.execute(OVERLAPS_SQL).fetchone()
        return int(row[0]) if row else -1


def markdown(rounds: list[dict[str, Any]]) -> str:
    lines = ["| round | answers | p50 ms | p99 ms | round s | overlapping pairs |", "|---:|---|---:|---:|---:|---:|"]
    for number, row in enumerate(rounds, start=1):
        answers = ", ".join(f"{count}× {answer}" for answer, count in sorted(row["answers"].items()))
        lines.append(
            f"| {number} | {answers} | {row['p50_ms']} | {row['p99_ms']} | {row['round_seconds']} | "
            f"{row['overlapping_pairs']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="simultaneous customers per round (50)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, each for a new start (10)")
    parser.add_argument("--staff", type=int, default=1, help="bookable staff members (1)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (2)")
    parser.add_argument("--database", default="refuje_bench_bookings", help="database to drop and recreate")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.seed:
        import django

        django.setup()
        sys.stdout.write(json.dumps(seed(args.clients, args.staff, args.rounds)) + "\n")
        return 0
    if not DATABASE_NAME.match(args.database) or args.database in {"postgres", "template0", "template1"}:
        sys.exit("--database must be a plain lower-case name of a database this script may drop")

    started = datetime.now(UTC)
    load_before = [round(value, 2) for value in os.getloadavg()]
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(
            f"[bench] warning: the machine is busy (load average {load_before[0]}); latencies will be high", flush=True
        )
    stem = f"booking-contention-{started:%Y%m%dT%H%M%SZ}"
    env = bench_environment(args.database)
    print(f"[bench] recreating database {args.database}", flush=True)
    recreate_database(args.database)
    server = Server(env, free_port(), args.workers, RESULTS_DIR / f"{stem}-server.log")
    rounds: list[dict[str, Any]] = []
    try:
        print("[bench] migrating", flush=True)
        run_child(["manage.py", "migrate", "--noinput"], env)
        print(f"[bench] seeding {args.staff} staff and {args.clients} guests", flush=True)
        output = run_child(
            [
                "bench/booking_contention.py",
                "--seed",
                "--clients",
                str(args.clients),
                "--staff",
                str(args.staff),
                "--rounds",
                str(args.rounds),
            ],
            env,
        )
        seeded = json.loads(output.strip().splitlines()[-1])
        print(f"[bench] starting {' '.join(server.command[1:])}", flush=True)
        server.start()
        for number, start in enumerate(seeded["starts"], start=1):
            result = asyncio.run(one_round(server.base_url, seeded["tokens"], seeded["experience"], start))
            result["overlapping_pairs"] = overlapping_pairs(args.database)
            rounds.append(result)
            print(f"[bench] round {number}: {result['answers']} in {result['round_seconds']}s", flush=True)
    finally:
        server.stop()
        if not args.keep_db:
            drop_database(args.database)

    expected = {"201": args.staff} if args.staff == 1 else None
    correct = all(row["overlapping_pairs"] == 0 for row in rounds) and all(
        expected is None or row["answers"].get("201") == 1 for row in rounds
    )
    server_errors = count_server_errors(server.log)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([shown_path(PYTHON), *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgresql": postgres_version(),
            "load_average_before": load_before,
        },
        "config": {"clients": args.clients, "rounds": args.rounds, "staff": args.staff, "workers": args.workers},
        "rounds": rounds,
        "correct": correct,
        "server_errors_logged": server_errors,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stem}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(markdown(rounds))
    print(
        f"\n[bench] {args.clients} clients × {args.rounds} rounds, {args.staff} staff; "
        f"{'no overlaps, one winner per slot' if correct else 'INCORRECT RESULT'}; load average before "
        f"{load_before}; results in {path.relative_to(BASE_DIR)}"
    )
    if server_errors:
        print(f"[bench] the server logged {server_errors} errors: see {server.log.relative_to(BASE_DIR)}")
    return 0 if correct and not server_errors else 1


if __name__ == "__main__":
    sys.exit(main())
