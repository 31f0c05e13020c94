"""kill -9 of a Celery worker in the middle of a job: the job runs again and its effect is recorded once.

Real processes end to end: a redis-server of this test's own (so no other test's queue is touched),
`celery -A config worker` subprocesses on the test database, and the fake Authentica server. The
job is the OTP SMS-fallback sweep; it is "inside" at a deterministic point, without any hook in our
code: the fake SMS provider holds its answer back, so the worker sits in the provider call after it
claimed the code. The worker is then killed with SIGKILL (main process and pool child), so the
message stays unacknowledged in Redis (acks_late) until the visibility timeout
(CELERY_VISIBILITY_TIMEOUT_SECONDS, 3 s here) hands it to the second worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from refuje.accounts.models import OTPCode
from refuje.accounts.otp import otp_hash, otp_verify
from refuje.accounts.tasks import SMS_FALLBACK_SWEEP, sms_fallback_sweep_task
from refuje.common.models import JobHeartbeat
from refuje.common.testing.factories import next_phone
from refuje.providers.fakes.authentica import FakeAuthentica

BASE_DIR = Path(__file__).resolve().parents[3]
VISIBILITY_TIMEOUT_SECONDS = 3
WAIT_SECONDS = 90

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS, on_fail: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s\n{on_fail}")


@pytest.fixture
def broker_url(tmp_path) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is required for the worker tests"
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(up, "redis-server start", timeout=20)
        yield url
    finally:
        client.close()
        process.kill()
        process.wait(timeout=10)


def database_url_of_this_test() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=INFO",
                    "--pool=prefork",
                    "--concurrency=1",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                    "-n",
                    f"{name}@%h",
                ],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole worker: the main process and its pool child."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # A pool child orphaned by its parent would still hold a database connection.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def authentica() -> Iterator[FakeAuthentica]:
    # The default fake key has the real keys' shape, "$2y$10$…", which django-environ reads from the
    # environment as a reference to another variable; the worker gets its settings from there.
    with FakeAuthentica(api_key="fake-authentica-key-for-the-worker-test") as fake:
        yield fake


@pytest.fixture
def start_worker(tmp_path, broker_url, authentica) -> Iterator[Callable[[str], Worker]]:
    env = {key: value for key, value in os.environ.items() if key not in ("CELERY_BROKER_URL", "REFUJE_TEST_DB")}
    env.update(
        {
            "REFUJE_TESTING": "1",
            "DATABASE_URL": database_url_of_this_test(),
            "REDIS_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS),
            "OTP_PROVIDER": "authentica",
            "AUTHENTICA_BASE_URL": authentica.url,
            "AUTHENTICA_API_KEY": authentica.api_key,
            "AUTHENTICA_SENDER_NAME": "Refuje",
            # Codes are due at once; a claim older than a second was abandoned.
            "OTP_SMS_FALLBACK_AFTER_SECONDS": "0",
            "OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS": "1",
            # The worker must still be waiting for the provider when it is killed.
            "PROVIDER_HTTP_TIMEOUT_SECONDS": "60",
        }
    )
    workers: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(name, env, tmp_path / f"{name}.log")
        workers.append(worker)
        wait_for(lambda: " ready." in worker.output() or not worker.alive(), f"worker {name} start")
        assert worker.alive(), worker.output()[-3000:]
        return worker

    yield start
    for worker in workers:
        worker.stop()


def code_due_for_fallback() -> OTPCode:
    phone = next_phone()
    sent_at = timezone.now() - timedelta(seconds=60)
    return OTPCode.objects.create(
        phone_number=phone,
        purpose="auth",
        code_hash=otp_hash(phone=phone, purpose="auth", code="246810"),
        channel="whatsapp",
        language="en",
        expires_at=sent_at + timedelta(minutes=5),
        sent_at=sent_at,
        created_at=sent_at,
    )


def send_otp_requests(fake) -> list[object]:
    return [request for request in fake.requests if request.path == "/api/v2/send-otp"]


def test_a_job_killed_mid_run_runs_again_and_its_effect_is_recorded_once(start_worker, broker_url, authentica):
    fake_authentica = authentica
    otp = code_due_for_fallback()
    # The first SMS call is held back (the worker is inside the job) and then fails: the provider
    # never accepted it, as when a crash comes before the provider answered.
    fake_authentica.delay_next(30)
    fake_authentica.fail_next(1, status=503, body={"message": "Service Unavailable"})
    first = start_worker("first")

    with celery_app.connection_for_write(broker_url) as broker:
        task_id = sms_fallback_sweep_task.apply_async(connection=broker).id

    wait_for(
        lambda: send_otp_requests(fake_authentica), "the first worker calling the SMS provider", on_fail=first.output()
    )
    claimed = OTPCode.objects.get(pk=otp.pk)
    assert claimed.sms_fallback_claimed_at is not None
    assert claimed.sms_fallback_sent is False
    started = JobHeartbeat.objects.get(name=SMS_FALLBACK_SWEEP)
    assert (started.last_started_at is not None, started.last_finished_at, started.runs) == (True, None, 0)

    first.kill9()
    assert f"[{task_id}] succeeded" not in first.output()
    # Nothing is lost: the message is still unacknowledged in the broker (or, when the first
    # worker's own restore sweep already ran past the visibility timeout, back in the queue).
    client = redis.Redis.from_url(broker_url)
    try:
        assert client.hlen("unacked") + client.llen("celery") == 1
    finally:
        client.close()

    second = start_worker("second")

    def finished() -> JobHeartbeat | None:
        return JobHeartbeat.objects.filter(name=SMS_FALLBACK_SWEEP, runs__gte=1).first()

    done = wait_for(finished, "the job running again on the second worker", on_fail=second.output())
    assert isinstance(done, JobHeartbeat)
    wait_for(lambda: f"[{task_id}] succeeded" in second.output(), "the second worker's log", on_fail=second.output())

    # The same message ran again...
    assert re.search(rf"Task {re.escape(SMS_FALLBACK_SWEEP)}\[{task_id}\] received", second.output())
    assert len(send_otp_requests(fake_authentica)) == 2
    # ...and its effect is there exactly once.
    sms = [sent for sent in fake_authentica.sent_otps if sent.method == "sms"]
    assert [sent.recipient for sent in sms] == [otp.phone_number]
    row = OTPCode.objects.get(pk=otp.pk)
    assert (row.channel, row.sms_fallback_sent) == ("sms", True)
    assert otp_verify(phone=otp.phone_number, code=sms[0].otp, purpose="auth", hotel=None)
    assert (done.runs, done.failures, done.last_ok) == (1, 0, True)
    assert done.last_result == {"candidates": 1, "sent": 1}
    assert done.last_finished_at is not None
    assert started.last_started_at is not None
    assert done.last_finished_at > started.last_started_at
    # Nothing is left in the broker for a third run.
    client = redis.Redis.from_url(broker_url)
    try:
        wait_for(lambda: client.hlen("unacked") == 0, "the message being acknowledged")
        assert client.llen("celery") == 0
    finally:
        client.close()
