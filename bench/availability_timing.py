"""Availability timing: 30 days × 20 staff of free slots, on PostgreSQL, measured in-process.

    .venv/bin/python bench/availability_timing.py [--staff 20] [--days 30] [--repeats 40] [--keep-db]

1. drops and recreates a dedicated PostgreSQL database (`refuje_bench_availability` on 127.0.0.1:5432)
   and migrates it;
2. seeds, in this process with production settings (DEBUG off): a hotel in Asia/Riyadh, one experience
   (60 minutes, a 15-minute grid, 10/10-minute buffers) offered by `--staff` members who work every
   day 09:00-21:00 with a 13:00-14:00 break, a day off each per week, and four bookings per member per
   day over the whole range;
3. measures, `--repeats` times after a warm-up, the server time of three layers:
   - `calculator`: refuje.bookings.availability.free_slots with everything already loaded;
   - `selector`: refuje.bookings.selectors.availability (three queries + the calculator);
   - `endpoint`: GET public/hotels/{hotel}/experiences/{id}/availability/?from=&to= through Django's
     full request handling (middleware, view, serializer, JSON), in-process (no network);
4. prints a Markdown table (wall-clock p50/p90/max/mean and CPU p50 in ms, the number of slots), writes JSON to
   bench/results/ and drops the database (unless --keep-db).

The target from the issue is ≤ 50 ms server time for 30 days × 20 staff.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench.concierge_throughput import (  # noqa: E402
    DATABASE_NAME,
    PYTHON,
    RESULTS_DIR,
    drop_database,
    postgres_version,
    recreate_database,
    run_child,
    server_environment,
    shown_path,
)


def bench_environment(database: str) -> dict[str, str]:
    """The throughput bench's production environment, plus placeholder Moyasar keys (production refuses
    to start without them; nothing here talks to Moyasar)."""
    env = server_environment(database, connections="settings")
    env.update(
        {
            "MOYASAR_SECRET_KEY": "sk_test_bench",
            "MOYASAR_PUBLISHABLE_KEY": "pk_test_bench",
            "MOYASAR_WEBHOOK_SECRET": "bench-webhook-secret",
        }
    )
    return env


def seed(staff_count: int, days: int) -> dict[str, Any]:
    from datetime import time as clock

    from django.db import transaction
    from django.utils import timezone

    from refuje.accounts.models import User, UserType
    from refuje.bookings.models import (
        Booking,
        BookingStatus,
        ExperienceBookingPolicy,
        IntervalKind,
        StaffScheduleInterval,
        StaffTimeOff,
    )
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
            experience=experience,
            buffer_before_minutes=10,
            buffer_after_minutes=10,
            min_notice_minutes=0,
            max_advance_days=days + 2,
            slot_step_minutes=15,
        )
        customer = User.objects.create_user("+966582000000", None, full_name="Bench Guest", user_type=UserType.GUEST)
        members = []
        for index in range(staff_count):
            user = User.objects.create_user(
                f"+96658{index + 1:07d}", None, full_name=f"Therapist {index}", user_type=UserType.STAFF
            )
            members.append(HotelMembership.objects.create(user=user, hotel=hotel, role=Role.STAFF))
        policy.bookable_staff.set(members)
        intervals = []
        for number, member in enumerate(members):
            for weekday in range(7):
                if weekday == number % 7:
                    continue  # a day off each week
                intervals.append(
                    StaffScheduleInterval(membership=member, weekday=weekday, start=clock(9), end=clock(21))
                )
                intervals.append(
                    StaffScheduleInterval(
                        membership=member, kind=IntervalKind.BREAK, weekday=weekday, start=clock(13), end=clock(14)
                    )
                )
        StaffScheduleInterval.objects.bulk_create(intervals)
        zone = hotel.tz
        first_day = timezone.now().astimezone(zone).date() + timedelta(days=1)
        bookings = []
        for member in members:
            StaffTimeOff.objects.create(
                membership=member,
                start=datetime.combine(first_day + timedelta(days=10), clock(15), tzinfo=zone),
                end=datetime.combine(first_day + timedelta(days=10), clock(18), tzinfo=zone),
            )
            for day in range(days):
                for hour in (10, 12, 15, 18):
                    start = datetime.combine(first_day + timedelta(days=day), clock(hour), tzinfo=zone)
                    bookings.append(
                        Booking(
                            hotel=hotel,
                            experience=experience,
                            staff=member,
                            customer=customer,
                            start=start,
                            end=start + timedelta(hours=1),
                            blocked_start=start - timedelta(minutes=10),
                            blocked_end=start + timedelta(minutes=70),
                            status=BookingStatus.CONFIRMED,
                            price_minor=0,
                            currency="SAR",
                        )
                    )
        Booking.objects.bulk_create(bookings, batch_size=2000)
    start = datetime.combine(first_day, clock(0), tzinfo=hotel.tz)
    return {
        "hotel": hotel.slug,
        "experience": experience.pk,
        "from": start.isoformat(),
        "to": (start + timedelta(days=days)).isoformat(),
        "bookings": len(bookings),
    }


def timed(call: Callable[[], Any], repeats: int, warmup: int = 3) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU milliseconds of this process per call. On a busy machine the wall clock
    includes waiting for a CPU; the CPU time is what the work itself costs (PostgreSQL's excluded)."""
    result = None
    for _ in range(warmup):
        result = call()
    samples, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        cpu.append((time.process_time() - started_cpu) * 1000)
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples), sorted(cpu), result


def summary(name: str, label: str, samples: list[float], cpu: list[float], slots: int) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[min(len(samples) - 1, round(0.9 * (len(samples) - 1)))], 2),
        "max_ms": round(samples[-1], 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "slots": slots,
    }


def measure(seeded: dict[str, Any], repeats: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from refuje.bookings import selectors
    from refuje.bookings.availability import free_slots
    from refuje.experiences.models import Experience

    experience = Experience.objects.select_related("hotel").get(pk=seeded["experience"])
    start, end = datetime.fromisoformat(seeded["from"]), datetime.fromisoformat(seeded["to"])
    now = timezone.now()
    policy = selectors.booking_policy(experience)
    rules = selectors.slot_rules(experience, policy)
    ids = selectors.bookable_staff_ids(policy)
    calendars = selectors.staff_calendars(ids, start=start, end=end, margin=timedelta(days=2))

    def calculator() -> int:
        return len(
            free_slots(timezone=experience.hotel.timezone, staff=calendars, rules=rules, start=start, end=end, now=now)
        )

    def selector() -> int:
        return len(selectors.availability(experience=experience, start=start, end=end, now=timezone.now()).slots)

    client = Client()
    url = f"/api/v1/public/hotels/{seeded['hotel']}/experiences/{seeded['experience']}/availability/"
    query = {"from": seeded["from"], "to": seeded["to"]}

    def endpoint() -> int:
        response = client.get(url, query, HTTP_HOST="127.0.0.1")
        if response.status_code != 200:
            raise SystemExit(f"availability answered {response.status_code}: {response.content[:300]!r}")
        return sum(len(slot["staff"]) for slot in response.json()["slots"])

    results = []
    for name, label, call in (
        ("calculator", "free_slots() with data loaded", calculator),
        ("selector", "selectors.availability() incl. 3 queries", selector),
        ("endpoint", "GET …/availability/ in-process (full Django stack)", endpoint),
    ):
        samples, cpu, slots = timed(call, repeats)
        results.append(summary(name, label, samples, cpu, int(slots)))
    connection.close()
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| layer | p50 ms | p90 ms | max ms | mean ms | CPU p50 ms | slots (staff × start) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results:
        cells = [row[key] for key in ("label", "p50_ms", "p90_ms", "max_ms", "mean_ms", "cpu_p50_ms", "slots")]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--staff", type=int, default=20, help="bookable staff members (20)")
    parser.add_argument("--days", type=int, default=30, help="days asked for (30)")
    parser.add_argument("--repeats", type=int, default=40, help="measured runs per layer (40)")
    parser.add_argument("--database", default="refuje_bench_availability", help="database to drop and recreate")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    args = parser.parse_args()
    if not DATABASE_NAME.match(args.database) or args.database in {"postgres", "template0", "template1"}:
        sys.exit("--database must be a plain lower-case name of a database this script may drop")

    started = datetime.now(UTC)
    load_before = [round(value, 2) for value in os.getloadavg()]
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"[bench] warning: the machine is busy (load average {load_before[0]}); numbers will be high", flush=True)
    env = bench_environment(args.database)
    env["BOOKING_AVAILABILITY_MAX_DAYS"] = str(max(31, args.days))
    print(f"[bench] recreating database {args.database}", flush=True)
    recreate_database(args.database)
    try:
        print("[bench] migrating", flush=True)
        run_child(["manage.py", "migrate", "--noinput"], env)
        os.environ.update(env)
        import django

        django.setup()
        print(f"[bench] seeding {args.staff} staff × {args.days} days", flush=True)
        seeded = seed(args.staff, args.days)
        print(f"[bench] measuring ({args.repeats} runs per layer)", flush=True)
        results = measure(seeded, args.repeats)
    finally:
        if not args.keep_db:
            if "django.db" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE"):
                from django.db import connections

                connections.close_all()
            drop_database(args.database)

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
        "config": {"staff": args.staff, "days": args.days, "repeats": args.repeats, "bookings": seeded["bookings"]},
        "results": results,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"availability-timing-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(markdown(results))
    print(
        f"\n[bench] {args.staff} staff × {args.days} days, {seeded['bookings']} bookings; "
        f"load average before {load_before}; results in {path.relative_to(BASE_DIR)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
