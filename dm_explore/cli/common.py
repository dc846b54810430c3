"""What every subcommand shares: the folder argument, and how a command fails."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

from ..outputs.textsafe import safe_line

__all__ = ["fail", "folder_or_exit"]


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
