"""What the model is turned into: reports, the summary, OTLP, one-line descriptions.

Built from a :class:`~dm_explore.model.Model`, shown by the command line and the
TUI; text from files goes through :mod:`.textsafe` before it reaches a terminal.
"""
