"""Terminal output of the command line: progress bars and reports, through rich."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.services.importer import ImportReport

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A `progress(done, total)` callback drawing a bar on a terminal, silent in a pipe."""
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def print_import_report(report: ImportReport) -> None:
    """Every error on its own line (record and field first), then the counts."""
    for error in report.errors:
        stderr.print(f"[red]error[/red] {error}", markup=True, soft_wrap=True)
    stdout.print(report.summary(), markup=False)
