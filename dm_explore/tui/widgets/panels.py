"""Panel entries as widgets, by their content type: content is shown, never interpreted."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import DataTable, Markdown, Static, Tree

from ...model.refused import is_refused, site_text
from ...outputs.textsafe import safe
from ..text import block, cell

__all__ = ["panel_widget", "refused_text"]


def panel_widget(entry: dict[str, Any]) -> Static | Markdown | DataTable[Any] | Tree[Any]:
    """A widget for one panel entry, by its content type; content is never markup."""
    kind, content = entry.get("type"), entry.get("content")
    if is_refused(entry):
        return Static(refused_text(entry), classes="panel-refused")
    if kind == "markdown" and isinstance(content, str):
        return Markdown(safe(content), open_links=False, classes="panel-markdown")
    if kind == "code" and isinstance(content, str):
        lang = entry.get("lang") if isinstance(entry.get("lang"), str) else "text"
        return Static(
            Syntax(safe(content), lang or "text", theme="ansi_dark", word_wrap=True),
            classes="panel-code",
        )
    if kind == "kv" and isinstance(content, dict):
        table: DataTable[Any] = DataTable(show_cursor=False, classes="panel-table")
        table.add_columns("key", "value")
        for key, value in content.items():
            table.add_row(cell(key, 60, "bold"), cell(value, 200))
        return table
    if kind == "table" and isinstance(content, list):
        table = DataTable(show_cursor=False, classes="panel-table")
        found = entry.get("columns")
        columns: list[Any] = found if isinstance(found, list) else []
        width = max([len(columns)] + [len(r) for r in content if isinstance(r, list)])
        table.add_columns(*[cell(c, 40) for c in columns], *[""] * (width - len(columns)))
        for row in content[:1000]:
            cells = [cell(v, 100) for v in (row if isinstance(row, list) else [row])]
            table.add_row(*cells, *[""] * (width - len(cells)))
        return table
    if kind == "json":
        tree: Tree[Any] = Tree(Text("json"), classes="panel-json")
        tree.root.expand()
        _json_into(tree.root, content, 0)
        return tree
    return Static(
        block(content if isinstance(content, str) else str(content)), classes="panel-text"
    )


def refused_text(entry: dict[str, Any]) -> Text:
    """A refused panel for its author: that it was refused, why, and the line that sent it."""
    out = Text("refused by the writer: this panel was not written\n", style="bold red", end="")
    for error in entry.get("errors") or ["(no reason given)"]:
        out.append("  ")
        out.append_text(cell(error, 300, "red"))
        out.append("\n")
    where = site_text(entry.get("call"))
    out.append("  at ", style="dim")
    out.append_text(cell(where or "(the calling line is not known)", 300, "bold"))
    if entry.get("data"):
        out.append("\n  sent ", style="dim")
        out.append_text(cell(entry["data"], 300, "dim"))
    return out


def _json_into(node: Any, value: Any, depth: int) -> None:
    if depth > 30:
        node.add_leaf(Text("…", style="dim"))
        return
    if isinstance(value, dict):
        for key, item in list(value.items())[:500]:
            if isinstance(item, dict | list):
                child = node.add(cell(key, 60, "bold"), expand=depth < 2)
                _json_into(child, item, depth + 1)
            else:
                label = cell(key, 60, "bold")
                label.append(": ")
                label.append_text(cell(item, 200))
                node.add_leaf(label)
    elif isinstance(value, list):
        for index, item in enumerate(value[:500]):
            if isinstance(item, dict | list):
                child = node.add(Text(f"[{index}]", end=""), expand=depth < 2)
                _json_into(child, item, depth + 1)
            else:
                node.add_leaf(cell(item, 200))
    else:
        node.add_leaf(cell(value, 200))
