import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import beat_init, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("refuje")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_filesystem_broker_folders() -> None:
    """kombu's filesystem transport fails on a missing folder instead of creating it."""
    if not str(app.conf.broker_url).startswith("filesystem://"):
        return
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@celeryd_init.connect
def _broker_folders_for_worker(**kwargs: Any) -> None:
    ensure_filesystem_broker_folders()


@beat_init.connect
def _broker_folders_for_beat(**kwargs: Any) -> None:
    ensure_filesystem_broker_folders()


@app.task(name="refuje.ping")
def ping_task() -> str:
    """A task with no side effects: proves a message travels producer → broker → worker."""
    return "pong"
