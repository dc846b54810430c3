"""A trace's sampled profiles as a speedscope file (https://www.speedscope.app).

Written in speedscope's documented file format
(``https://www.speedscope.app/file-format-schema.json``): one ``sampled`` profile
per ``profile`` event of the trace, frames shared between them. A folded frame
``module:func`` becomes ``{"name": "func", "file": "module"}``; each distinct
stack is one sample, outermost frame first, weighted by its samples times the
interval, in milliseconds.
"""

from __future__ import annotations

from typing import Any

from ..model import Trace
from ..model.profile import span_profiles

__all__ = ["SCHEMA_URL", "speedscope_document"]

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"


def _frame(folded: str) -> dict[str, str]:
    module, sep, func = folded.partition(":")
    return {"name": func, "file": module} if sep and func else {"name": folded}


def speedscope_document(trace: Trace, exporter: str = "dm-explore") -> dict[str, Any]:
    """The speedscope file of ``trace``'s profiles (``profiles`` empty when it has none)."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}
    profiles: list[dict[str, Any]] = []
    spans = sorted(trace.spans, key=lambda s: (s.start_ts or 0.0, s.seq))
    for span in spans:
        for number, profile in enumerate(span_profiles(span), 1):
            samples: list[list[int]] = []
            weights: list[float] = []
            for stack, count in profile.stacks:
                ids = []
                for name in stack:
                    found = index.get(name)
                    if found is None:
                        found = index[name] = len(frames)
                        frames.append(_frame(name))
                    ids.append(found)
                samples.append(ids)
                weights.append(round(profile.ms_of(count), 6))
            name = f"{span.svc} {span.kind} {span.name}"
            if len(span.profiles) > 1:
                name += f" #{number}"
            profiles.append(
                {
                    "type": "sampled",
                    "name": name,
                    "unit": "milliseconds",
                    "startValue": 0,
                    "endValue": round(sum(weights), 6),
                    "samples": samples,
                    "weights": weights,
                }
            )
    return {
        "$schema": SCHEMA_URL,
        "shared": {"frames": frames},
        "profiles": profiles,
        "name": f"trace {trace.trace_id}",
        "activeProfileIndex": 0,
        "exporter": exporter,
    }
