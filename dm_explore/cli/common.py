"""What every subcommand shares: the folder argument, how a command fails, files written whole."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

from ..outputs.textsafe import safe_line

__all__ = ["at_least", "fail", "folder_or_exit", "write_whole"]

T = TypeVar("T")


class FolderError(Exception):
    """The folder given on the command line cannot be read."""


def folder_or_exit(path: str) -> Path:
    """The folder as a Path, or a one-line error and exit status 2."""
    folder = Path(path)
    try:
        if not folder.is_dir():
            raise FolderError(f"not a folder: {path}")
        next(iter(folder.iterdir()), None)
    except PermissionError:
        fail(f"cannot read folder: {path}")
    except FolderError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read folder: {path}: {exc.strerror or exc}")
    return folder


def fail(message: str) -> NoReturn:
    """``dm-explore: message`` on standard error, and exit status 2."""
    print(f"dm-explore: {safe_line(message)}", file=sys.stderr)
    raise SystemExit(2)


def write_whole(target: Path, write: Callable[[IO[bytes]], T]) -> T:
    """``write(out)`` into a file beside ``target``, then renamed into place.

    A reader watching the folder (a Collector, a viewer) never sees half a file.
    A ``target`` that cannot be written is a one-line error and exit status 2.
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    try:
        with os.fdopen(fd, "wb") as out:
            result = write(out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def at_least(minimum: int | float) -> Callable[[str], Any]:
    """An argparse ``type`` taking a number no smaller than ``minimum``.

    A whole number when ``minimum`` is an ``int``, else any finite number.
    """
    convert = int if isinstance(minimum, int) else float

    def number(text: str) -> Any:
        value = convert(text)
        if not value >= minimum or value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"must be {minimum:g} or more: {text}")
        return value

    return number
