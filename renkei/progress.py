"""A progress bar on a terminal, plain log lines otherwise, around an index rebuild."""

from __future__ import annotations

import sys
from pathlib import Path

from indexer.build import BuildReport, build


def build_with_progress(
    seeds: Path, index: Path, *, strict: bool = False, procs: int | None = None
) -> BuildReport:
    if not sys.stderr.isatty():

        def log(stage: str, done: int, total: int) -> None:
            if stage != "index" or done == 0:
                print(
                    f"{'parsed' if stage != 'index' else 'indexing'} {done}/{total} {stage}", file=sys.stderr
                )

        return build(seeds, index, strict=strict, procs=procs, progress=log)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            name = "indexing" if stage == "index" else "parsing"
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        return build(seeds, index, strict=strict, procs=procs, progress=update)
