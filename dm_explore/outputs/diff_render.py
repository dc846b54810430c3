"""Text and markdown renderings of :func:`dm_explore.outputs.diff.compare`'s dict.

The markdown is meant for a pull request (a CI job summary or a comment): the
verdict, the thresholds crossed, a table of what got worse, then what got
better, then findings and errors new in HEAD and gone from it. Every value that
came from a file goes through :func:`~dm_explore.outputs.textsafe.safe_line`.
"""

from __future__ import annotations

from typing import Any

from .render import KIND_TITLES
from .textsafe import safe_line

__all__ = ["render_diff_markdown", "render_diff_text"]

_ROWS = 50
_FIGURES = (
    ("requests", "runs"),
    ("queries_per_request", "queries/run"),
    ("n_plus_one", "N+1"),
    ("duplicates", "dup."),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
)


def _cell(value: Any, limit: int | None = 200) -> str:
    return ("" if value is None else safe_line(value, limit)).replace("|", "\\|")


def _code(value: Any, limit: int = 100) -> str:
    return "`" + _cell(value, limit).replace("`", "'") + "`"


def _pair(entry: dict[str, Any], name: str) -> str:
    base, head = entry["base"], entry["head"]
    if base is None:
        return f"{head[name]:g}"
    if head is None:
        return f"{base[name]:g}"
    if base[name] == head[name]:
        return f"{head[name]:g}"
    return f"{base[name]:g} → {head[name]:g}"


def _counts(diff: dict[str, Any]) -> str:
    def tally(entries: list[dict[str, Any]]) -> str:
        worse = sum(e["change"] == "worse" for e in entries)
        better = sum(e["change"] == "better" for e in entries)
        return f"{len(entries)} ({worse} worse, {better} better)"

    return (
        f"endpoints {tally(diff['endpoints'])}, tests {tally(diff['tests'])}, "
        f"{len(diff['new_findings'])} new findings, {len(diff['fixed_findings'])} fixed, "
        f"{len(diff['new_errors'])} new errors, {len(diff['fixed_errors'])} gone"
    )


def _changed(diff: dict[str, Any], change: str) -> list[dict[str, Any]]:
    return [e for e in (*diff["endpoints"], *diff["tests"]) if e["change"] == change]


def render_diff_markdown(diff: dict[str, Any]) -> str:
    """The comparison as GitHub-flavoured markdown."""
    icon = ":x:" if diff["failed"] else ":white_check_mark:"
    verdict = "FAILED" if diff["failed"] else "OK"
    out = ["## debug-monitor diff", "", f"{icon} **{verdict}**: {_cell(_counts(diff), None)}", ""]
    out.append(f"base `{_cell(diff['base'], 200)}`, head `{_cell(diff['head'], 200)}`")
    out.append("")
    if diff["crossed"]:
        out += ["### Thresholds crossed", ""] + [f"- {_cell(c, 300)}" for c in diff["crossed"]]
        out.append("")
    columns = ["", "endpoint or test"] + [title for _name, title in _FIGURES]
    for change, title in (("worse", "Worse"), ("better", "Better"), ("new", "New in HEAD"),
                          ("gone", "Gone from HEAD")):  # fmt: skip
        entries = _changed(diff, change)
        if not entries:
            continue
        out += [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for entry in entries[:_ROWS]:
            mark = ":x:" if entry["crossed"] else ""
            figures = [_pair(entry, name) for name, _title in _FIGURES]
            out.append("| " + " | ".join([mark, _code(entry["key"], 200), *figures]) + " |")
        if len(entries) > _ROWS:
            out.append(f"\n{len(entries) - _ROWS} more")
        out.append("")
    for key, title in (("new_findings", "New findings"), ("fixed_findings", "Fixed findings")):
        if diff[key]:
            out += [f"### {title}", "", "| kind | where | runs | what |", "|---|---|---|---|"]
            out += [
                f"| {KIND_TITLES.get(f['kind'], f['kind'])} | {_cell(f['where'])} "
                f"[{_cell(f['svc'])}] | {f['units']} | {_code(f['subject'])} |"
                for f in diff[key][:_ROWS]
            ]
            out.append("")
    for key, title in (("new_errors", "New errors"), ("fixed_errors", "Errors gone")):
        if diff[key]:
            out += [
                f"### {title}",
                "",
                "| count | type | message | services |",
                "|---|---|---|---|",
            ]
            out += [
                f"| {e['count']} | {_code(e['type'])} | {_cell(e['message'])} | "
                f"{_cell(', '.join(e['services']))} |"
                for e in diff[key][:_ROWS]
            ]
            out.append("")
    return "\n".join(out)


def render_diff_text(diff: dict[str, Any]) -> str:
    """The comparison as plain text for a terminal or a CI log."""
    out = [("FAILED: " if diff["failed"] else "OK: ") + safe_line(_counts(diff))]
    out += [f"  threshold crossed: {safe_line(c, 300)}" for c in diff["crossed"]]
    for change, title in (("worse", "Worse"), ("better", "Better"), ("new", "New in HEAD"),
                          ("gone", "Gone from HEAD")):  # fmt: skip
        entries = _changed(diff, change)
        if entries:
            out += ["", f"{title}:"]
            out += [
                f"  {safe_line(e['key'], 120)}: "
                + ", ".join(f"{title} {_pair(e, name)}" for name, title in _FIGURES)
                for e in entries
            ]
    for key, title in (("new_findings", "New findings"), ("fixed_findings", "Fixed findings")):
        if diff[key]:
            out += ["", f"{title}:"]
            out += [
                f"  {KIND_TITLES.get(f['kind'], f['kind'])}: {safe_line(f['where'], 80)} "
                f"[{safe_line(f['svc'], 40)}]: {safe_line(f['subject'], 100)}"
                for f in diff[key]
            ]
    for key, title in (("new_errors", "New errors"), ("fixed_errors", "Errors gone")):
        if diff[key]:
            out += ["", f"{title}:"]
            out += [
                f"  {e['count']}x {safe_line(e['type'], 80)}: {safe_line(e['message'], 200)}"
                for e in diff[key]
            ]
    return "\n".join(out) + "\n"
