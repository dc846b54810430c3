"""The explorer's model: pure state and the questions views ask of it.

It imports nothing of :mod:`dm_explore.ingest`, the command line or the UI.
:mod:`dm_explore.ingest` fills it; every view reads it:

>>> reader = load_folder(Path("logs"))          # dm_explore.ingest
>>> filter_requests(reader.model, RequestFilter(status="5xx"), order="slowest")
"""

from .command_runs import STATUSES, command_status
from .issues import Issue
from .metrics import Bucket, Series, percentile
from .model import FileInfo, Model, ProcessInfo, Trace
from .problems import InvalidEvent, Problem
from .queries import (
    RequestFilter,
    TreeRow,
    filter_requests,
    find_trace,
    span_sql,
    subtree,
    trace_id_of,
    trace_rows,
    trace_sql,
)
from .records import CacheRec, LogRec, ProcessKey, Span, SpanKey, SqlRec
from .sqlstats import SqlGroup, SqlReport, analyze_sql

__all__ = [
    "STATUSES",
    "Bucket",
    "CacheRec",
    "FileInfo",
    "InvalidEvent",
    "Issue",
    "LogRec",
    "Model",
    "Problem",
    "ProcessInfo",
    "ProcessKey",
    "RequestFilter",
    "Series",
    "Span",
    "SpanKey",
    "SqlGroup",
    "SqlRec",
    "SqlReport",
    "Trace",
    "TreeRow",
    "analyze_sql",
    "command_status",
    "filter_requests",
    "find_trace",
    "percentile",
    "span_sql",
    "subtree",
    "trace_id_of",
    "trace_rows",
    "trace_sql",
]
