"""The explorer's model: pure Python, incremental, what every view reads.

>>> model = Model()
>>> file_id = model.add_file("web.jsonl")
>>> model.apply(file_id, event)        # parsed by dm_explore.reader.parse_line
>>> filter_requests(model, RequestFilter(status="5xx"), order="slowest")
"""

from .commands import STATUSES, command_status
from .issues import Issue
from .metrics import Bucket, Series, percentile
from .model import FileInfo, Model, ProcessInfo, Trace
from .queries import (
    RequestFilter,
    TreeRow,
    filter_requests,
    span_sql,
    subtree,
    trace_rows,
    trace_sql,
)
from .records import LogRec, ProcessKey, Span, SqlRec
from .sqlstats import SqlGroup, SqlReport, analyze_sql
from .timeparse import format_ts, parse_ts

__all__ = [
    "STATUSES",
    "Bucket",
    "FileInfo",
    "Issue",
    "LogRec",
    "Model",
    "ProcessInfo",
    "ProcessKey",
    "RequestFilter",
    "Series",
    "Span",
    "SqlGroup",
    "SqlRec",
    "SqlReport",
    "Trace",
    "TreeRow",
    "analyze_sql",
    "command_status",
    "filter_requests",
    "format_ts",
    "parse_ts",
    "percentile",
    "span_sql",
    "subtree",
    "trace_rows",
    "trace_sql",
]
