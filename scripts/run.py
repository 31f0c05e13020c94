"""`make run`: migrate, load the demo data, then run the web server, a Celery worker and beat.

Standard library only: it drives `manage.py`, uvicorn and celery as child processes of the
project's virtualenv. Without DATABASE_URL/REDIS_URL everything is embedded (SQLite file and a
filesystem broker under var/); with them the same command uses PostgreSQL and Redis.
Ctrl-C or SIGTERM stops every child; if one child dies, the others are stopped too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_PYTHON = BASE_DIR / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 15.0
READY_TIMEOUT_SECONDS = 90.0

# Local development, not production: plain-HTTP cookies and no HTTPS redirect on 127.0.0.1.
LOCAL_DEFAULTS = {"DEBUG": "true", "AUTH_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false"}


def dotenv() -> dict[str, str]:
    """The .env file settings also read; a name set there counts as "already set"."""
    path = BASE_DIR / ".env"
    values: dict[str, str] = {}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip().removeprefix("export ").strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name.strip()] = value.strip().strip("'\"")
    return values


def setting(name: str) -> str:
    """The value settings will see: the environment first, then .env."""
    return os.environ.get(name, dotenv().get(name, ""))


def is_true(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on", "y", "t"}


def ensure_virtualenv() -> None:
    """Re-run under the project's virtualenv when started with another interpreter."""
    if importlib.util.find_spec("django") is not None:
        return
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (same script, known interpreter)
    sys.exit("Django is not installed for this interpreter: start Refuje with `make run`.")


def manage(supervisor: Supervisor, *args: str, capture: bool = False) -> str:
    """Run one management command in the foreground (Ctrl-C reaches it directly)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if supervisor.stop_signal is not None:
        sys.exit(0)
    if result.returncode != 0:
        sys.exit(f"`manage.py {' '.join(args)}` failed (exit code {result.returncode}); see the messages above.")
    return result.stdout or ""


class Supervisor:
    """Child processes, each the leader of its own process group so that a stop also reaches the
    processes they start themselves (celery's embedded beat). Signals only set flags; the main loop
    acts on them, so a signal never lands halfway through starting a child."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_signal: str | None = None
        self.force = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signal.Signals(signum).name
        else:
            # A second Ctrl-C while stopping: do not wait for graceful shutdown any longer.
            self.force = True

    def start(self, name: str, command: list[str]) -> None:
        process = subprocess.Popen(command, cwd=BASE_DIR, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes[name] = process
        print(f"[run] started {name} (pid {process.pid}): {' '.join(command)}", flush=True)

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                return name, code
        return None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        for process in self.processes.values():
            signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in self.processes.items():
            # Wait for the leader and the rest of its group; whatever is left at the deadline
            # (or after a second Ctrl-C) is killed.
            while not self.force and time.monotonic() < deadline and running(process):
                time.sleep(0.1)
            if running(process):
                print(f"[run] {name} did not stop in time; killing it", flush=True)
                signal_group(process.pid, signal.SIGKILL)
                process.wait()


def running(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None or group_alive(process.pid)


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until_ready(supervisor: Supervisor, url: str) -> bool:
    # Straight to 127.0.0.1: an http_proxy in the environment must not intercept the probe.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if supervisor.stop_signal is not None or supervisor.first_exited() is not None:
            return False
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    print(f"[run] {url} did not answer within {READY_TIMEOUT_SECONDS:.0f}s; see the log", flush=True)
    return False


def banner(base_url: str, demo: dict[str, Any] | None, *, sqlite: bool, redis: bool) -> str:
    rule = "=" * 78
    lines = [
        rule,
        "Refuje is running",
        f"  Server       {base_url}",
        f"  Admin        {base_url}/admin/",
        f"  API docs     {base_url}/api/docs/   (schema: {base_url}/api/schema/)",
        f"  Health       {base_url}/healthz   {base_url}/readyz",
        "  Database     " + ("SQLite, var/refuje.sqlite3" if sqlite else "PostgreSQL (DATABASE_URL)"),
        "  Jobs         Celery worker + beat on "
        + ("Redis (REDIS_URL)" if redis else "the filesystem broker, var/broker/"),
    ]
    if demo is not None:
        hotel = demo["hotel"]
        lines += ["", f"Demo hotel '{hotel['slug']}': {hotel['name_en']} / {hotel['name_ar']}"]
        lines.append("  Sign in with a phone number (either form) and a one-time code:")
        for person in demo["staff"]:
            departments = f"  [{', '.join(person['departments'])}]" if person["departments"] else ""
            lines.append(
                f"    {person['role']:<11} {person['phone']}  ({person['local']})  {person['full_name']}{departments}"
            )
        for guest in demo.get("guests") or [demo["guest"]]:
            room = f", room {guest['room']}" if guest.get("room") else ""
            lines.append(f"    {'GUEST':<11} {guest['phone']}  ({guest['local']})  with hotel '{hotel['slug']}'{room}")
        code = demo.get("qr_code")
        if code:
            lines.append(f"  Room QR code ({code['label']}): {base_url}{code['public_path']}")
        if demo.get("experiences"):
            lines.append("  Experiences: " + ", ".join(item["title_en"] for item in demo["experiences"]))
        requests = {status: count for status, count in (demo.get("requests") or {}).items() if count}
        if requests:
            lines.append("  Requests: " + ", ".join(f"{status} {count}" for status, count in requests.items()))
        operator = demo["operator"]
        if operator is not None:
            password = operator["password"] or "(changed since it was first seeded)"
            lines.append(f"  Django admin (platform operator): {operator['phone']}  password: {password}")
    provider = setting("OTP_PROVIDER") or "console"
    lines.append("")
    if provider == "console":
        lines.append("One-time codes are not sent anywhere: the console provider writes them to this log.")
    else:
        lines.append(f"One-time codes are delivered by the '{provider}' provider (OTP_PROVIDER).")
    lines += ["Ctrl-C stops the web server, the worker and beat.", rule]
    return "\n".join(lines)


def main() -> int:
    ensure_virtualenv()
    os.chdir(BASE_DIR)
    supervisor = Supervisor()
    signal.signal(signal.SIGINT, supervisor.on_signal)
    signal.signal(signal.SIGTERM, supervisor.on_signal)

    preset = set(os.environ) | set(dotenv())
    for name, value in LOCAL_DEFAULTS.items():
        if name not in preset:
            os.environ[name] = value
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    debug = is_true(setting("DEBUG"))
    sqlite = not setting("DATABASE_URL")
    redis = bool(setting("REDIS_URL"))
    port = setting("PORT") or "8000"

    data_dir = Path(setting("REFUJE_DATA_DIR") or BASE_DIR / "var")
    data_dir.mkdir(parents=True, exist_ok=True)
    if not redis:
        # The folders of CELERY_BROKER_TRANSPORT_OPTIONS in settings; kombu does not create them.
        for folder in ("queue", "processed"):
            (data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)

    manage(supervisor, "migrate", "--noinput")
    demo: dict[str, Any] | None = None
    if debug:
        demo = json.loads(manage(supervisor, "seed_demo", "--json", capture=True).strip().splitlines()[-1])
    else:
        # Without DEBUG nothing serves static files straight from the apps, so collect them.
        manage(supervisor, "collectstatic", "--noinput", "--verbosity", "0")
        print("[run] DEBUG is off: no demo data is loaded.", flush=True)

    worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info"]
    worker += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
    if sqlite:
        # SQLite allows one writer at a time. The solo pool runs one task at a time inside the
        # worker process, so the worker adds a single writer next to the web server and beat
        # instead of a pool of them queueing on (and timing out behind) the same write lock.
        # PostgreSQL has no such limit, so there the worker gets a real pool.
        worker += ["--pool", "solo", "--concurrency", "1"]
    else:
        worker += ["--concurrency", setting("CELERY_CONCURRENCY") or "2"]
    # Django's ASGI handler has no lifespan support: skip uvicorn's probe and its warning.
    web = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", HOST, "--port", port]
    web += ["--lifespan", "off"]

    base_url = f"http://{HOST}:{port}"
    if supervisor.stop_signal is None:
        supervisor.start("web", web)
        supervisor.start("worker", worker)
        if wait_until_ready(supervisor, f"{base_url}/healthz"):
            print(banner(base_url, demo, sqlite=sqlite, redis=redis), flush=True)
    while supervisor.stop_signal is None:
        exited = supervisor.first_exited()
        if exited is not None:
            name, code = exited
            print(f"[run] {name} exited with code {code}; stopping the rest", flush=True)
            supervisor.stop()
            # A child killed by a signal has a negative code; the shell should still see a failure.
            return code if code > 0 else 1
        time.sleep(0.3)
    print(f"\n[run] {supervisor.stop_signal}: stopping the web server, the worker and beat", flush=True)
    supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
