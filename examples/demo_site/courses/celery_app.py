"""The demo's Celery app. With no broker server the filesystem transport is used.

``DEMO_BROKER_URL`` picks the broker (``redis+socket:///path/redis.sock`` in the
tests); the default ``filesystem://`` needs no daemon, only ``DEMO_BROKER_DIR``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from celery import Celery

import dm_log.celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courses.settings")

app = Celery("courses")
broker = os.environ.get("DEMO_BROKER_URL") or "filesystem://"
options: dict[str, object] = {}
if broker.startswith("filesystem"):
    folder = Path(
        os.environ.get("DEMO_BROKER_DIR") or Path(tempfile.gettempdir()) / "dm-demo-broker"
    )
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
app.conf.update(
    broker_url=broker,
    broker_transport_options=options,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
app.autodiscover_tasks(["courses"])
dm_log.celery.instrument(app)
