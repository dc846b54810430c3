"""Redaction of secrets before anything is written.

Two mechanisms work together:

* **By key.** A header, query parameter, form field, mapping key or SQL column whose
  name looks secret (``Authorization``, ``Cookie``, ``password``, ``api_key``,
  ``csrfmiddlewaretoken``, …) has its value replaced by :data:`REDACTED`.
* **By value.** Each value redacted by key is remembered in the current span's
  ``secrets`` set and scrubbed from free text written later in that span (log
  messages, SQL parameters, exception messages), where no key names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "is_secret_key",
    "redact_argv",
    "redact_headers",
    "redact_mapping",
    "redact_query",
    "redact_sql_params",
    "redact_url",
    "scrub",
    "set_extra_keys",
]

REDACTED = "[redacted]"

_BASE_PATTERN = (
    r"passw|pwd|secret|token|api[-_]?key|apikey|session|csrf|xsrf|cookie|authori[sz]ation"
    r"|^auth$|[-_]auth$|^auth[-_]|credential|private[-_]?key|signature|^sig$|bearer|otp$|^pin$"
)
_key_re = re.compile(_BASE_PATTERN, re.IGNORECASE)
_MIN_SECRET = 4


def set_extra_keys(extra: Iterable[str]) -> None:
    """Add key fragments (plain text, case-insensitive) to what counts as secret."""
    global _key_re
    parts = [_BASE_PATTERN, *(re.escape(k) for k in extra if k)]
    _key_re = re.compile("|".join(parts), re.IGNORECASE)
    is_secret_key.cache_clear()
    _sql_secret_slots.cache_clear()


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True if a value stored under ``key`` must not be written."""
    return _key_re.search(key) is not None


def _remember(secrets: set[str] | None, value: object) -> None:
    if secrets is None or not isinstance(value, str):
        return
    value = value.strip()
    if len(value) >= _MIN_SECRET:
        secrets.add(value)
        # "Bearer abc", "Token abc", "Basic abc": the credential alone turns up elsewhere too.
        scheme, _, rest = value.partition(" ")
        if rest and len(rest) >= _MIN_SECRET and scheme.isalpha():
            secrets.add(rest.strip())
        # "a=1; b=2": each cookie value on its own.
        if "=" in value and ";" in value:
            for part in value.split(";"):
                _, _, v = part.partition("=")
                if len(v.strip()) >= _MIN_SECRET:
                    secrets.add(v.strip())


def scrub(text: str, secrets: set[str] | None) -> str:
    """Replace every remembered secret value inside ``text``."""
    if not secrets or not text:
        return text
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_headers(headers: Mapping[str, Any], secrets: set[str] | None = None) -> dict[str, str]:
    """Headers as ``{name: value}`` strings with secret ones redacted and remembered."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        name = str(name)
        if is_secret_key(name):
            _remember(secrets, str(value))
            out[name] = REDACTED
        else:
            out[name] = scrub(str(value), secrets)
    return out


def redact_mapping(value: Any, secrets: set[str] | None = None, _depth: int = 0) -> Any:
    """A copy of ``value`` with the values of secret keys redacted, at any depth."""
    if _depth > 32:
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and is_secret_key(k):
                if isinstance(v, str):
                    _remember(secrets, v)
                out[k] = REDACTED
            else:
                out[k] = redact_mapping(v, secrets, _depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [redact_mapping(v, secrets, _depth + 1) for v in value]
    if isinstance(value, str) and secrets:
        return scrub(value, secrets)
    return value


def redact_query(query: str, secrets: set[str] | None = None) -> str:
    """A query string with the values of secret parameters redacted."""
    if not query:
        return query
    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        return scrub(query, secrets)
    changed = False
    out = []
    for k, v in pairs:
        if is_secret_key(k):
            _remember(secrets, v)
            out.append((k, REDACTED))
            changed = True
        else:
            out.append((k, v))
    if not changed:
        return scrub(query, secrets)
    return urlencode(out, safe="[]")


def redact_url(url: str, secrets: set[str] | None = None) -> str:
    """A URL without userinfo credentials and with secret query values redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url, secrets)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        _remember(secrets, password)
        netloc = f"{user}:{REDACTED}@{hostport}" if sep else f"{REDACTED}@{hostport}"
    query = redact_query(parts.query, secrets) if parts.query else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_PLACEHOLDER = re.compile(r"%s|%\((\w+)\)s|\?|:(\w+)|\$\d+")
_LHS = re.compile(r"""["`\[]?(\w+)["`\]]?\s*(?:=|<>|!=|<|>|<=|>=|\bLIKE|\bIN\s*\(\s*)\s*$""", re.I)
_INSERT = re.compile(r"INSERT\s+INTO\s+\S+\s*\(([^)]*)\)\s*VALUES", re.I)


@lru_cache(maxsize=2048)
def _sql_secret_slots(sql: str) -> tuple[frozenset[int], frozenset[str]]:
    """Positions (and names, for named styles) of placeholders bound to secret columns."""
    positions: set[int] = set()
    names: set[str] = set()
    insert = _INSERT.search(sql)
    columns = (
        [c.strip().strip('"`[]') for c in insert.group(1).split(",")] if insert is not None else []
    )
    values_at = insert.end() if insert is not None else -1
    for index, m in enumerate(_PLACEHOLDER.finditer(sql)):
        name = m.group(1) or m.group(2)
        column: str | None = None
        if values_at >= 0 and m.start() > values_at and columns:
            column = columns[index % len(columns)]
        else:
            lhs = _LHS.search(sql, max(0, m.start() - 120), m.start())
            column = lhs.group(1) if lhs is not None else None
        if (column and is_secret_key(column)) or (name and is_secret_key(name)):
            positions.add(index)
            if name:
                names.add(name)
    return frozenset(positions), frozenset(names)


def redact_sql_params(sql: str, params: Any, secrets: set[str] | None = None) -> Any:
    """SQL parameters with values bound to secret-looking columns redacted.

    ``params`` is a sequence (``%s``/``?`` styles), a sequence of sequences
    (executemany), or a mapping (named styles). Strings equal to or containing a
    remembered secret are scrubbed too.
    """
    if params is None:
        return None
    positions, names = _sql_secret_slots(sql)
    if not positions and not names and not secrets and type(params) is list:
        return params  # the common case: nothing secret, nothing to copy
    if isinstance(params, Mapping):
        return {
            str(k): REDACTED if (k in names or is_secret_key(str(k))) else _scrub_value(v, secrets)
            for k, v in params.items()
        }
    if isinstance(params, list | tuple):
        if params and isinstance(params[0], list | tuple | Mapping):  # executemany: rows
            return [redact_sql_params(sql, row, secrets) for row in params]
        return [
            REDACTED if i in positions else _scrub_value(v, secrets) for i, v in enumerate(params)
        ]
    return _scrub_value(params, secrets)


def _scrub_value(value: Any, secrets: set[str] | None) -> Any:
    if isinstance(value, str) and secrets:
        return scrub(value, secrets)
    return value


def redact_argv(argv: Iterable[Any], secrets: set[str] | None = None) -> list[str]:
    """Command-line arguments with secret options redacted: ``--password=x``, ``--token x``."""
    out: list[str] = []
    hide_next = False
    for arg in list(argv)[:64]:
        arg = str(arg)[:500]
        if hide_next:
            _remember(secrets, arg)
            out.append(REDACTED)
            hide_next = False
            continue
        key, eq, value = arg.partition("=")
        if key.startswith("-") and is_secret_key(key.lstrip("-")):
            if eq:
                _remember(secrets, value)
                out.append(f"{key}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(scrub(arg, secrets))
    return out
