"""Opening a file at a line in the user's editor: the command, built from the environment.

Pure functions, no Textual: :func:`editor_command` reads ``DM_EDITOR``, else
``$VISUAL``, else ``$EDITOR``, and puts the file and line where that editor
family wants them:

- ``+N file`` for vi, vim, nvim, nano, emacs, micro, helix (``hx``), kakoune (``kak``);
- ``-g file:N`` for VS Code (``code``) and Cursor (``cursor``);
- ``file:N`` for Sublime Text (``subl``) and Zed (``zed``);
- the file alone for any other editor (its line syntax is unknown).

``DM_EDITOR`` is a command line with ``{file}`` and ``{line}`` placeholders
(``DM_EDITOR='idea --line {line} {file}'``). ``DM_PATH_MAP=/app=/home/me/src``
maps a path recorded in a container to the same file on the host (several
pairs, comma-separated; the longest matching prefix wins). A file in an
installed package opens read-only where the editor has a switch for it.

A widget that shows something with a file and line implements
:class:`HasLocation`: ``location() -> (file, line) | None`` for the item under
its cursor; the app asks the focused widget, then its parents.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "HasLocation",
    "Location",
    "editor_command",
    "frame_location",
    "is_installed",
    "map_path",
    "site_location",
]

Location = tuple[str, int]

PLUS_LINE = frozenset(
    {"vi", "vim", "nvim", "gvim", "mvim", "view", "nano", "emacs", "emacsclient", "micro",
     "hx", "helix", "kak", "kakoune"}
)  # fmt: skip
DASH_G = frozenset({"code", "code-insiders", "codium", "vscodium", "cursor"})
COLON_LINE = frozenset({"subl", "sublime_text", "zed", "zeditor"})
READ_ONLY = {  # the switch that opens a file read-only, by program
    "vi": ["-R"],
    "vim": ["-R"],
    "nvim": ["-R"],
    "gvim": ["-R"],
    "mvim": ["-R"],
    "nano": ["-v"],
    "micro": ["-readonly", "true"],
    "kak": ["-ro"],
}


@runtime_checkable
class HasLocation(Protocol):
    """A widget that can say which file and line its current item is about."""

    def location(self) -> Location | None: ...


def map_path(path: str, env: Mapping[str, str]) -> str:
    """``path`` with the longest matching ``DM_PATH_MAP`` prefix replaced (``/app=/home/src``)."""
    pairs = []
    for pair in env.get("DM_PATH_MAP", "").split(","):
        recorded, sep, local = pair.strip().partition("=")
        if sep and recorded:
            pairs.append((recorded.rstrip("/") or "/", local.rstrip("/") or "/"))
    for recorded, local in sorted(pairs, key=lambda p: -len(p[0])):
        if path == recorded:
            return local
        prefix = recorded if recorded.endswith("/") else recorded + "/"
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            return f"{local}/{rest}" if local != "/" else f"/{rest}"
    return path


def is_installed(path: str) -> bool:
    """The file is part of an installed package (site-packages), not the user's own code."""
    parts = PurePosixPath(path).parts
    return "site-packages" in parts or "dist-packages" in parts


def _program(argv: Sequence[str]) -> str:
    name = PurePosixPath(argv[0]).name.lower() if argv else ""
    return name.removesuffix(".exe")


def editor_command(
    file: str, line: int | None, env: Mapping[str, str] | None = None
) -> list[str] | None:
    """The command that opens ``file`` at ``line`` (paths mapped), or None when no editor is set.

    ``env`` defaults to the process environment.
    """
    env = os.environ if env is None else env
    file = map_path(file, env)
    number = str(line if line and line > 0 else 1)
    template = env.get("DM_EDITOR", "").strip()
    if template:
        try:
            words = shlex.split(template)
        except ValueError:
            return None
        return [w.replace("{file}", file).replace("{line}", number) for w in words]
    for variable in ("VISUAL", "EDITOR"):
        value = env.get(variable, "").strip()
        if not value:
            continue
        try:
            argv = shlex.split(value)
        except ValueError:
            continue
        if not argv:
            continue
        program = _program(argv)
        if is_installed(file):
            argv += READ_ONLY.get(program, [])
        if program in PLUS_LINE:
            return [*argv, f"+{number}", file]
        if program in DASH_G:
            return [*argv, "-g", f"{file}:{number}"]
        if program in COLON_LINE:
            return [*argv, f"{file}:{number}"]
        return [*argv, file]
    return None


def frame_location(frames: Any) -> Location | None:
    """Where an exception's frames (outermost first) point: the innermost in-app one, else the last.

    Frames come from files: anything not a list of mappings with a string file and
    an integer line is skipped.
    """
    if not isinstance(frames, list):
        return None
    usable = [
        (f["file"], f["line"], bool(f.get("in_app")))
        for f in frames
        if isinstance(f, dict)
        and isinstance(f.get("file"), str)
        and f["file"]
        and isinstance(f.get("line"), int)
        and not isinstance(f.get("line"), bool)
    ]
    if not usable:
        return None
    in_app = [u for u in usable if u[2]]
    file, line, _ = (in_app or usable)[-1]
    return file, line


_SITE = re.compile(r"(.+?):(\d+)(?: in .*)?")


def site_location(text: Any) -> Location | None:
    """``file:line`` or ``file:line in func`` (how sites are written as text) as a location."""
    if not isinstance(text, str):
        return None
    found = _SITE.fullmatch(text.strip())
    if found is None or not found.group(1):
        return None
    return found.group(1), int(found.group(2))
