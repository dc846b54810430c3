"""dm_explore: read a folder of debug-monitor JSON-lines files into one live model.

Data flows one way: files -> :mod:`dm_explore.reader` (tail, parse) ->
:mod:`dm_explore.model` (pure Python) -> views (the CLI, the exporters, the TUI).
"""

__version__ = "0.1.0"
