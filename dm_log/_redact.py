"""Redaction of secrets before anything is written: one pass over every field of every event.

:func:`redact_event` walks each field of an event (every kind, every depth,
dict keys and list items alike), bounding it as it goes (see ``_bounds``) and
applying three rules to what it meets:

* **By key.** A value under a key that looks secret (``Authorization``,
  ``Cookie``, ``password``, ``passphrase``, ``pass``, ``key``, ``api_key``,
  ``csrfmiddlewaretoken``, …), at any depth or at the top of the event, becomes
  :data:`REDACTED`. So do SQL parameters bound to such a column and the argument
  after a secret command-line option (``--password x``).
* **By shape, in any text.** Wherever a string holds ``scheme://user:PASSWORD@``
  the password goes (a bare ``scheme://TOKEN@`` loses the whole userinfo);
  ``name=value`` with a secret-looking name (a query string, a form body, a log
  message, ``password='x'`` in SQL) loses its value; and in a path, every
  segment after ``/reset/``, ``/activate/``, ``/confirm/``, ``/verify/``,
  ``/invite/``, ``/magic-link/`` or ``/unsubscribe/`` goes (the shape of Django's
  password-reset and activation links). Other path segments (ids, slugs, endpoint
  names such as ``/api/token/refresh/``) are kept: a token elsewhere in a path is
  not recognised by shape.
* **By value.** Everything redacted above is remembered in the current span's
  ``secrets`` set (child spans share it) and scrubbed from every string written
  later in that span, and from the rest of the same event: the ``error`` text of
  a span end, an exception's ``message`` and ``cause``, an SQL literal, a log
  message. Values under 4 characters are redacted where found but not remembered,
  and a span tree remembers at most 1024 values (later ones are still redacted by
  key and by shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice
from typing import Any
from urllib.parse import unquote_plus

from ._bounds import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_NODES,
    MAX_STRING,
    TRUNCATED,
    clip_text,
    cut_mark,
    plain,
    printable,
)

__all__ = ["REDACTED", "is_secret_key", "redact_argv", "redact_event", "scrub", "set_extra_keys"]

REDACTED = "[redacted]"

_BASE_PATTERN = (
    r"passw|passphrase|^pass$|pwd|secret|token|api[-_]?key|apikey|^key$|session|csrf|xsrf"
    r"|cookie|authori[sz]ation|^auth$|[-_]auth$|^auth[-_]|credential|private[-_]?key"
    r"|signature|^sig$|bearer|otp$|^pin$"
)
_key_re = re.compile(_BASE_PATTERN, re.IGNORECASE)
_MIN_SECRET = 4
_MIN_PATH_SECRET = 8
_MAX_REMEMBERED = 1024

# The kind and the API's instructions to the pipeline.
_NOT_WALKED = frozenset({"event", "_dm_ctx", "_dm_validate"})
# Code locations the writer itself builds (call sites, stack frames, a profile's folded
# stacks), never user data, in the kinds whose schema defines them; under any other kind
# these names are walked.
_CODE_FIELDS = frozenset({"site", "call", "frames", "stacks"})
_CODE_KINDS = frozenset({"sql", "log", "exception", "dm.invalid", "cache", "profile"})
# Fields the instrumentation names after what they hold, not after a secret: a cache
# event's ``key`` is the cache key (already redacted when its own text looks secret), a
# request end's ``session_keys`` the names of the session's keys (never their values);
# walked like any other value, by key, by shape and by value.
_TEXT_FIELDS = {"cache": frozenset({"key"}), "request.end": frozenset({"session_keys"})}


def set_extra_keys(extra: Iterable[str]) -> None:
    """Add key fragments (plain text, case-insensitive) to what counts as secret."""
    global _key_re
    parts = [_BASE_PATTERN, *(re.escape(k) for k in extra if k)]
    _key_re = re.compile("|".join(parts), re.IGNORECASE)
    _verdicts.clear()
    _safe_keys.clear()
    _plain_texts.clear()
    _sql_slots.clear()
    _plans.clear()
    _shapes.clear()


# Verdicts per key, a plain dict (a lookup is cheaper than a cached call); the top-level
# keys the pass skips are kept in it too, as _SKIP, so one lookup decides a key.
_verdicts: dict[str, Any] = {}
_SKIP = object()
# The keys found not secret (and short enough to be kept as they are): a mapping whose
# keys all are in it, and whose values all are plain texts, is left as it is at once.
_safe_keys: set[str] = set()


def is_secret_key(key: str) -> bool:
    """True if a value stored under ``key`` must not be written."""
    found = _verdicts.get(key)
    if found is None or found is _SKIP:
        found = _key_re.search(key) is not None
        if len(_verdicts) >= 8192:
            _verdicts.clear()
            _safe_keys.clear()
        if key not in _NOT_WALKED:
            _verdicts[key] = found
        if not found and type(key) is str and len(key) <= MAX_STRING:
            _safe_keys.add(key)
    return bool(found)


def _remember(secrets: set[str], value: str, minimum: int = _MIN_SECRET) -> None:
    value = value.strip()
    if len(value) < minimum or value == REDACTED or len(secrets) >= _MAX_REMEMBERED:
        return
    secrets.add(value)
    if "%" in value or "+" in value:
        secrets.add(unquote_plus(value))
    # "Bearer abc", "Token abc", "Basic abc": the credential alone turns up elsewhere too.
    scheme, _, rest = value.partition(" ")
    if rest and len(rest) >= _MIN_SECRET and scheme.isalpha():
        secrets.add(rest.strip())
    # "a=1; b=2": each cookie value on its own.
    if "=" in value and ";" in value:
        for part in value.split(";"):
            v = part.partition("=")[2].strip()
            if len(v) >= _MIN_SECRET:
                secrets.add(v)


def scrub(text: str, secrets: set[str] | None) -> str:
    """Replace every remembered secret value inside ``text``."""
    if not secrets or not text:
        return text
    for secret in tuple(secrets):  # a copy: a signal handler may add to the set meanwhile
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


# -- by shape --------------------------------------------------------------------------

_USERINFO = re.compile(r"://([^\s/?#@'\"<>]+)@")
# Found from the "=" (a literal the engine jumps to), the name then read backwards:
# scanning for names at every position would cost more than the rest of the event.
_VALUE = re.compile(r"""=([^&\s#;,'"<>]+)|=(\s*)'([^']*)'""")
_NAME_BACK = re.compile(r"[A-Za-z0-9_.\-\[\]]+")  # name=value: nothing between
_SQL_NAME_BACK = re.compile(r"\s*[\"`\]]?([A-Za-z0-9_.]+)")  # "column" = 'literal'
_PATH = re.compile(
    r"(/(?:password[-_])?(?:reset|activate|activation|confirm|verify|verification|invite"
    r"|invitation|magic[-_]?link|unsubscribe)s?/)([^\s?#'\"<>]+)",
    re.IGNORECASE,
)


def _userinfo(text: str, secrets: set[str]) -> str:
    def hide(m: re.Match[str]) -> str:
        user, colon, password = m.group(1).partition(":")
        if colon:
            _remember(secrets, password)
            return f"://{user}:{REDACTED}@"
        _remember(secrets, user)
        return f"://{REDACTED}@"

    return _USERINFO.sub(hide, text)


def _name_values(text: str, secrets: set[str]) -> str:
    pieces: list[str] = []
    last = 0
    for m in _VALUE.finditer(text):
        at = m.start()
        before = text[max(0, at - 100) : at][::-1]
        if m.group(1) is not None:
            name_m = _NAME_BACK.match(before)
            name = name_m.group(0)[::-1] if name_m else ""
            value, hidden = m.group(1), "=" + REDACTED
        else:
            name_m = _SQL_NAME_BACK.match(before)
            name = name_m.group(1)[::-1] if name_m else ""
            value, hidden = m.group(3), f"={m.group(2)}'{REDACTED}'"
        if not name or not is_secret_key(name):
            continue
        _remember(secrets, value)
        pieces.append(text[last:at])
        pieces.append(hidden)
        last = m.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _path(text: str, secrets: set[str]) -> str:
    def hide(m: re.Match[str]) -> str:
        out = []
        for segment in m.group(2).split("/"):
            if segment:
                _remember(secrets, segment, _MIN_PATH_SECRET)
                out.append(REDACTED)
            else:
                out.append("")
        return m.group(1) + "/".join(out)

    return _PATH.sub(hide, text)


def _may_name_a_link(lowered: str) -> bool:
    """False when an ASCII text (lowered) cannot hold a :data:`_PATH` link: a few substring
    tests instead of the case-blind regex, which costs several times more on every path.
    Text that is not ASCII always goes to the regex (its case folding is wider than
    ``lower()``: ``\\u017f`` matches ``s``)."""
    return (
        "reset" in lowered
        or "activat" in lowered
        or "confirm" in lowered
        or "verif" in lowered
        or "invit" in lowered
        or "magic" in lowered
        or "unsubscri" in lowered
    )


# Texts seen to hold no secret by shape. Hot-path text repeats (SQL, paths, logger
# names), so most strings are looked up here once instead of searched again.
_plain_texts: set[str] = set()
_PLAIN_MAX_LEN = 2048


def _text(text: str, secrets: set[str]) -> str:
    if secrets:
        text = scrub(text, secrets)
    if text in _plain_texts:
        return text
    if len(text) > MAX_STRING:
        text = clip_text(text, MAX_STRING)
    shaped = text
    if "@" in shaped:
        shaped = _userinfo(shaped, secrets)
    if "=" in shaped:
        shaped = _name_values(shaped, secrets)
    if "/" in shaped and (not shaped.isascii() or _may_name_a_link(shaped.lower())):
        shaped = _path(shaped, secrets)
    if shaped is text and len(text) <= _PLAIN_MAX_LEN:
        if len(_plain_texts) >= 4096:
            _plain_texts.clear()
        _plain_texts.add(text)
    return shaped


# -- the walk --------------------------------------------------------------------------


# Written as they are. An int past 64 bits is turned into text by the renderer's fallback.
_SCALARS = frozenset({int, float, bool, type(None)})
_ONLY_TEXT = frozenset({str})


def _walk(value: Any, secrets: set[str], depth: int, budget: list[int]) -> Any:
    """``value`` bounded, with secrets redacted by key, by shape and by value.

    A list or mapping in which nothing changes is returned as it is, not copied.
    """
    t = type(value)
    if t is str:
        return _text(value, secrets)
    if t in _SCALARS:
        return value
    if t is not dict and t is not list and t is not tuple:
        value = plain(value)
        t = type(value)
        if t is str:
            return _text(value, secrets)
        if t is not dict and t is not list:
            return value
    if depth <= 0 or budget[0] <= 0:
        return "…[too deep]" if depth <= 0 else TRUNCATED.format(len(value))
    size = len(value)
    budget[0] -= size if size < MAX_ITEMS else MAX_ITEMS
    depth -= 1
    plain_texts, scalars = _plain_texts, _SCALARS
    # Nothing to change, decided in C: every item text (the exact type: no code of the
    # caller's runs), each seen before to hold nothing secret, and no secret to scrub.
    if not secrets and size <= MAX_ITEMS:
        if t is list:
            if set(map(type, value)) <= _ONLY_TEXT and plain_texts.issuperset(value):
                return value
        elif (
            t is dict
            and set(map(type, value)) <= _ONLY_TEXT
            and set(map(type, value.values())) <= _ONLY_TEXT
            and _safe_keys.issuperset(value)
            and plain_texts.issuperset(value.values())
        ):
            return value
    if t is dict:
        verdicts = _verdicts
        out: dict[str, Any] | None = None  # the copy, made at the first change
        i = 0
        for k, v in value.items():
            if i >= MAX_ITEMS:
                if out is None:
                    out = dict(islice(value.items(), i))
                out["…"] = TRUNCATED.format(size - i)
                break
            key = k
            if type(k) is not str:
                key = _text(str(k), secrets)
            elif len(k) > MAX_STRING:  # a key is text like any other (a folded stack)
                key = clip_text(k, MAX_STRING)
            try:
                secret = verdicts[key]
            except KeyError:
                secret = is_secret_key(key)
            if secret is _SKIP:
                secret = is_secret_key(key)
            tv = type(v)
            if secret:
                if tv is str:
                    _remember(secrets, v)
                new: Any = REDACTED
            elif tv is str:
                new = v if not secrets and v in plain_texts else _text(v, secrets)
            elif tv in scalars:
                new = v
            else:
                new = _walk(v, secrets, depth, budget)
            if out is None:
                if new is v and key is k:
                    i += 1
                    continue
                out = dict(islice(value.items(), i))
            out[key] = new
            i += 1
        return value if out is None else out
    copy: list[Any] | None = None  # the copy, made at the first change
    if t is not list or size > MAX_ITEMS:
        copy = []
    i = 0
    for v in value[:MAX_ITEMS] if size > MAX_ITEMS else value:
        tv = type(v)
        if tv is str:
            new = v if not secrets and v in plain_texts else _text(v, secrets)
        elif tv in scalars:
            new = v
        else:
            new = _walk(v, secrets, depth, budget)
        if copy is None:
            if new is v:
                i += 1
                continue
            copy = list(value[:i])
        copy.append(new)
        i += 1
    if size > MAX_ITEMS:
        assert copy is not None
        copy.append(cut_mark(copy, size - MAX_ITEMS))
    return value if copy is None else copy


def _rescrub(value: Any, secrets: set[str]) -> Any:
    """A second look for secrets first remembered further on in the same event."""
    t = type(value)
    if t is str:
        return scrub(value, secrets)
    if t is dict:
        return {k: _rescrub(v, secrets) for k, v in value.items()}
    if t is list:
        return [_rescrub(v, secrets) for v in value]
    return value


# What the pass does with a top-level field, decided once per kind and key.
_WALK, _SECRET, _PASS, _ARGV, _SQL_PARAMS = range(5)
_plans: dict[Any, dict[Any, int]] = {}
_MAX_PLANS = 256
_MAX_PLAN_KEYS = 512


def _action(kind: Any, key: Any) -> int:
    if type(kind) is not str:  # refused by validation; its fields are all walked
        kind = None
    if key in _NOT_WALKED:
        return _PASS
    if type(key) is not str:
        return _WALK
    if is_secret_key(key) and key not in _TEXT_FIELDS.get(kind, ()):
        return _SECRET
    if key == "argv":
        return _ARGV
    if key == "params" and kind == "sql":
        return _SQL_PARAMS
    if key in _CODE_FIELDS and kind in _CODE_KINDS:
        return _PASS
    return _WALK


def _plan(kind: Any) -> dict[Any, int]:
    """The (new) plan of ``kind``; raises TypeError for an unhashable kind."""
    plan = _plans.get(kind)
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        plan = _plans[kind] = {}
    return plan


# What the pass does with each field of an event of a given shape (its kind, its keys in
# order, their values' exact types): the fields to look at, in order, with the action
# for each; a field under a walked key holding a number, a bool or None is left out, a
# text gets _TEXT. Events of one kind from one place share a shape, so this is decided
# once per shape, not once per field.
_TEXT = 5
_Entries = tuple[tuple[Any, int], ...]
# A shape's entries, the keys of its texts, and its entries but the texts.
_Shape = tuple[_Entries, tuple[Any, ...], _Entries]
_shapes: dict[tuple[Any, ...], _Shape] = {}
_MAX_SHAPES = 1024


def _entries(kind: Any, ed: dict[str, Any], plan: dict[Any, int]) -> _Shape:
    out: list[tuple[Any, int]] = []
    for key, value in ed.items():
        try:
            action = plan[key]
        except KeyError:
            if len(plan) >= _MAX_PLAN_KEYS:  # a kind with ever new field names (x.*)
                plan.clear()
            action = plan[key] = _action(kind, key)
        if action == _PASS:
            continue
        if action == _WALK:
            t = type(value)
            if t is str:
                action = _TEXT
            elif t in _SCALARS:
                continue
        out.append((key, action))
    entries = tuple(out)
    texts = tuple(key for key, action in entries if action == _TEXT)
    return entries, texts, tuple(entry for entry in entries if entry[1] != _TEXT)


def _entries_of(shape: tuple[Any, ...], kind: Any, ed: dict[str, Any]) -> _Shape:
    """The entries of ``ed``'s shape, kept for the next event of that shape."""
    entries = _entries(kind, ed, _plans.get(kind) or _plan(kind))
    if len(_shapes) >= _MAX_SHAPES:
        _shapes.clear()
    _shapes[shape] = entries
    return entries


def redact_event(ed: dict[str, Any], secrets: set[str] | None, kind: Any) -> dict[str, Any]:
    """Bound and redact every field of ``ed``, an event of ``kind``, in place (given
    before the envelope is added; ``ed`` may hold ``event`` or not).

    ``secrets`` is the current span's set of remembered values (None outside a
    span: the event then remembers for itself). The values are first bounded
    (strings, items, depth, and a budget of nodes for the whole event, see
    ``_bounds``), so a huge value costs its first few thousand nodes, not its size.
    """
    if secrets is None:
        secrets = set()
    known = len(secrets)
    try:
        shape = (kind, tuple(ed), tuple(map(type, ed.values())))
        entries, texts, rest = _shapes.get(shape) or _entries_of(shape, kind, ed)
    except TypeError:  # an unhashable kind: validation refuses it; every field is walked
        entries, texts, rest = _entries(None, ed, {})
    plain_texts = _plain_texts
    # Texts all seen before to hold nothing, and no secret to scrub: only the rest is
    # looked at. (A secret learnt further on is scrubbed from them below, as from any
    # field before it; the mark it leaves holds no shape of its own.)
    if texts and not secrets and plain_texts.issuperset(map(ed.__getitem__, texts)):
        entries = rest
    budget = [MAX_NODES]
    for key, action in entries:  # values replaced in place: the keys do not change
        value = ed[key]
        if action == _TEXT:
            if secrets or value not in plain_texts:
                ed[key] = _text(value, secrets)
        elif action == _WALK:
            ed[key] = _walk(value, secrets, MAX_DEPTH, budget)
        elif action == _SECRET:
            if type(value) is str:
                _remember(secrets, value)
            ed[key] = REDACTED
        elif action == _SQL_PARAMS:
            ed[key] = _sql_params(ed.get("sql"), value, secrets, budget)
        elif type(value) is list or type(value) is tuple:  # _ARGV
            ed[key] = redact_argv(value, secrets)
        else:
            ed[key] = _walk(value, secrets, MAX_DEPTH, budget)
    if len(secrets) > known:  # learnt in this event: look again at what came before
        for key in list(ed):
            if _action(kind, key) != _PASS:
                ed[key] = _rescrub(ed[key], secrets)
    return ed


# -- SQL parameters and command lines --------------------------------------------------

_PLACEHOLDER = re.compile(r"%s|%\((\w+)\)s|\?|:(\w+)|\$\d+")
_LHS = re.compile(r"""["`\[]?(\w+)["`\]]?\s*(?:=|<>|!=|<|>|<=|>=|\bLIKE|\bIN\s*\(\s*)\s*$""", re.I)
_INSERT = re.compile(r"INSERT\s+INTO\s+\S+\s*\(([^)]*)\)\s*VALUES", re.I)


_NO_SLOTS: tuple[frozenset[int], frozenset[str]] = (frozenset(), frozenset())
# Per SQL text, the secret placeholders found in it: statements repeat, so the scan of
# each text runs once (bounded; cleared when full).
_sql_slots: dict[str, tuple[frozenset[int], frozenset[str]]] = {}
_MAX_SQL_TEXTS = 2048


def _slots_of(sql: str) -> tuple[frozenset[int], frozenset[str]]:
    found = _sql_slots.get(sql)
    if found is None:
        found = _sql_secret_slots(sql[:MAX_STRING])
        if not found[0] and not found[1]:
            found = _NO_SLOTS
        if len(_sql_slots) >= _MAX_SQL_TEXTS:
            _sql_slots.clear()
        if len(sql) <= MAX_STRING:
            _sql_slots[sql] = found
    return found


def _sql_params(sql: Any, params: Any, secrets: set[str], budget: list[int]) -> Any:
    """The ``params`` field of an ``sql`` event: bounded, then redacted by column."""
    if type(params) is list and len(params) <= 16:
        for v in params:
            if type(v) not in _SCALARS:  # a string, a row, a date: walked (and copied)
                params = _walk(params, secrets, MAX_DEPTH, budget)
                break
    else:
        params = _walk(params, secrets, MAX_DEPTH, budget)
    slots = _sql_slots.get(sql) if type(sql) is str else None  # seen before: no call
    if slots is None:
        slots = _slots_of(sql if type(sql) is str else str(sql if sql is not None else ""))
    if slots is _NO_SLOTS:
        return params
    return _redact_sql_params(slots, params, secrets)


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


def _hide(value: Any, secrets: set[str]) -> str:
    if type(value) is str:
        _remember(secrets, value)
    return REDACTED


def _redact_sql_params(
    slots: tuple[frozenset[int], frozenset[str]], params: Any, secrets: set[str]
) -> Any:
    """Bounded SQL parameters with the values bound to secret-looking columns redacted.

    ``params`` is a list (``%s``/``?`` styles), a list of lists (executemany), or
    a mapping (named styles), already walked by :func:`_walk`; ``slots`` are the
    statement's secret positions and names.
    """
    positions, names = slots
    if type(params) is dict:
        return {k: _hide(v, secrets) if k in names else v for k, v in params.items()}
    if type(params) is list:
        if params and type(params[0]) in (list, dict):  # executemany: rows
            return [_redact_sql_params(slots, row, secrets) for row in params]
        return [_hide(v, secrets) if i in positions else v for i, v in enumerate(params)]
    return params


def redact_argv(argv: Iterable[Any], secrets: set[str] | None = None) -> list[str]:
    """Command-line arguments with secret options redacted: ``--password=x``, ``--token x``.

    Each argument is also cleaned like any other text (``postgres://u:PW@h/db``
    loses its password); undecodable bytes become U+FFFD.
    """
    if secrets is None:
        secrets = set()
    out: list[str] = []
    hide_next = False
    for arg in list(argv)[:64]:
        arg = _text(printable(str(plain(arg)))[:500], secrets)
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
        out.append(arg)
    return out
