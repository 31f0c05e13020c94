"""Heartbeats of the periodic jobs, and whether each job is alive.

Every beat task runs inside `job_run` (or is decorated with `recorded_job`): the start is written
before the work, the finish (ok or the error, duration, result, run count) after it, each as its
own statement outside the job's transactions. A worker killed in the middle leaves a start without
a finish; a job that stops running at all grows older than its period times
JOB_HEALTH_STALE_FACTOR and is reported stale. Recording never breaks the job: a failed heartbeat
write is logged and the job's own outcome stands.

    @shared_task(name="refuje.accounts.otp_cleanup")
    @recorded_job("refuje.accounts.otp_cleanup")
    def otp_cleanup_task() -> dict[str, int]: ...
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import JobHeartbeat

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

MAX_ERROR_LENGTH = 500
DEFAULT_STALE_FACTOR = 3.0
# Whatever the period, a job is not called stale before this: a worker restart takes that long.
MIN_STALE_AFTER_SECONDS = 60.0


class JobState:
    OK = "ok"
    RUNNING = "running"  # started after its last finish and not yet stale
    FAILING = "failing"  # the last run raised
    STALE = "stale"  # no finished run for longer than its period × the stale factor
    NEVER_RAN = "never_ran"  # no heartbeat: never ran, or the job does not record one yet


@dataclass
class JobRun:
    name: str
    started_at: datetime
    result: Any = None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return str(value)


def _record_start(name: str, at: datetime) -> None:
    try:
        JobHeartbeat.objects.bulk_create(
            [JobHeartbeat(name=name, last_started_at=at)],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["last_started_at"],
        )
    except Exception:
        logger.exception("Could not record the start of job %s", name)


def _record_finish(name: str, *, at: datetime, ok: bool, error: str, duration_ms: int, result: Any) -> None:
    values: dict[str, Any] = {
        "last_finished_at": at,
        "last_ok": ok,
        "last_error": error[:MAX_ERROR_LENGTH],
        "last_duration_ms": duration_ms,
        "last_result": _jsonable(result) if isinstance(result, Mapping) else {},
        "runs": F("runs") + 1,
        "failures": F("failures") + (0 if ok else 1),
    }
    try:
        if not JobHeartbeat.objects.filter(name=name).update(**values):
            # The start could not be written (database briefly away): the finish still counts.
            JobHeartbeat.objects.bulk_create([JobHeartbeat(name=name)], ignore_conflicts=True)
            JobHeartbeat.objects.filter(name=name).update(**values)
    except Exception:
        logger.exception("Could not record the end of job %s", name)


@contextmanager
def job_run(name: str) -> Iterator[JobRun]:
    """Record one run of the periodic job `name`; set `run.result` to keep a summary dict."""
    run = JobRun(name=name, started_at=timezone.now())
    started = time.monotonic()
    _record_start(name, run.started_at)
    try:
        yield run
    except BaseException as exc:
        _record_finish(
            name,
            at=timezone.now(),
            ok=False,
            error=f"{exc.__class__.__name__}: {exc}",
            duration_ms=round((time.monotonic() - started) * 1000),
            result=run.result,
        )
        raise
    _record_finish(
        name,
        at=timezone.now(),
        ok=True,
        error="",
        duration_ms=round((time.monotonic() - started) * 1000),
        result=run.result,
    )


def recorded_job(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a periodic task's function so each call runs inside `job_run(name)`."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with job_run(name) as run:
                result = function(*args, **kwargs)
                run.result = result
            return result

        return wrapper

    return decorate


# --- Health ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatJob:
    """One entry of CELERY_BEAT_SCHEDULE."""

    entry: str
    task: str
    period_seconds: float | None  # None when the schedule's period cannot be worked out


@dataclass(frozen=True)
class JobHealth:
    job: BeatJob
    heartbeat: JobHeartbeat | None
    state: str
    stale_after_seconds: float | None
    age_seconds: float | None  # since the last finish (or the last start when none finished)

    @property
    def healthy(self) -> bool:
        return self.state in (JobState.OK, JobState.RUNNING)


def _crontab_period(schedule: Any) -> float | None:
    """The longest gap between consecutive runs of a crontab over two months of its fire times."""
    minutes = sorted(schedule.minute)
    hours = sorted(schedule.hour)
    key = (
        tuple(minutes),
        tuple(hours),
        tuple(sorted(schedule.day_of_week)),
        tuple(sorted(schedule.day_of_month)),
        tuple(sorted(schedule.month_of_year)),
    )
    return _crontab_period_cached(key)


@functools.lru_cache(maxsize=64)
def _crontab_period_cached(key: tuple[tuple[int, ...], ...]) -> float | None:
    minutes, hours, days_of_week, days_of_month, months = key
    start = datetime(2026, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic only, no instant
    fires: list[datetime] = []
    for offset in range(62):
        day = start + timedelta(days=offset)
        # Celery counts weekdays from Sunday = 0; Python from Monday = 0.
        if (day.weekday() + 1) % 7 not in days_of_week or day.day not in days_of_month or day.month not in months:
            continue
        fires.extend(day.replace(hour=hour, minute=minute) for hour in hours for minute in minutes)
    if len(fires) < 2:
        return None
    return max((later - earlier).total_seconds() for earlier, later in itertools.pairwise(fires))


def schedule_period_seconds(schedule: Any) -> float | None:
    """How often a beat entry's `schedule` fires: seconds, a timedelta, a celery schedule or crontab."""
    if isinstance(schedule, bool):
        return None
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)
    if isinstance(run_every, timedelta):
        return run_every.total_seconds()
    if all(hasattr(schedule, name) for name in ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")):
        try:
            return _crontab_period(schedule)
        except (TypeError, ValueError):
            return None
    return None


def beat_jobs(*, exclude_tasks: tuple[str, ...] = ()) -> list[BeatJob]:
    schedule: Mapping[str, Mapping[str, Any]] = getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}
    jobs = []
    for entry, options in schedule.items():
        task = str(options.get("task", ""))
        if task and task not in exclude_tasks:
            jobs.append(BeatJob(entry, task, schedule_period_seconds(options.get("schedule"))))
    return sorted(jobs, key=lambda job: job.entry)


def stale_after_seconds(period_seconds: float | None) -> float | None:
    if period_seconds is None:
        return None
    factor = float(getattr(settings, "JOB_HEALTH_STALE_FACTOR", DEFAULT_STALE_FACTOR))
    return max(period_seconds * factor, MIN_STALE_AFTER_SECONDS)


def job_health_of(job: BeatJob, heartbeat: JobHeartbeat | None, *, now: datetime) -> JobHealth:
    stale_after = stale_after_seconds(job.period_seconds)
    seen = None if heartbeat is None else heartbeat.last_finished_at or heartbeat.last_started_at
    if heartbeat is None or seen is None:
        return JobHealth(job, heartbeat, JobState.NEVER_RAN, stale_after, None)
    age = max(0.0, (now - seen).total_seconds())
    running = heartbeat.last_started_at is not None and (
        heartbeat.last_finished_at is None or heartbeat.last_started_at > heartbeat.last_finished_at
    )
    if stale_after is not None and age > stale_after:
        state = JobState.STALE
    elif heartbeat.last_finished_at is not None and heartbeat.last_ok is False:
        state = JobState.FAILING
    elif running:
        state = JobState.RUNNING
    else:
        state = JobState.OK
    return JobHealth(job, heartbeat, state, stale_after, age)


def jobs_health(*, now: datetime | None = None, exclude_tasks: tuple[str, ...] = ()) -> list[JobHealth]:
    """The health of every job in CELERY_BEAT_SCHEDULE (two queries whatever their number)."""
    now = now or timezone.now()
    jobs = beat_jobs(exclude_tasks=exclude_tasks)
    heartbeats = JobHeartbeat.objects.in_bulk([job.task for job in jobs])
    return [job_health_of(job, heartbeats.get(job.task), now=now) for job in jobs]
