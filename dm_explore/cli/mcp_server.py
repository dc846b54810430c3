"""The tools ``dm-explore mcp`` offers, on the official MCP Python SDK (the ``mcp`` extra).

Imported only when the server starts: the rest of the command line works
without the SDK. Each tool is read-only, answers JSON text from the live model
(:class:`~dm_explore.cli.mcp_live.McpFolder`), and says in its description that
what it returns from the files is data, never instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from .. import __version__
from ..outputs import mcp_tools
from .mcp_live import DATA_NOTE, INSTRUCTIONS, McpFolder

__all__ = ["TOOLS", "build_server"]

TOOLS = (
    "list_requests",
    "get_request",
    "get_trace",
    "list_issues",
    "get_issue",
    "list_commands",
    "tail",
)

F = TypeVar("F", bound=Callable[..., Any])
Limit = Annotated[int, Field(ge=0, le=1000, description="the most items to return")]


def build_server(live: McpFolder) -> MCPServer:
    """An MCP server whose tools answer from ``live``'s model."""
    server: MCPServer = MCPServer("dm-explore", instructions=INSTRUCTIONS, version=__version__)
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def tool(description: str) -> Callable[[F], F]:
        return server.tool(
            description=description + DATA_NOTE, annotations=read_only, structured_output=False
        )

    @tool(
        "Requests recorded in the folder, newest first, with the explorer's filters: text"
        " (in method, path, service, view or route), service, status ('5xx', '404'), slow_ms"
        " (at least that many ms), errors (only requests with an error), in_flight. Each row"
        " has the span id (for get_request) and the trace id (for get_trace), status, ms,"
        " outcome, query count and error count. When older matches may exist, 'next_start'"
        " is the start that lists them (a search stops after 40 ms and says so)."
    )
    def list_requests(
        text: str = "",
        service: str = "",
        status: Annotated[str, Field(description="a class such as '5xx' or a code")] = "",
        slow_ms: float | None = None,
        errors: bool = False,
        in_flight: bool = False,
        limit: Limit = 50,
        start: Annotated[
            int, Field(ge=0, description="requests to pass over, newest first: a 'next_start'")
        ] = 0,
    ) -> str:
        return live.answer(
            lambda model: mcp_tools.list_requests(
                model,
                live.newest_first,
                text=text,
                service=service,
                status=status,
                slow_ms=slow_ms,
                errors=errors,
                in_flight=in_flight,
                limit=limit,
                start=start,
            )
        )

    @tool(
        "One request (or task, command, test, span) by span id (a trace id gives its root):"
        " overview with the start and end fields (headers, query, route, view, status), every"
        " SQL statement in time order with its call site and flags (duplicate: same SQL and"
        " parameters more than once; similar: same SQL, other parameters; n+1: similar, run"
        " at least N times), the groups of those, logs with their sites, exceptions with"
        " their frames and source lines, panels, and the calls it made to other services."
        " A panel entry of type 'refused' is one the writer refused to write (a plugin's"
        " mistake): it has the errors, the calling line ('call') and what was sent."
    )
    def get_request(
        span_id: Annotated[
            str, Field(description="a request's ref (or span id) from list_requests")
        ],
    ) -> str:
        return live.answer(lambda model: mcp_tools.get_request(model, span_id))

    @tool(
        "One trace as a tree across services: every span depth-first with its depth,"
        " parent, service, name, status, offset from the trace's start and duration in ms,"
        " its own query count and errors."
    )
    def get_trace(
        trace_id: Annotated[str, Field(description="a trace id, or a unique prefix of one")],
    ) -> str:
        return live.answer(lambda model: mcp_tools.get_trace(model, trace_id))

    @tool(
        "Issues: errors grouped by fingerprint (the same bug across processes), the most"
        " recently seen first (type, message, count, handled count, first and last seen,"
        " services, the last span it happened in), and findings, performance problems"
        " grouped the same way, most widespread first (kind: n_plus_one, duplicate_query,"
        " n_plus_one_api, consecutive_http or slow_query; service, where (endpoint, task,"
        " command, test), call site, the statement or call, units affected, occurrences,"
        " per-unit range, ms, and an example span ref for get_request). kind chooses"
        " errors, findings or both; findings are searched again at most every few seconds,"
        " 'findings_searched' says when."
    )
    def list_issues(
        kind: Annotated[
            Literal["errors", "findings", "both"],
            Field(description="errors, findings, or both"),
        ] = "both",
        limit: Limit = 50,
    ) -> str:
        return live.answer(
            lambda model: mcp_tools.list_issues(
                model,
                live.findings.findings,
                kind=kind,
                limit=limit,
                searched_at=live.findings.searched_at,
            )
        )

    @tool(
        "One issue by fingerprint (or a unique prefix): an error's latest exception with"
        " every frame (file, line, function, source line, in-app or not) and the spans it"
        " happened in, newest first; or a finding's worst example span with its flagged"
        " SQL and the traces it showed up in, newest first."
    )
    def get_issue(
        fingerprint: Annotated[str, Field(description="a fingerprint from list_issues")],
    ) -> str:
        return live.answer(
            lambda model: mcp_tools.get_issue(model, fingerprint, live.findings.findings)
        )

    @tool(
        "Management command runs, newest first: status (STARTED, RUNNING, FINISHED,"
        " FAILED, SYSTEM_KILL), host, pid, params, progress, duration, the exception of a"
        " failed run; and the count of runs by status."
    )
    def list_commands(limit: Limit = 50) -> str:
        return live.answer(lambda model: mcp_tools.list_commands(model, limit=limit))

    @tool(
        "The newest events as recorded (every kind, as JSON lines, in the order they were"
        " read). Without a cursor: the last `limit` events. With the cursor of the previous"
        " answer: the events after it, oldest first; 'more' says whether others wait, and"
        " 'skipped' counts events no longer kept (the newest 20,000 are)."
    )
    def tail(
        cursor: Annotated[
            int | None, Field(description="the 'cursor' of the previous tail answer")
        ] = None,
        limit: Limit = 100,
    ) -> str:
        return live.answer(lambda model: live.recent.since(cursor, limit))

    return server
