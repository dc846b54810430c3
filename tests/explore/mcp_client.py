"""``dm-explore mcp`` in a real subprocess, spoken to with the MCP SDK's own stdio client."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import orjson

ROOT = Path(__file__).resolve().parents[2]


class Agent:
    """A connected client session: :meth:`call` returns a tool's answer as parsed JSON."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.texts: list[str] = []  # every answer as received

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.session.call_tool(tool, arguments)
        assert not result.is_error, result
        text = result.content[0].text
        self.texts.append(text)
        data: dict[str, Any] = orjson.loads(text)
        return data

    async def until(
        self, tool: str, check: Callable[[dict[str, Any]], Any], timeout: float = 20.0, **kw: Any
    ) -> dict[str, Any]:
        """Call ``tool`` until ``check(answer)`` is truthy (the folder is read in a thread)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = await self.call(tool, **kw)
            if check(answer):
                return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"{tool} never satisfied the check; last answer: {answer}")
            await anyio.sleep(0.1)


@asynccontextmanager
async def mcp_server(folder: Path, *args: str) -> AsyncIterator[Agent]:
    """``dm-explore mcp FOLDER *args`` started as an agent starts it, and initialised."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dm_explore.cli", "mcp", str(folder), *args],
        cwd=str(ROOT),
        env={"PYTHONPATH": str(ROOT)},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield Agent(session)
