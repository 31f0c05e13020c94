"""Job heartbeats: every periodic job records its runs, and health says which jobs are alive."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery.schedules import crontab, schedule
from django.db import connection
from django.utils import timezone

from refuje.accounts.tasks import OTP_CLEANUP, SMS_FALLBACK_SWEEP, otp_cleanup_task, sms_fallback_sweep_task
from refuje.common.jobs import (
    BeatJob,
    JobState,
    job_health_of,
    job_run,
    jobs_health,
    recorded_job,
    schedule_period_seconds,
)
from refuje.common.models import JobHeartbeat
from refuje.concierge.models import EscalationHeartbeat
from refuje.concierge.tasks import EXPIRE_REQUESTS, escalate_requests_task, expire_requests_task

NAME = "refuje.tests.sample_job"


def heartbeat(name=NAME) -> JobHeartbeat:
    return JobHeartbeat.objects.get(name=name)


@pytest.mark.django_db
def test_a_successful_run_records_start_finish_duration_result_and_count():
    @recorded_job(NAME)
    def job(value):
        row = heartbeat()
        # Inside the job the start is already written, after the last finish.
        assert row.last_started_at is not None
        assert row.last_finished_at is None or row.last_finished_at < row.last_started_at
        return {"value": value}

    assert job(7) == {"value": 7}
    row = heartbeat()
    assert row.last_ok is True
    assert row.last_error == ""
    assert row.last_result == {"value": 7}
    assert (row.runs, row.failures) == (1, 0)
    assert row.last_duration_ms is not None
    assert row.last_started_at is not None
    assert row.last_finished_at is not None
    assert row.last_started_at <= row.last_finished_at

    job(8)
    row = heartbeat()
    assert (row.runs, row.failures, row.last_result) == (2, 0, {"value": 8})


@pytest.mark.django_db
def test_a_failed_run_is_recorded_and_the_error_still_raised():
    @recorded_job(NAME)
    def job():
        raise RuntimeError("the provider is down " + "x" * 600)

    with pytest.raises(RuntimeError, match="provider is down"):
        job()
    row = heartbeat()
    assert row.last_ok is False
    assert row.last_error.startswith("RuntimeError: the provider is down")
    assert len(row.last_error) == 500
    assert (row.runs, row.failures) == (1, 1)


@pytest.mark.django_db
def test_a_run_in_progress_is_running_and_healthy():
    job = BeatJob("sample", NAME, 60.0)
    with job_run(NAME):
        state = job_health_of(job, heartbeat(), now=timezone.now()).state
    assert state == JobState.RUNNING
    assert job_health_of(job, heartbeat(), now=timezone.now()).state == JobState.OK


@pytest.mark.django_db
def test_health_states_follow_the_period_and_the_last_outcome(settings):
    settings.JOB_HEALTH_STALE_FACTOR = 3
    now = timezone.now()
    job = BeatJob("sample", NAME, 300.0)
    row = JobHeartbeat.objects.create(
        name=NAME, last_started_at=now - timedelta(seconds=899), last_finished_at=now - timedelta(seconds=899)
    )
    row.last_ok = True
    health = job_health_of(job, row, now=now)
    assert (health.state, health.healthy, health.stale_after_seconds) == (JobState.OK, True, 900)
    assert health.age_seconds is not None
    assert round(health.age_seconds) == 899

    assert job_health_of(job, row, now=now + timedelta(seconds=2)).state == JobState.STALE
    row.last_ok = False
    assert job_health_of(job, row, now=now).state == JobState.FAILING
    assert job_health_of(job, None, now=now).state == JobState.NEVER_RAN
    assert not job_health_of(job, None, now=now).healthy
    # A short period still gets a minute before it is called stale.
    quick = BeatJob("quick", NAME, 15.0)
    row.last_ok = True
    row.last_finished_at = now - timedelta(seconds=50)
    assert job_health_of(quick, row, now=now).state == JobState.OK
    # A start killed before its finish: stale once the start is old enough.
    killed = JobHeartbeat(name=NAME, last_started_at=now - timedelta(seconds=1000))
    assert job_health_of(job, killed, now=now).state == JobState.STALE
    assert job_health_of(job, killed, now=now - timedelta(seconds=500)).state == JobState.RUNNING


def test_periods_are_read_from_every_kind_of_schedule():
    assert schedule_period_seconds(15.0) == 15.0
    assert schedule_period_seconds(300) == 300.0
    assert schedule_period_seconds(timedelta(minutes=5)) == 300.0
    assert schedule_period_seconds(schedule(run_every=timedelta(seconds=90))) == 90.0
    assert schedule_period_seconds(crontab(minute=0)) == 3600.0
    assert schedule_period_seconds(crontab(minute="*/10")) == 600.0
    assert schedule_period_seconds(crontab(hour=7, minute=30)) == 86400.0
    assert schedule_period_seconds(crontab(hour="6,18", minute=0)) == 12 * 3600.0
    assert schedule_period_seconds(crontab(day_of_week=1, hour=3, minute=0)) == 7 * 86400.0
    assert schedule_period_seconds(None) is None
    assert schedule_period_seconds("soon") is None


@pytest.mark.django_db
def test_jobs_health_covers_the_beat_schedule(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "escalate-requests": {"task": "refuje.concierge.escalate_requests", "schedule": 60.0},
        "otp-cleanup": {"task": OTP_CLEANUP, "schedule": 3600.0},
        "daily-digest": {"task": "refuje.notifications.daily_digest", "schedule": crontab(hour=7, minute=0)},
    }
    JobHeartbeat.objects.create(name=OTP_CLEANUP, last_started_at=timezone.now(), last_finished_at=timezone.now())

    health = {item.job.entry: item for item in jobs_health(exclude_tasks=("refuje.concierge.escalate_requests",))}

    assert set(health) == {"otp-cleanup", "daily-digest"}
    assert health["otp-cleanup"].state == JobState.OK
    assert health["daily-digest"].state == JobState.NEVER_RAN
    assert health["daily-digest"].stale_after_seconds == 3 * 86400


@pytest.mark.django_db
def test_every_beat_job_records_a_heartbeat_when_celery_runs_it(settings, fake_authentica):
    settings.OTP_PROVIDER = "authentica"
    for task in (sms_fallback_sweep_task, otp_cleanup_task, expire_requests_task):
        outcome = task.apply()
        assert outcome.successful(), outcome.traceback
    for name in (SMS_FALLBACK_SWEEP, OTP_CLEANUP, EXPIRE_REQUESTS):
        row = heartbeat(name)
        assert (row.runs, row.last_ok) == (1, True), name
    assert heartbeat(SMS_FALLBACK_SWEEP).last_result == {"candidates": 0, "sent": 0}
    # Escalation keeps its own heartbeat (checked by /readyz).
    assert escalate_requests_task.apply().successful()
    assert EscalationHeartbeat.objects.filter(pk=EscalationHeartbeat.SINGLETON_ID).exists()
    assert not JobHeartbeat.objects.filter(name="refuje.concierge.escalate_requests").exists()
    # Every beat entry is either escalation or a job that now has a heartbeat.
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"].startswith(("refuje.accounts.", "refuje.concierge.expire")):
            assert JobHeartbeat.objects.filter(name=entry["task"]).exists(), entry


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_runs_at_the_same_time_are_all_counted():
    barrier = threading.Barrier(4)
    errors = []

    @recorded_job(NAME)
    def job():
        return {}

    def run():
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert heartbeat().runs == 4
