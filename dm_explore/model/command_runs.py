"""Management command runs and their status, after the Django Command Monitoring seed.

A run is STARTED until its first heartbeat, RUNNING while heartbeats or progress
keep coming, FINISHED or FAILED when it ends, and SYSTEM_KILL when it stopped
reporting without ending: no sign of life for more than twice its heartbeat
interval, its process known to be gone, or a newer run of the same command on
the same host started while it was still RUNNING.
"""

from __future__ import annotations

from .records import Span

__all__ = ["STATUSES", "command_status"]

STATUSES = ("STARTED", "RUNNING", "FINISHED", "FAILED", "SYSTEM_KILL")
DEFAULT_INTERVAL = 30.0


def command_status(run: Span, now: float, superseded: bool) -> str:
    """The status of one command run as of ``now`` (epoch seconds)."""
    if run.end_ts is not None:
        if run.result in ("FINISHED", "FAILED"):
            return str(run.result)
        return "FAILED" if run.end_outcome == "error" else "FINISHED"
    if run.killed or superseded:
        return "SYSTEM_KILL"
    interval = run.interval or DEFAULT_INTERVAL
    last = run.heartbeat_ts or run.start_ts or now
    if now - last > 2 * interval:
        return "SYSTEM_KILL"
    return "RUNNING" if run.heartbeat_ts is not None else "STARTED"
