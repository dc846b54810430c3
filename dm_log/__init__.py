"""dm_log: write debug events as JSON lines, one file per process, in ``$DM_LOG_DIR``.

Recording is on when ``DM_LOG_DIR`` is set (or after :func:`configure` with a
``log_dir``); otherwise every call below returns at once.

Nothing here raises into the application or waits on a lock its thread may hold:
importing never fails on a bad ``DM_*`` value (it is refused, said once on stderr
and as ``dm.config``), calls from signal handlers are safe, values are bounded
before anything else looks at them, undecodable text is written with U+FFFD, and
secrets are redacted by key, by shape and by value in every field of every event.
Trace and span ids come from the writer's own generator, which ``random.seed`` does
not touch.

>>> import dm_log
>>> with dm_log.span("import-prices", source="s3"):
...     dm_log.metric("prices.rows", 1200)
...     dm_log.panel("Enrollment", "kv", {"course": "demo", "mode": "audit"})
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._api import (
    Span,
    capture_exception,
    metric,
    panel,
    progress,
    record,
    span,
    start_span,
    traceparent,
)
from ._config import Config, configure, setting
from ._frames import call_site
from ._logging import LogHandler, structlog_processor
from ._redact import REDACTED, is_secret_key
from ._runtime import RuntimeSampler, start_runtime_sampler
from ._writer import enabled


def instrument_http() -> None:
    """Trace outgoing calls made with requests, httpx and urllib3 (see ``dm_log.http``)."""
    from .http import instrument

    instrument()


def log_file() -> str | None:
    """The file this process writes now, or None."""
    from ._writer import sink

    s = sink()
    return str(s.path) if s is not None and s.path is not None else None


__all__ = [
    "REDACTED",
    "Config",
    "LogHandler",
    "RuntimeSampler",
    "Span",
    "__version__",
    "call_site",
    "capture_exception",
    "configure",
    "enabled",
    "instrument_http",
    "is_secret_key",
    "log_file",
    "metric",
    "panel",
    "progress",
    "record",
    "setting",
    "span",
    "start_runtime_sampler",
    "start_span",
    "structlog_processor",
    "traceparent",
]
