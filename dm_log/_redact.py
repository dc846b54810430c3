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

This module walks whole events; the rules for one key or one text are in
``_redact_text``, and the finding of secret columns in a statement in ``_redact_sql``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from ._bounds import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_NODES,
    MAX_STRING,
    TRUNCATED,
    clip_text,
    cut_mark,
    plain,
)
from ._redact_sql import NO_SLOTS, redact_sql_params, slots_of, sql_slots
from ._redact_text import (
    REDACTED,
    is_secret_key,
    redact_argv,
    redact_text,
    remember,
    scrub,
    set_key_pattern,
)
from ._redact_text import plain_texts as _plain_texts
from ._redact_text import safe_keys as _safe_keys
from ._redact_text import verdicts as _verdicts

__all__ = ["REDACTED", "is_secret_key", "redact_argv", "redact_event", "scrub", "set_extra_keys"]

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
    set_key_pattern(extra)
    sql_slots.clear()
    _plans.clear()
    _shapes.clear()


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
        return redact_text(value, secrets)
    if t in _SCALARS:
        return value
    if t is not dict and t is not list and t is not tuple:
        value = plain(value)
        t = type(value)
        if t is str:
            return redact_text(value, secrets)
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
                key = redact_text(str(k), secrets)
            elif len(k) > MAX_STRING:  # a key is text like any other (a folded stack)
                key = clip_text(k, MAX_STRING)
            try:
                secret = verdicts[key]
            except KeyError:
                secret = is_secret_key(key)
            tv = type(v)
            if secret:
                if tv is str:
                    remember(secrets, v)
                new: Any = REDACTED
            elif tv is str:
                new = v if not secrets and v in plain_texts else redact_text(v, secrets)
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
            new = v if not secrets and v in plain_texts else redact_text(v, secrets)
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


def _sql_params(sql: Any, params: Any, secrets: set[str], budget: list[int]) -> Any:
    """The ``params`` field of an ``sql`` event: bounded, then redacted by column."""
    if type(params) is list and len(params) <= 16:
        for v in params:
            if type(v) not in _SCALARS:  # a string, a row, a date: walked (and copied)
                params = _walk(params, secrets, MAX_DEPTH, budget)
                break
    else:
        params = _walk(params, secrets, MAX_DEPTH, budget)
    slots = sql_slots.get(sql) if type(sql) is str else None  # seen before: no call
    if slots is None:
        slots = slots_of(sql if type(sql) is str else str(sql if sql is not None else ""))
    if slots is NO_SLOTS:
        return params
    return redact_sql_params(slots, params, secrets)


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
                ed[key] = redact_text(value, secrets)
        elif action == _WALK:
            ed[key] = _walk(value, secrets, MAX_DEPTH, budget)
        elif action == _SECRET:
            if type(value) is str:
                remember(secrets, value)
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
