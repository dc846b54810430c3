"""Load a folder into a model once, as the batch commands (summary, tree, report) do."""

from __future__ import annotations

from pathlib import Path

from .model import Model
from .reader import FolderReader

__all__ = ["load_folder"]


def load_folder(folder: Path, *, n_plus_one: int = 5, max_traces: int = 1_000_000) -> FolderReader:
    """Read every file under ``folder`` into a fresh model; the reader keeps its problems."""
    reader = FolderReader(folder, Model(n_plus_one=n_plus_one, max_traces=max_traces))
    reader.read()
    return reader
