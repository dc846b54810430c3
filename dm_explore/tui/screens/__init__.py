"""Screens of the explorer: the pushed views (trace, detail, issue, file, help)."""
