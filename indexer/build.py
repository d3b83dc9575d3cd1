"""Rebuilding the index from a folder of source files."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.catalog import CatalogEntry, load_catalog
from indexer.parse import parse_text
from indexer.passage import Passage
from indexer.reader import Skipped, SourceFile, read, walk
from search import store
from search.backend import index as whoosh_index
from search.errors import DocumentError
from search.schema import facet_bytes


@dataclass
class BuildReport:
    documents: int = 0
    passages: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    generation: str = ""

    def summary(self) -> str:
        line = f"indexed {self.documents} documents, {self.passages} passages in {self.seconds:.1f}s"
        if self.skipped:
            reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in self.skipped)
            line += f"; skipped {len(self.skipped)} file(s): {reasons}"
        return line


Progress = Callable[[str, int, int], None]


def parse_file(source: SourceFile | Path, catalog: CatalogEntry | None = None, *, enrich: bool = True):
    """Read and split one file; raises :class:`DocumentError` naming the file on failure."""
    if isinstance(source, Path):
        source = SourceFile(source, source.stem)
    text = read(source)
    try:
        return parse_text(
            text,
            doc_id=source.doc_id,
            source=str(source.path),
            csv_format=source.path.suffix.lower() == ".csv",
            catalog=catalog,
            enrich=enrich,
        )
    except DocumentError:
        raise
    except Exception as exc:  # a parser bug on one file must not stop the rest of a rebuild
        raise DocumentError(f"{source.path}: cannot be parsed ({type(exc).__name__}: {exc})") from exc


def collect(
    seeds: Path, *, strict: bool = False, progress: Progress | None = None
) -> tuple[list[Passage], BuildReport]:
    """Parse every supported file under ``seeds``; bad files are reported and skipped."""
    if not seeds.is_dir():
        raise DocumentError(f"{seeds}: no such folder of source files")
    report = BuildReport()
    files, report.ignored = walk(seeds)
    catalog = load_catalog(seeds)
    passages: list[Passage] = []
    for n, source in enumerate(files, 1):
        rel = source.path.relative_to(seeds).as_posix()
        try:
            _, found = parse_file(source, catalog.get(rel))
        except DocumentError as exc:
            if strict:
                raise
            report.skipped.append(Skipped(source.path, exc.message.split(": ", 1)[-1]))
            continue
        report.documents += 1
        passages.extend(found)
        if progress:
            progress(rel, n, len(files))
    report.passages = len(passages)
    return passages, report


def index_document(passage: Passage, order: int) -> dict:
    """The fields Whoosh stores and indexes for one passage."""
    months: set[str] = set()
    years: set[str] = set()
    for record in passage.dates:
        first = int(record["from"].replace("-", ""))
        last = int(record["to"].replace("-", ""))
        for month in _months(first, last):
            months.add(str(month))
            years.add(str(month // 100))
    doc_date = passage.document.date or ""
    if doc_date[:4].isdigit():
        years.add(doc_date[:4])
        if passage.kind == "paragraph":
            # A paragraph of prose is dated by its document (an article's dateline).
            first = int(doc_date[:4] + (doc_date[5:7] or "01"))
            last = int(doc_date[:4] + (doc_date[5:7] or "12"))
            months.update(str(m) for m in _months(first, last))
    first_date = passage.dates[0]["iso"] if passage.dates else (passage.document.date or "")
    digits = first_date.replace("-", "")
    date_sort = int((digits + "0101")[:8]) if digits[:4].isdigit() else 0
    return {
        "id": passage.id,
        "doc_id": passage.document.id,
        "kind": passage.kind,
        "order": order,
        "date_sort": date_sort,
        "municipality": ",".join(m.replace(",", " ") for m in passage.municipalities),
        "year": ",".join(sorted(years)),
        "month": ",".join(sorted(months)),
        "facets": facet_bytes(passage.document.id, passage.kind, passage.municipalities, sorted(years)),
        "text": passage.text,
        "text_base": passage.text,
        "text_reading": passage.text,
        "text_bigram": passage.text,
        "title": passage.title,
        "title_base": passage.title,
        "section": passage.section,
        "section_base": passage.section,
        "payload": {
            "ordinal": passage.ordinal,
            "document": {**passage.document.ref(), "date": passage.document.date},
            "dates": passage.dates,
            "municipalities": passage.municipalities,
            "fields": passage.fields,
        },
    }


def _months(first: int, last: int) -> Iterable[int]:
    year, month = divmod(first, 100)
    count = 0
    while year * 100 + month <= last and count < 1200:
        yield year * 100 + month
        count += 1
        month += 1
        if month > 12:
            year, month = year + 1, 1


def build(
    seeds: Path,
    root: Path,
    *,
    strict: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Rebuild the index under ``root`` from ``seeds``; the served index switches only on success."""
    started = time.perf_counter()
    with store.rebuild_lock(root):
        passages, report = collect(seeds, strict=strict, progress=progress)
        from search.schema import build_schema  # the analyzers load MeCab: only when writing

        gen = store.new_generation(root)
        try:
            ix = whoosh_index.create_in(str(gen), build_schema())
            procs = procs or min(2, os.cpu_count() or 1)
            multi = procs > 1 and len(passages) >= 2000
            writer = (
                ix.writer(procs=procs, multisegment=True, limitmb=256) if multi else ix.writer(limitmb=256)
            )
            try:
                for order, passage in enumerate(passages):
                    writer.add_document(**index_document(passage, order))
                    if progress and order % 500 == 0:
                        progress("index", order, len(passages))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            report.seconds = time.perf_counter() - started
            report.generation = gen.name
            store.publish(
                root,
                gen,
                {
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "documents": report.documents,
                    "passages": report.passages,
                    "seconds": round(report.seconds, 3),
                    "seeds": str(seeds),
                    "document_titles": {p.document.id: p.document.title for p in passages},
                    "skipped": [{"path": str(s.path), "reason": s.reason} for s in report.skipped],
                },
            )
        except BaseException:
            store.discard(gen)
            raise
    return report
