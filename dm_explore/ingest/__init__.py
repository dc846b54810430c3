"""From files to a model: finding, tailing, decoding, applying, following.

:class:`FolderReader` finds a folder's files and reads what is new in them
(:mod:`.tail`), decodes the lines into typed events (:mod:`.decode`, with
:mod:`.parse` explaining refusals) and applies them to a
:class:`~dm_explore.model.Model` (:mod:`.apply`). :func:`load_folder` reads a
folder once; :func:`~dm_explore.ingest.follow.follow` keeps reading as it grows.
"""

from .folder import FileState, FolderReader
from .load import ALL_TRACES, load_folder
from .parse import parse_line

__all__ = ["ALL_TRACES", "FileState", "FolderReader", "load_folder", "parse_line"]
