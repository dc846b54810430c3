"""The request detail's Templates, Cache and Profile tabs, and the request overview's fields.

Each function reads one span (and its same-process descendants) and returns
what the tab shows; :class:`~dm_explore.tui.screens.detail.DetailScreen` puts
it on screen. Text from the files goes through :func:`~dm_explore.tui.text.cell`
and :func:`~dm_explore.tui.text.block`, never markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Tree

from ...model import CacheRec, Span, subtree
from ...model.profile import CallNode, Profile, span_profiles
from ..text import cell, duration, tail_cell

__all__ = [
    "REQUEST_FIELDS",
    "cache_summary",
    "fill_cache_table",
    "fill_call_tree",
    "fill_top_table",
    "profile_summary",
    "request_overview",
    "span_cache",
    "template_entry",
    "template_rows",
    "templates_text",
]

# request.end fields the overview shows in its own words, not as raw JSON.
REQUEST_FIELDS = (
    "view",
    "url_name",
    "view_args",
    "view_kwargs",
    "user",
    "username",
    "session_keys",
    "static",
    "signals",
    "cpu_ms",
    "client_error",
)
MAX_ROWS = 2000  # rows of one table
MAX_TREE = 3000  # nodes of one call tree


def request_overview(span: Span) -> list[tuple[str, Any]]:
    """The request's view, arguments, user, session, static files, signals, CPU time
    and client error, as (label, value) rows; only what the request carries."""
    end = span.end or {}
    start = span.start
    rows: list[tuple[str, Any]] = []
    view = end.get("view") or start.get("view")
    if view:
        rows.append(("view", view))
    if end.get("url_name"):
        rows.append(("url name", end["url_name"]))
    if end.get("view_args"):
        rows.append(("view args", end["view_args"]))
    if end.get("view_kwargs"):
        rows.append(("view kwargs", end["view_kwargs"]))
    user, username = end.get("user"), end.get("username")
    if user is not None or username:
        rows.append(("user", f"{username or '?'} (id {user})" if user is not None else username))
    if end.get("session_keys"):
        keys = end["session_keys"]
        rows.append(("session keys", ", ".join(map(str, keys)) if isinstance(keys, list) else keys))
    if end.get("static"):
        files = end["static"]
        rows.append(("static", ", ".join(map(str, files)) if isinstance(files, list) else files))
    signals = end.get("signals")
    if isinstance(signals, list):
        for signal in signals[:50]:
            if isinstance(signal, dict):
                receivers = signal.get("receivers")
                names = ", ".join(map(str, receivers)) if isinstance(receivers, list) else ""
                rows.append(("signal", f"{signal.get('name')} x{signal.get('count')} -> {names}"))
    cpu = end.get("cpu_ms")
    if isinstance(cpu, int | float) and not isinstance(cpu, bool):
        rows.append(("cpu", f"{duration(cpu)} CPU of {duration(span.ms)} wall"))
    if end.get("client_error"):
        rows.append(
            ("client error", f"{end['client_error']} (answered {span.status}: not an error)")
        )
    return rows


# -- templates ----------------------------------------------------------------------------


def template_rows(span: Span) -> list[tuple[Span, int]]:
    """The template spans under ``span`` in its process, depth-first in start order, each
    with its depth among templates (an included template one deeper than its includer)."""
    rows: list[tuple[Span, int]] = []
    seen = {id(span)}
    stack = [(child, 0) for child in sorted(span.children, key=_started, reverse=True)]
    while stack:
        current, depth = stack.pop()
        if id(current) in seen or current.process != span.process:
            continue
        seen.add(id(current))
        if current.kind == "template":
            rows.append((current, depth))
            depth += 1
        stack.extend((c, depth) for c in sorted(current.children, key=_started, reverse=True))
    return rows


def _started(span: Span) -> tuple[float, int]:
    return (span.start_ts if span.start_ts is not None else float("inf"), span.seq)


def templates_text(span: Span) -> Text:
    """Every template rendered under ``span``, nested as included / extended, with its context."""
    rows = template_rows(span)
    if not rows:
        return Text("(no templates rendered)", style="dim")
    out = Text(f"{len(rows)} templates rendered\n\n", style="bold", end="")
    for current, depth in rows[:MAX_ROWS]:
        out.append_text(template_entry(current, depth))
        out.append("\n")
    return out


def template_entry(current: Span, depth: int) -> Text:
    """One template: name, time and file, then its context, indented ``depth`` levels."""
    indent = "  " * depth
    start = current.start
    out = Text(indent, end="")
    out.append_text(cell(current.name, 120, "bold"))
    out.append(f"  {duration(current.ms)}", style="dim")
    origin = start.get("origin")
    if origin:
        out.append("  ")
        out.append_text(tail_cell(origin, 80))
    context = start.get("context")
    keys = start.get("context_keys")
    if isinstance(context, dict) and context:
        for key, value in list(context.items())[:100]:
            out.append(f"\n{indent}    ")
            out.append_text(cell(key, 40, "cyan"))
            out.append(" = ")
            out.append_text(cell(value, 160))
    elif isinstance(keys, list) and keys:
        out.append(f"\n{indent}    keys: ", style="dim")
        out.append_text(cell(", ".join(map(str, keys)), 300))
    return out


# -- cache --------------------------------------------------------------------------------


def span_cache(span: Span) -> list[CacheRec]:
    """The cache calls of ``span`` and its same-process descendants, in time order."""
    return sorted((rec for s in subtree(span) for rec in s.cache), key=lambda r: r.at)


def cache_summary(calls: list[CacheRec]) -> Text:
    """``N calls, H hits, M misses, T ms`` and the calls per operation."""
    if not calls:
        return Text("(no cache calls)", style="dim")
    hits = sum(c.found for c in calls)
    misses = sum(c.misses for c in calls)
    total = sum(c.ms for c in calls)
    out = Text(f"{len(calls)} calls, ", end="")
    out.append(f"{hits} hits", style="green")
    out.append(", ")
    out.append(f"{misses} misses", style="yellow" if misses else "")
    out.append(f", {total:.2f} ms")
    ops: dict[str, int] = {}
    for c in calls:
        ops[c.op] = ops.get(c.op, 0) + 1
    out.append("   " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())), style="dim")
    return out


def fill_cache_table(table: DataTable[Any], calls: list[CacheRec]) -> None:
    """One row per cache call: op, key(s), hit or miss, backend, time, call site."""
    table.clear(columns=True)
    table.add_columns("#", "op", "key", "result", "backend", "ms", "call site")
    for index, rec in enumerate(calls[:MAX_ROWS], 1):
        key = rec.key if rec.key is not None else ", ".join(map(str, rec.keys or ()))
        if rec.error:
            result = Text("error", style="bold red")
        elif rec.hit is not None:
            result = Text("hit", style="green") if rec.hit else Text("miss", style="yellow")
        elif rec.hits is not None:
            result = Text(f"{rec.hits}/{len(rec.keys or ())} hits")
        else:
            result = Text("")
        site = "" if rec.site is None else f"{rec.site[0]}:{rec.site[1]} in {rec.site[2]}"
        table.add_row(
            str(index),
            cell(rec.op, 16),
            cell(key, 60),
            result,
            cell(rec.backend or "", 20),
            f"{rec.ms:.3f}",
            tail_cell(site, 60),
        )


# -- profile ------------------------------------------------------------------------------


def profile_summary(span: Span, profiles: list[Profile], order: str) -> Text:
    if not profiles:
        return Text("(no profile: DM_PROFILE records one)", style="dim")
    profile = profiles[-1]
    out = Text(
        f"{profile.samples} samples every {profile.interval * 1000:g} ms"
        f" ({duration(profile.ms_of(profile.samples))} sampled",
        end="",
    )
    if profile.ms is not None:
        out.append(f" of {duration(profile.ms)}")
    out.append(f")   top functions by {order} samples (p)", style="dim")
    if len(profiles) > 1:
        out.append(f"   the last of {len(profiles)} profiles", style="dim")
    return out


def latest_profile(span: Span) -> tuple[list[Profile], Profile | None]:
    found = span_profiles(span)
    return found, (found[-1] if found else None)


def fill_top_table(table: DataTable[Any], profile: Profile | None, order: str) -> None:
    """The functions with the most self (``own``) or ``total`` samples, with both columns."""
    table.clear(columns=True)
    table.add_columns("function", "self", "self %", "total", "total %")
    if profile is None:
        return
    whole = max(profile.samples, 1)
    for stats in profile.top("total" if order == "total" else "own", limit=200):
        table.add_row(
            tail_cell(stats.name, 80),
            str(stats.own),
            f"{stats.own * 100 / whole:5.1f}",
            str(stats.total),
            f"{stats.total * 100 / whole:5.1f}",
        )


def fill_call_tree(tree: Tree[Any], profile: Profile | None) -> None:
    """The call tree, heaviest path first; nodes above 10% of the samples start expanded."""
    tree.clear()
    root = tree.root
    if profile is None:
        root.set_label(Text("(no profile)", style="dim"))
        return
    whole = max(profile.samples, 1)
    root.set_label(Text(f"all {profile.samples} samples", style="bold"))
    budget = [MAX_TREE]
    stack: list[tuple[Any, CallNode]] = [(root, profile.root)]
    while stack:
        node, call = stack.pop()
        for child in call.sorted_children():
            if budget[0] <= 0:
                node.add_leaf(Text("…", style="dim"))
                break
            budget[0] -= 1
            share = child.total * 100 / whole
            label = Text(f"{share:5.1f}% ", style="bold" if share >= 10 else "", end="")
            label.append_text(tail_cell(child.name, 80))
            label.append(f"  {child.total} samples, {child.own} self", style="dim")
            if child.children:
                branch = node.add(label, expand=share >= 10)
                stack.append((branch, child))
            else:
                node.add_leaf(label)
    root.expand()
