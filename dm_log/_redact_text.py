"""What a key or a text gives away: the key rules, the shapes of secrets in text, remembered values.

* :func:`is_secret_key`: whether a value stored under a key must not be written
  (``Authorization``, ``Cookie``, ``password``, ``api_key``, ...; more fragments
  through :func:`set_key_pattern`).
* :func:`redact_text`: a text with its secrets redacted by shape (``scheme://user:PW@``,
  ``password=value``, the tail of a password-reset link) and by value (what the span
  remembered); what it redacts is remembered in turn.
* :func:`redact_argv`: a command line with secret options redacted.

The rules are described in ``_redact``, which applies them to whole events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

from ._bounds import MAX_STRING, clip_text, plain, printable

__all__ = [
    "REDACTED", "is_secret_key", "redact_argv", "redact_text", "remember", "scrub",
    "set_key_pattern",
]  # fmt: skip

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


def set_key_pattern(extra: Iterable[str]) -> None:
    """Add key fragments (plain text, case-insensitive) to what counts as secret, and
    forget every verdict and plain text found under the pattern before."""
    global _key_re
    parts = [_BASE_PATTERN, *(re.escape(k) for k in extra if k)]
    _key_re = re.compile("|".join(parts), re.IGNORECASE)
    verdicts.clear()
    safe_keys.clear()
    plain_texts.clear()


# Verdicts per key, a plain dict (a lookup is cheaper than a cached call).
verdicts: dict[str, bool] = {}
# The keys found not secret (and short enough to be kept as they are): a mapping whose
# keys all are in it, and whose values all are plain texts, is left as it is at once.
safe_keys: set[str] = set()


def is_secret_key(key: str) -> bool:
    """True if a value stored under ``key`` must not be written."""
    found = verdicts.get(key)
    if found is None:
        found = _key_re.search(key) is not None
        if len(verdicts) >= 8192:
            verdicts.clear()
            safe_keys.clear()
        verdicts[key] = found
        if not found and type(key) is str and len(key) <= MAX_STRING:
            safe_keys.add(key)
    return found


# HTTP authentication schemes: a header holding one alone (``Authorization: Basic ``) holds
# no credential, and the word turns up in the span's later text (``WWW-Authenticate``).
_AUTH_SCHEMES = frozenset(
    {"basic", "bearer", "digest", "token", "negotiate", "ntlm", "hoba", "mutual", "jwt", "apikey"}
)


def remember(secrets: set[str], value: str, minimum: int = _MIN_SECRET) -> None:
    """Add ``value`` (and the parts of it that turn up on their own) to ``secrets``.

    A value shorter than ``minimum``, or only an authentication scheme's name, is not
    remembered: scrubbing it from later text would hide words, not secrets.
    """
    value = value.strip()
    if len(value) < minimum or value == REDACTED or len(secrets) >= _MAX_REMEMBERED:
        return
    if value.lower() in _AUTH_SCHEMES:
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
            remember(secrets, password)
            return f"://{user}:{REDACTED}@"
        remember(secrets, user)
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
        remember(secrets, value)
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
                remember(secrets, segment, _MIN_PATH_SECRET)
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
plain_texts: set[str] = set()
_PLAIN_MAX_LEN = 2048


def redact_text(text: str, secrets: set[str]) -> str:
    """``text`` bounded, with the remembered ``secrets`` and every secret by shape redacted
    (what is found by shape is remembered in ``secrets``)."""
    if secrets:
        text = scrub(text, secrets)
    if text in plain_texts:
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
        if len(plain_texts) >= 4096:
            plain_texts.clear()
        plain_texts.add(text)
    return shaped


# -- command lines ---------------------------------------------------------------------


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
        arg = redact_text(printable(str(plain(arg)))[:500], secrets)
        if hide_next:
            remember(secrets, arg)
            out.append(REDACTED)
            hide_next = False
            continue
        key, eq, value = arg.partition("=")
        if key.startswith("-") and is_secret_key(key.lstrip("-")):
            if eq:
                remember(secrets, value)
                out.append(f"{key}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(arg)
    return out
