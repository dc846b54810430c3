"""The ``dm-explore`` command line: :func:`main`, one module per subcommand."""

from .common import folder_or_exit
from .main import main

__all__ = ["folder_or_exit", "main"]
