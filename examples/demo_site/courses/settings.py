"""Settings of the demo project, driven by environment variables.

The same project runs as the ``web`` service (a page calling the api) and the
``api`` service (JSON endpoints, Celery tasks): ``DM_SERVICE`` names it in the
logs and ``DEMO_DB`` gives each its own SQLite file.

=====================  ======================================================
``DEMO_DB``            SQLite file (default: a file in the temp folder)
``DEMO_API_URL``       base URL of the api service, called by the web pages
``DEMO_BROKER_URL``    Celery broker (default ``filesystem://``)
``DEMO_BROKER_DIR``    folder of the filesystem broker's messages
``DEMO_DEBUG``         ``0`` to try the DEBUG guard
``DEMO_DM_COMMANDS``   ``0`` sets ``DM_COMMANDS = False``
``DEMO_DM_LOGGING``    ``0`` leaves the root logger alone
=====================  ======================================================
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "demo-not-secret"
DEBUG = os.environ.get("DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "courses.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = ["dm_log.django", "courses"]
MIDDLEWARE = ["dm_log.django.DebugMonitorMiddleware", "django.middleware.common.CommonMiddleware"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB") or str(Path(tempfile.gettempdir()) / "dm-demo.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
}

DEMO_API_URL = os.environ.get("DEMO_API_URL", "http://127.0.0.1:8001")

DM_COMMANDS = os.environ.get("DEMO_DM_COMMANDS", "1") == "1"
DM_LOGGING = os.environ.get("DEMO_DM_LOGGING", "1") == "1"
DM_INSTRUMENT_HTTP = True

if os.environ.get("DEMO_RUNTIME") == "1":  # the demo: memory and threads every second
    import dm_log

    dm_log.start_runtime_sampler(interval=1.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"courses": {"level": "INFO"}},
}
