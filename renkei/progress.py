"""A progress bar on a terminal, plain log lines otherwise, around an index rebuild."""

from __future__ import annotations

import sys
from pathlib import Path

from indexer.build import BuildReport, build


def build_with_progress(
    seeds: Path, index: Path, *, strict: bool = False, procs: int | None = None
) -> BuildReport:
    """Rebuild the index, showing each file as it is indexed."""
    if not sys.stderr.isatty():

        def log(name: str, done: int, total: int) -> None:
            print(f"indexed {done}/{total} {name}", file=sys.stderr)

        return build(seeds, index, strict=strict, procs=procs, progress=log)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=name)

        return build(seeds, index, strict=strict, procs=procs, progress=update)
