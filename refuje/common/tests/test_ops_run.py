"""`scripts/run.py` end to end: embedded SQLite + filesystem broker, real uvicorn and Celery."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]
# The suite's own environment points at PostgreSQL/Redis and test settings; `make run` on a
# fresh machine has none of that.
SUITE_ONLY = {
    "DATABASE_URL",
    "REDIS_URL",
    "REFUJE_TESTING",
    "REFUJE_TEST_DB",
    "CACHE_KEY_PREFIX",
    "DEBUG",
    "AUTH_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "CELERY_BROKER_URL",
    "OTP_PROVIDER",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class RunCommand:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.env = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
        self.env.update({"REFUJE_DATA_DIR": str(data_dir), "PORT": str(self.port)})
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/run.py"],
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"{pattern!r} never appeared:\n{self.output()[-4000:]}")

    def child_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"\[run\] started (\w+) \(pid (\d+)\)", self.output())}

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def cleanup(self) -> None:
        for pid in [*self.child_pids().values(), self.process.pid]:
            if group_alive(pid):
                os.killpg(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("run-data")


@pytest.fixture
def run_command(data_dir, tmp_path):
    runs: list[RunCommand] = []

    def start() -> RunCommand:
        run = RunCommand(data_dir, tmp_path / f"run-{len(runs)}.log")
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.cleanup()


def test_run_serves_the_app_runs_celery_jobs_and_ctrl_c_stops_every_process(run_command, data_dir):
    run = run_command()
    run.wait_for(r"Refuje is running")

    assert run.get("/healthz")[0] == 200
    status, body = run.get("/readyz")
    assert status == 200
    checks = json.loads(body)["checks"]
    assert checks["database"]["info"] == "sqlite"
    assert checks["broker"]["ok"]
    assert checks["broker"]["info"] == "filesystem"
    assert run.get("/api/docs/")[0] == 200
    assert (data_dir / "refuje.sqlite3").exists()
    banner = run.output()
    for phone in ("+966555000001", "+966555000002", "+966555000003", "+966555000005", "+966555000010"):
        assert phone in banner
    assert "password: refuje-demo-admin" in banner
    assert "console provider" in banner

    # A task travels from a producer through the filesystem broker to the worker and back.
    call = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "call", "refuje.ping"],
        cwd=BASE_DIR,
        env={**run.env, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    task_id = call.stdout.strip().splitlines()[-1]
    run.wait_for(rf"refuje\.ping\[{re.escape(task_id)}\] succeeded in [0-9.e-]+s: 'pong'", timeout=60)

    children = run.child_pids()
    assert set(children) == {"web", "worker"}
    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(timeout=60) == 0
    for name, pid in children.items():
        assert not group_alive(pid), f"{name} (process group {pid}) survived Ctrl-C"


def test_run_stops_everything_and_fails_when_one_child_dies(run_command):
    run = run_command()
    run.wait_for(r"Refuje is running")
    children = run.child_pids()

    os.killpg(children["web"], signal.SIGKILL)

    assert run.process.wait(timeout=60) != 0
    assert "web exited" in run.output()
    assert not group_alive(children["worker"]), "the worker outlived the web server"


def test_run_is_stopped_by_sigterm_too(run_command):
    run = run_command()
    run.wait_for(r"Refuje is running")
    children = run.child_pids()

    run.process.send_signal(signal.SIGTERM)

    assert run.process.wait(timeout=60) == 0
    assert not any(group_alive(pid) for pid in children.values())
