"""Finding, tailing and parsing the files of a folder."""

from .folder import FileState, FolderReader, Problem
from .parse import parse_line

__all__ = ["FileState", "FolderReader", "Problem", "parse_line"]
