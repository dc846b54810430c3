"""The explorer's status line: how far the folder is read, what it holds, what is shown."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ..ingest.live import LiveFolder
from ..outputs.textsafe import safe_line
from .widgets.commands import progress_bar

__all__ = ["ListState", "status_line"]


@dataclass(frozen=True)
class ListState:
    """What the user chose for the request list, as the status line reports it."""

    follow: bool  # the newest row stays in view
    follow_files: bool  # the files are followed (else read once)
    order: str
    search_term: str
    matching: int  # requests a new filter has still to match


def status_line(folder: LiveFolder, shown: ListState, *, locked: bool = True) -> Text:
    """The status line; without the model's lock, only counters safe to read while loading."""
    model = folder.model
    text = Text(end="")
    if folder.error:
        text.append(f"reader stopped: {safe_line(folder.error, 200)}  ", style="bold red")
    elif not folder.loaded:
        text.append("loading ", style="bold yellow")
        text.append_text(progress_bar(folder.progress(), 1.0, width=12))
        text.append("  ")
    elif folder.not_following:
        reason = safe_line(folder.not_following, 80)
        text.append(f"not following: {reason}  ", style="bold red")
    elif not shown.follow:
        text.append("paused  ", style="bold yellow")  # the cursor holds its request
    elif shown.follow_files:
        text.append("live  ", style="bold green")  # files followed, newest in view
    else:
        text.append("read once  ", style="bold")  # files not followed
    text.append(
        f"{len(model.files)} files  {model.totals.get('events', 0)} events  "
        f"{model.totals.get('requests', 0)} requests  {len(model.issues)} issues  "
    )
    if locked:
        invalid = sum(f.invalid for f in model.files.values())
        if invalid:
            text.append(f"{invalid} invalid lines  ", style="bold red")
        refused = model.totals.get("refused", 0)
        if refused:
            text.append(f"{refused} refused events  ", style="bold red")
        if shown.matching:
            text.append(f"matching {shown.matching} more…  ", style="bold yellow")
    text.append(f"order: {shown.order}", style="dim")
    if shown.search_term:
        text.append("  search: ", style="dim")
        text.append(shown.search_term[:40])
    return text
