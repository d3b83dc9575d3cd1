"""Rebuilding the index from a folder of source files."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from queue import Empty

from indexer.catalog import CatalogEntry, load_catalog
from indexer.metadata import enrich
from indexer.parse import split_text
from indexer.passage import Document, Passage
from indexer.reader import Skipped, SourceFile, read, walk
from search import store
from search.backend import ArraySegmentWriter
from search.backend import index as whoosh_index
from search.batchterms import TextBatch
from search.errors import DocumentError
from search.normalize import Normalized
from search.schema import SCHEMA_VERSION, build_schema, facet_bytes


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


def parse_file(
    source: SourceFile | Path, catalog: CatalogEntry | None = None, *, enrich: bool = True, analyze=None
):
    """Read and split one file; raises :class:`DocumentError` naming the file on failure
    (``analyze``: see ``indexer.metadata.enrich``)."""
    if isinstance(source, Path):
        source = SourceFile(source, source.stem)
    document, passages, date_lines = _split_file(source, catalog)
    if enrich:
        _enrich(source, document, passages, date_lines, analyze)
    return document, passages


@contextmanager
def _failing_as(source: SourceFile) -> Iterator[None]:
    try:
        yield
    except DocumentError:
        raise
    except Exception as exc:  # a parser bug on one file must not stop the rest of a rebuild
        raise DocumentError(f"{source.path}: cannot be parsed ({type(exc).__name__}: {exc})") from exc


def _split_file(
    source: SourceFile, catalog: CatalogEntry | None
) -> tuple[Document, list[Passage], list[str]]:
    text = read(source)
    with _failing_as(source):
        return split_text(
            text,
            doc_id=source.doc_id,
            source=str(source.path),
            csv_format=source.path.suffix.lower() == ".csv",
            catalog=catalog,
        )


def _enrich(source: SourceFile, document: Document, passages: list[Passage], date_lines: list[str], analyze):
    with _failing_as(source):
        enrich(document, passages, date_lines=date_lines, analyze=analyze)


Parsed = tuple[int, Document, list[Passage]]
# Files are analyzed together until they hold this many passages: numpy's cost per call
# is then spread over more tokens (and their compounds numbered in fewer, larger calls).
GROUP_PASSAGES = 1000


def parse_groups(
    seeds: Path,
    jobs: Iterable[tuple[int, SourceFile, CatalogEntry | None]],
    strict: bool,
    send,
    analyze=None,
) -> Iterator[list[Parsed]]:
    """Parse files in turn, yielding them in groups of about ``GROUP_PASSAGES`` passages
    whose texts ``analyze`` saw at once (see ``indexer.metadata.enrich``); a bad file is
    reported and skipped (``("skipped", path, reason)`` to ``send``), or raised when ``strict``."""
    pending: list[tuple[int, SourceFile, Document, list[Passage], list[str]]] = []
    size = 0

    def skip(source: SourceFile, exc: DocumentError) -> None:
        if strict:
            raise exc
        send(("skipped", str(source.path), exc.message.split(": ", 1)[-1]))

    def finish(files: list, each) -> list[Parsed]:
        done = []
        for file_no, source, document, passages, date_lines in files:
            try:
                _enrich(source, document, passages, date_lines, each)
            except DocumentError as exc:
                skip(source, exc)
                continue
            done.append((file_no, document, passages))
            rel = source.path.relative_to(seeds).as_posix()
            send(("parsed", rel, len(passages), document.id, document.title))
        return done

    def flush() -> Iterator[list[Parsed]]:
        together = None
        if analyze is not None and len(pending) > 1:
            try:
                together = analyze([p for *_, passages, _ in pending for p in passages])
            except Exception:  # analyzed file by file below: the bad file is skipped, and why
                together = None
        if together is not None:
            yield finish(pending, lambda _passages: together)
        else:
            for one in pending:
                yield finish([one], analyze)

    for file_no, source, entry in jobs:
        try:
            document, passages, date_lines = _split_file(source, entry)
        except DocumentError as exc:
            skip(source, exc)
            continue
        pending.append((file_no, source, document, passages, date_lines))
        size += len(passages)
        if size >= GROUP_PASSAGES:
            yield from flush()
            pending, size = [], 0
    if pending:
        yield from flush()


def _jobs(seeds: Path) -> tuple[list[tuple[int, SourceFile, CatalogEntry | None]], list[Skipped]]:
    if not seeds.is_dir():
        raise DocumentError(f"{seeds}: no such folder of source files")
    files, ignored = walk(seeds)
    catalog = load_catalog(seeds)
    return [(n, f, catalog.get(f.path.relative_to(seeds).as_posix())) for n, f in enumerate(files)], ignored


def _receiver(report: BuildReport, total: int, progress: Progress | None, titles: dict[str, str]):
    def receive(message: tuple) -> None:
        if message[0] == "skipped":
            report.skipped.append(Skipped(Path(message[1]), message[2]))
        elif message[0] == "parsed":
            _, rel, count, doc_id, title = message
            report.documents += 1
            report.passages += count
            titles[doc_id] = title
            if progress:
                progress(rel, report.documents + len(report.skipped), total)

    return receive


def collect(
    seeds: Path, *, strict: bool = False, progress: Progress | None = None
) -> tuple[list[Passage], BuildReport]:
    """Parse every supported file under ``seeds``; bad files are reported and skipped."""
    jobs, ignored = _jobs(seeds)
    report = BuildReport(ignored=ignored)
    receive = _receiver(report, len(jobs), progress, {})
    groups = parse_groups(seeds, jobs, strict, receive)
    passages = [p for group in groups for _, _, found in group for p in found]
    return passages, report


def index_document(passage: Passage, order: int) -> dict:
    """The fields Whoosh stores and indexes for one passage."""
    months: set[str] = set()
    dated_years: set[str] = set()  # the years of those months
    for record in passage.dates:
        record_months, record_years = _month_terms(record["from"], record["to"])
        months |= record_months
        dated_years |= record_years
    years = set(dated_years)
    doc_date = passage.document.date or ""
    if doc_date[:4].isdigit():
        years.add(doc_date[:4])
        if passage.kind == "paragraph":
            # A paragraph of prose is dated by its document (an article's dateline).
            first, last = (
                doc_date[:4] + "-" + (doc_date[5:7] or "01"),
                doc_date[:4] + "-" + (doc_date[5:7] or "12"),
            )
            record_months, record_years = _month_terms(first, last)
            months |= record_months
            dated_years |= record_years
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
        # The years those months fall in: a query for a whole year is then one term, not twelve.
        "dated_year": ",".join(sorted(dated_years)),
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


@lru_cache(maxsize=1 << 14)
def _month_terms(first: str, last: str) -> tuple[frozenset[str], frozenset[str]]:
    """The months (YYYYMM) from month ``first`` to ``last`` (YYYY-MM), and their years:
    passages of a corpus name the same spans again and again.

    >>> [sorted(s) for s in _month_terms("2019-11", "2020-02")]
    [['201911', '201912', '202001', '202002'], ['2019', '2020']]
    """
    months = list(_months(int(first.replace("-", "")), int(last.replace("-", ""))))
    return frozenset(map(str, months)), frozenset(str(m // 100) for m in months)


def _months(first: int, last: int) -> Iterable[int]:
    year, month = divmod(first, 100)
    count = 0
    while year * 100 + month <= last and count < 1200:
        yield year * 100 + month
        count += 1
        month += 1
        if month > 12:
            year, month = year + 1, 1


def write_segments(
    ix, seeds: Path, strict: bool, jobs, send: Callable[[tuple], None], nodes: bool | None = None
) -> list:
    """Parse files and write their passages as array segments of ``ix``, reporting as it goes;
    returns the segments, for the caller to commit. A new segment starts every
    ``SEGMENT_TOKENS`` tokens, which bounds a writer's memory.

    Runs in the main process for small rebuilds and once per worker process for large ones,
    so parsing, MeCab and sorting run on every core. ``nodes``: whether MeCab's nodes are
    read from the first text (``_GroupAnalysis``); by default, from the size of ``jobs``.
    """
    if nodes is None:
        jobs = list(jobs)  # (read twice: for their bytes, then their files)
        nodes = _source_bytes(jobs) >= NODES_BYTES
    segments = []
    writer = ArraySegmentWriter(ix)
    # The cyclic collector would walk the long-lived caches of MeCab lines and term forms
    # over and over (a fifth of a rebuild's time); nothing here makes cycles of note, and
    # whatever does is collected when each segment is written.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _small_pages():
            analysis = _GroupAnalysis(nodes=nodes)
            for group in parse_groups(seeds, jobs, strict, send, analysis):
                # Document order across files and workers: the file's number, then the ordinal.
                values = [
                    index_document(p, (file_no << 24) | p.ordinal)
                    for file_no, _, found in group
                    for p in found
                ]
                writer.add_documents(values, analysis.batch.numbered(values, analysis.index))
                if writer.tokens() >= SEGMENT_TOKENS:
                    segments.append(writer.finish())
                    writer = ArraySegmentWriter(ix)
                    gc.collect()
            if writer.docnum:
                segments.append(writer.finish())
            else:
                writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    finally:
        if collecting:
            gc.enable()
    return segments


def _source_bytes(jobs) -> int:
    return sum(_size(source) for _, source, _ in jobs)


@contextmanager
def _small_pages() -> Iterator[None]:
    """numpy's large arrays on ordinary pages while a rebuild runs.

    numpy asks the kernel for transparent huge pages for every array of 4 MB or more. A
    rebuild makes and drops such arrays by the thousand, and on the virtual machines this
    was measured on, a huge page is then mostly compaction and zeroing: a one-process build
    of 33k passages spent 9 s of 32 in the kernel, and 2 s of 27 with ordinary pages.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy 1.x
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            _set_madvise_hugepage = None
    if _set_madvise_hugepage is None:
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


class _GroupAnalysis:
    """The MeCab analysis of the passages of the files being indexed (a group of
    ``parse_groups``), made once for their metadata (``indexer.metadata.enrich``) and their
    index terms."""

    def __init__(self, nodes: bool = False) -> None:
        self.batch = TextBatch([])
        self.index: dict[str, int] = {}
        self.nodes = nodes  # see TextBatch

    def __call__(self, passages: list[Passage]) -> _GroupAnalysis:
        texts = {text: None for p in passages for text in (p.title, p.text, p.section)}
        self.batch = TextBatch(list(texts), self.nodes)
        self.index = {text: i for i, text in enumerate(texts)}
        if texts:  # found for every text now, so a failure here is one parse_groups retries
            self.batch.municipalities(0)
        return self

    def municipalities(self, text: str) -> list[str]:
        return self.batch.municipalities(self.index[text])

    def normalized(self, text: str) -> Normalized:
        return self.batch.norms[self.index[text]]


def _keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it.

    A worker makes and drops arrays of megabytes by the thousand; by default glibc maps each
    afresh and unmaps it when it is freed, and every page of the next one faults in again
    (1.3 million faults, 5-7 s of kernel time in a 100k-passage build). Kept in the heap,
    they are reused: 0.8 million faults and 1.5-3 s less kernel time, measured. A worker's
    memory goes back when it exits. Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest: bigger arrays are still mapped
    mallopt(m_trim_threshold, 8 << 30)
    mallopt(m_top_pad, 512 << 20)


def _worker(gen: str, seeds: Path, strict: bool, jobs: _SharedJobs, nodes: bool, queue) -> None:
    _keep_freed_memory()
    try:
        ix = whoosh_index.open_dir(gen)
        queue.put(("done", write_segments(ix, seeds, strict, jobs, queue.put, nodes=nodes)))
    except DocumentError as exc:
        queue.put(("failed", exc.message))
    except BaseException as exc:  # reported to the parent, which discards the generation
        queue.put(("failed", f"indexing worker failed: {type(exc).__name__}: {exc}"))


class _SharedJobs:
    """The files of a parallel rebuild, handed to whichever worker asks next, largest first:
    the workers then finish within about one group of each other (``GROUP_PASSAGES``),
    whatever the time a file takes per byte. A file's passages are ordered by its number,
    not by the worker or segment it lands in (``index_document``'s ``order``)."""

    def __init__(self, jobs: list, context) -> None:
        self.jobs = sorted(jobs, key=lambda job: (-_size(job[1]), job[0]))
        self.taken = context.Value("q", 0)  # (shared through fork, with its lock)

    def __iter__(self) -> Iterator[tuple[int, SourceFile, CatalogEntry | None]]:
        while True:
            with self.taken.get_lock():
                i = self.taken.value
                if i >= len(self.jobs):
                    return
                self.taken.value = i + 1
            yield self.jobs[i]


def _size(source: SourceFile) -> int:
    try:
        return source.path.stat().st_size
    except OSError:  # reported when it is read
        return 0


PARALLEL_BYTES = 256 * 1024  # below this, starting workers costs more than it saves
# From this many bytes of files, a process reads MeCab's nodes from its first text: numba's
# start (0.5-0.9 s) is then soon paid back (search.batchterms._from_nodes).
NODES_BYTES = 3 * 1024 * 1024
# Tokens (and postings) a segment writer holds before it writes a segment: about 130k
# passages, 2.5 GB at the peak of the sort; fewer, larger segments make queries cheaper.
SEGMENT_TOKENS = 80_000_000


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
        jobs, ignored = _jobs(seeds)
        report = BuildReport(ignored=ignored)
        titles: dict[str, str] = {}
        receive = _receiver(report, len(jobs), progress, titles)

        gen = store.new_generation(root)
        try:
            ix = whoosh_index.create_in(str(gen), build_schema())
            procs = min(procs or os.cpu_count() or 1, 2 if procs is None else procs, len(jobs) or 1)
            size = _source_bytes(jobs)
            if procs > 1 and size >= PARALLEL_BYTES:
                _write_parallel(ix, gen, seeds, strict, jobs, procs, size >= procs * NODES_BYTES, receive)
            else:
                _commit(ix, lambda: write_segments(ix, seeds, strict, jobs, receive))
            report.seconds = time.perf_counter() - started
            report.generation = gen.name
            store.publish(
                root,
                gen,
                {
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "schema_version": SCHEMA_VERSION,
                    "documents": report.documents,
                    "passages": report.passages,
                    "seconds": round(report.seconds, 3),
                    "seeds": str(seeds),
                    "document_titles": titles,
                    "skipped": [{"path": str(s.path), "reason": s.reason} for s in report.skipped],
                },
            )
        except BaseException:
            store.discard(gen)
            raise
    return report


def _commit(ix, write: Callable[[], list]) -> None:
    """Hold the index lock while ``write`` writes segments, then commit them in one TOC."""
    writer = ix.writer()
    try:
        segments = write()
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        writer.cancel()
        raise


def _write_parallel(
    ix, gen: Path, seeds: Path, strict: bool, jobs: list, procs: int, nodes: bool, receive
) -> None:
    """``procs`` worker processes taking files in turn, each writing its segments; then one
    commit of them all. ``nodes``: as for ``write_segments``, for a worker's share."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    shared = _SharedJobs(jobs, context)
    workers = [
        context.Process(target=_worker, args=(str(gen), seeds, strict, shared, nodes, queue), daemon=True)
        for _ in range(procs)
    ]

    def write() -> list:
        segments, failure, done = [], None, 0
        try:
            for worker in workers:
                worker.start()
            while done < len(workers) and failure is None:
                try:
                    message = queue.get(timeout=1.0)
                except Empty:
                    # A worker killed from outside (out of memory, a crash in C) sends nothing.
                    crashed = next((w for w in workers if w.exitcode not in (None, 0)), None)
                    if crashed is not None:
                        failure = (
                            f"an indexing worker stopped with exit code {crashed.exitcode} (out of memory?)"
                        )
                    continue
                if message[0] == "done":
                    done += 1
                    segments.extend(message[1])
                elif message[0] == "failed":
                    failure = message[1]
                else:
                    receive(message)
            if failure is None:
                for worker in workers:
                    worker.join()
        finally:
            for worker in workers:  # after a failure the others' work is discarded anyway
                if worker.is_alive():
                    worker.terminate()
                    worker.join()
        if failure:
            raise DocumentError(failure)
        return segments

    _commit(ix, write)
