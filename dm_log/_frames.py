"""Stack frames: call sites for hot-path events and full frames for exceptions."""

from __future__ import annotations

import hashlib
import linecache
import os
import sys
import sysconfig
from collections.abc import Callable, Iterable
from types import CodeType, FrameType, TracebackType
from typing import Any

__all__ = ["api_caller", "call_site", "exception_fields", "fingerprint", "is_library_file"]

_DM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.abspath(path) + os.sep)
    for path in sys.path:
        if path.endswith(("site-packages", "dist-packages")):
            roots.add(os.path.abspath(path) + os.sep)
    return tuple(sorted(roots, key=len, reverse=True))


_LIB_ROOTS = _library_roots()
_lib_cache: dict[str, bool] = {}


def is_library_file(filename: str) -> bool:
    """True for the standard library, installed packages and dm_log itself."""
    found = _lib_cache.get(filename)
    if found is None:
        found = (
            filename.startswith("<")
            or filename.startswith(_DM_DIR)
            or filename.startswith(_LIB_ROOTS)
            or os.sep + "site-packages" + os.sep in filename
            or "frozen " in filename
        )
        if len(_lib_cache) < 10000:
            _lib_cache[filename] = found
    return found


def _stdlib_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.abspath(path) + os.sep)
    return tuple(roots)


_STD_ROOTS = _stdlib_roots()
_std_cache: dict[str, bool] = {}


def _is_std_or_own(filename: str) -> bool:
    """The standard library (not the packages installed beside it), frozen or generated
    code, and dm_log itself."""
    found = _std_cache.get(filename)
    if found is None:
        found = (
            filename.startswith("<")
            or filename.startswith(_DM_DIR)
            or (
                filename.startswith(_STD_ROOTS)
                and os.sep + "site-packages" + os.sep not in filename
                and os.sep + "dist-packages" + os.sep not in filename
            )
            or "frozen " in filename
        )
        if len(_std_cache) < 10000:
            _std_cache[filename] = found
    return found


Probe = tuple[CodeType, str, Callable[[FrameType], Any]]

# Per ``extra_skip``, the files whose frames :func:`call_site` passes over (a library's,
# dm_log's, or under one of those prefixes), as found by its walks.
_passed: dict[tuple[str, ...], set[str]] = {}
_MAX_PASSED = 10_000


def _passed_for(extra_skip: tuple[str, ...]) -> set[str]:
    if len(_passed) >= 16:
        _passed.clear()
    found: set[str] = set()
    _passed[extra_skip] = found
    return found


def call_site(
    skip: int = 1,
    extra_skip: tuple[str, ...] = (),
    *,
    fallback_skip: tuple[str, ...] | None = None,
    stack: bool = False,
    probe: Probe | None = None,
    until_probe: bool = False,
    start: FrameType | None = None,
) -> dict[str, Any] | None:
    """The first frame of the caller's own code: ``{"file", "line", "func"}``, or None.

    Walks frame objects (no traceback extraction, no source reads), skipping the
    standard library, installed packages, dm_log and any path prefix in ``extra_skip``.

    * ``fallback_skip``: with no frame of the application's own code, the first
      frame outside the standard library, dm_log and these path prefixes (say a
      library's function calling the ORM), marked ``"in_app": false``.
    * ``stack``: adds ``stack``, every frame of the application's own code,
      outermost first.
    * ``probe``: ``(code, key, describe)``: the walk goes on past the first
      application frame until the innermost frame running ``code``, and
      ``describe(frame)`` (when not None) is set under ``key`` (a template node
      being rendered, say).
    * ``until_probe``: the walk stops at the probe's frame; when no application
      frame came before it, the result is ``{key: description}`` alone, for a
      caller that knows the site further out already (it is the same for every
      call made while that frame runs).
    * ``start``: walk from this frame instead of ``skip`` frames up.
    """
    frame: FrameType | None = start if start is not None else sys._getframe(skip)
    site: dict[str, Any] | None = None
    frames: list[dict[str, Any]] | None = [] if stack else None
    probe_code = probe[0] if probe is not None else None
    probed: Any = None
    known = _lib_cache  # looked up here: a call per frame costs more than the walk itself
    passed = _passed.get(extra_skip)
    if passed is None:
        passed = _passed_for(extra_skip)
    while frame is not None:
        code = frame.f_code
        if code.co_filename in passed and code is not probe_code:  # most frames: a library's
            frame = frame.f_back
            continue
        if code is probe_code and probed is None:
            assert probe is not None
            probed = probe[2](frame)
            if probed is None:
                probed = False
            elif site is not None and frames is None:
                break
            elif until_probe and site is None:
                return {probe[1]: probed}
        filename = code.co_filename
        try:
            library = known[filename]
        except KeyError:
            library = is_library_file(filename)
        if library or (extra_skip and filename.startswith(extra_skip)):
            if len(passed) < _MAX_PASSED:
                passed.add(filename)
        else:
            if site is None:
                site = {"file": filename, "line": frame.f_lineno, "func": code.co_name}
                if frames is None and (probe_code is None or probed is not None):
                    break
            if frames is not None:
                frames.append({"file": filename, "line": frame.f_lineno, "func": code.co_name})
        frame = frame.f_back
    if site is None and fallback_skip is not None:
        site = _first_outside(start if start is not None else sys._getframe(skip), fallback_skip)
    if site is None:
        return None
    if probed:
        site[probe[1]] = probed  # type: ignore[index]
    if frames:
        frames.reverse()
        site["stack"] = frames
    return site


def _first_outside(frame: FrameType | None, skip: tuple[str, ...]) -> dict[str, Any] | None:
    """The first frame outside the standard library, dm_log and ``skip``, ``in_app`` false."""
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if not _is_std_or_own(filename) and not filename.startswith(skip):
            return {"file": filename, "line": frame.f_lineno, "func": code.co_name, "in_app": False}
        frame = frame.f_back
    return None


def api_caller(skip: int = 1) -> dict[str, Any] | None:
    """The line that called into dm_log: ``{"file", "line", "func"}``, or None.

    The first frame outside dm_log and the standard library, ``skip`` frames up
    or further: the caller's own ``dm_log.panel(...)`` line, even when that caller
    is an installed package (a plugin), which is then marked ``"in_app": false``.
    """
    frame: FrameType | None = sys._getframe(skip + 1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_std_or_own(filename):
            site: dict[str, Any] = {
                "file": filename,
                "line": frame.f_lineno,
                "func": frame.f_code.co_name,
            }
            if is_library_file(filename):
                site["in_app"] = False
            return site
        frame = frame.f_back
    return None


def _module_of(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "")) or os.path.basename(frame.f_code.co_filename)


def _walk(tb: TracebackType | None) -> Iterable[tuple[FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _frames(exc: BaseException, limit: int = 64) -> list[dict[str, Any]]:
    frames = []
    for frame, lineno in _walk(exc.__traceback__):
        filename = frame.f_code.co_filename
        src = linecache.getline(filename, lineno).strip() or None
        frames.append(
            {
                "file": filename,
                "line": lineno,
                "func": frame.f_code.co_name,
                "module": _module_of(frame),
                "in_app": not is_library_file(filename),
                "src": src[:500] if src else None,
            }
        )
    if len(frames) > limit:
        frames = frames[: limit // 2] + frames[-limit // 2 :]
    return frames


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return (
        cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"
    )


def fingerprint(type_name: str, frames: list[dict[str, Any]]) -> str:
    """16 hex digits from the type and the in-app frames' module and function.

    Line numbers are left out so that an edit above the bug, or the same bug in
    another process, keeps the same fingerprint. With no in-app frame, every
    frame counts.
    """
    chosen = [f for f in frames if f.get("in_app")] or frames
    key = type_name + "|" + "|".join(f"{f.get('module', '')}.{f.get('func', '')}" for f in chosen)
    return hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:16]


def exception_fields(exc: BaseException) -> dict[str, Any]:
    """The kind-specific fields of an ``exception`` event for ``exc``."""
    type_name = _type_name(exc)
    frames = _frames(exc)
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not break reporting
        message = f"<unprintable {type_name}>"
    cause_exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    cause = None
    if cause_exc is not None:
        try:
            cause = f"{_type_name(cause_exc)}: {cause_exc}"
        except Exception:
            cause = _type_name(cause_exc)
    return {
        "type": type_name,
        "message": message,
        "frames": frames,
        "fingerprint": fingerprint(type_name, frames),
        "cause": cause,
    }
