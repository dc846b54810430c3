"""Text from files made safe for a terminal: no control sequence survives.

Every string that came from a log file (paths, SQL, messages, panel content,
service names) goes through :func:`safe` before it is printed or drawn. C0 and
C1 controls (ESC, CSI, OSC, BEL, NUL...), DEL and the bidi embedding/override/
isolate characters become visible ``\\xNN``/``\\u202e`` escapes; tabs become a
space; newlines are kept only where the caller allows them.
"""

from __future__ import annotations

import re

import orjson

__all__ = ["safe", "safe_json", "safe_line"]

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\t":
        return " "
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, *, multiline: bool = True) -> str:
    """``text`` as a string with every terminal control character made visible.

    With ``multiline`` newlines are kept (``\\r`` is not); without, they are escaped too.
    """
    s = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE if multiline else _UNSAFE_ONE_LINE
    return pattern.sub(_escape, s)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def safe_json(data: object, *, indent: bool = False) -> str:
    """``data`` as JSON text with every character a terminal could act on written as ``\\uXXXX``.

    orjson already escapes C0 controls; DEL, C1 controls and bidi overrides are
    escaped here, so the JSON means the same and prints inertly.
    """
    option = orjson.OPT_INDENT_2 if indent else 0
    text = orjson.dumps(data, option=option | orjson.OPT_NON_STR_KEYS, default=str).decode()
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_line(text: object, limit: int | None = None) -> str:
    """One line of safe text, cut to ``limit`` characters with an ellipsis."""
    s = safe(text, multiline=False)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    return s
