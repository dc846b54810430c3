"""An opt-in thread sampling the process's resource use as ``runtime`` events."""

from __future__ import annotations

import gc
import os
import resource
import threading

from ._writer import emit, enabled

__all__ = ["RuntimeSampler", "start_runtime_sampler"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def sample() -> dict[str, object]:
    """The fields of one ``runtime`` event, measured now."""
    times = os.times()
    return {
        "rss": _rss(),
        "cpu": round(times.user + times.system, 3),
        "threads": threading.active_count(),
        "gc": list(gc.get_count()),
        "fds": _fds(),
    }


class RuntimeSampler:
    """A daemon thread writing a ``runtime`` event every ``interval`` seconds until stopped."""

    def __init__(self, interval: float) -> None:
        self.interval = max(float(interval), 0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dm-runtime", daemon=True)

    def start(self) -> RuntimeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            if enabled():
                try:
                    emit("runtime", sample())
                except Exception:
                    pass
            self._stop.wait(self.interval)


def start_runtime_sampler(interval: float = 5.0) -> RuntimeSampler:
    """Start sampling RSS, CPU time, threads, GC counts and open files every ``interval`` s."""
    return RuntimeSampler(interval).start()
