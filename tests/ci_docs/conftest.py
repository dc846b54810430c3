"""The sample project under ``sample_project/`` is run in a subprocess, never collected here."""

collect_ignore = ["sample_project"]
