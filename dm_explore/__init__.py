"""dm_explore: read a folder of debug-monitor JSON-lines files into one live model.

Imports point one way: files -> :mod:`dm_explore.ingest` (find, tail, decode,
apply, follow) -> :mod:`dm_explore.model` (pure state and queries) ->
:mod:`dm_explore.outputs` (reports, OTLP, text safety), :mod:`dm_explore.cli`
(``dm-explore``) and :mod:`dm_explore.tui` (the Textual app).
"""

__version__ = "0.1.0"
