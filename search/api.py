"""The search library's entry point: one :class:`Engine` per index, shared by every caller.

The web layer, the command line and the benchmarks all call :meth:`Engine.search`, which
returns the JSON body of ``/api/search``. Errors are :mod:`search.errors` exceptions.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

from search import store
from search.backend import forget_segment_arrays, segment_arrays
from search.backend import query as wq
from search.docvalues import DocValues
from search.errors import IndexMissing, InvalidParameter, NotFound, QueryTooLong
from search.lowering import Lowered, filter_query, lower
from search.matching import Postings, evaluate, top
from search.query import MAX_QUERY_LENGTH, describe, parse_query
from search.schema import KINDS, SCHEMA_VERSION
from search.snippets import snippet, spans_in_docs

MAX_SIZE = 100
MAX_WINDOW = 10000  # deepest hit a page may reach, as Elasticsearch's max_result_window
SORTS = ("score", "date")
KIND_LABELS = {
    "preamble": "前文",
    "article": "条文",
    "signature": "署名",
    "table_row": "別表",
    "activity": "取組",
    "list_row": "提携リスト",
    "paragraph": "本文",
}
CACHE_SIZE = 256
# Values returned per facet, most frequent first (a terms aggregation's size); years are few
# and shown as a timeline, so all of them up to a century.
FACET_LIMITS = {"municipality": 20, "kind": 20, "document": 20, "year": 100}


def _int(name: str, value, default: int, lo: int, hi: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidParameter(
            f"{name} must be a whole number, not {str(value)[:40]!r}", param=name
        ) from None
    if number < lo or (hi is not None and number > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InvalidParameter(f"{name} must be {bound}, not {number}", param=name)
    return number


class _Generation:
    """What a process keeps of the served index generation, shared by its threads (never
    changed once loaded): the posting-array cache and, read on first use, the per-passage
    values. Only the current generation is kept; an older one is no longer served."""

    _current: _Generation | None = None
    _lock = threading.Lock()

    def __init__(self, gen: Path, doc_count: int) -> None:
        self.gen = gen
        self.postings = Postings(doc_count)
        self._values: DocValues | None = None
        self._values_lock = threading.Lock()

    @classmethod
    def of(cls, gen: Path, doc_count: int) -> _Generation:
        with cls._lock:
            if cls._current is None or cls._current.gen != gen:
                if cls._current is not None:
                    forget_segment_arrays(keep=str(gen))
                cls._current = cls(gen, doc_count)
            return cls._current

    def values(self, reader) -> DocValues:
        with self._values_lock:
            if self._values is None:
                self._values = DocValues(reader)
            return self._values


class _View:
    """One thread's open searcher on one index generation, and the process's shared arrays."""

    def __init__(self, searcher, info: dict, gen: Path) -> None:
        self.searcher, self.info, self.gen = searcher, info, gen
        self.shared = _Generation.of(gen, searcher.doc_count_all())
        self.postings = self.shared.postings

    @property
    def values(self) -> DocValues:
        return self.shared.values(self.searcher.reader())


class _Local(threading.local):
    view: _View | None = None


class Engine:
    """Searches the index under ``root``; safe to share between threads.

    Each thread keeps its own Whoosh searcher and reopens it when a rebuild has switched the
    served generation, so a rebuilt index is picked up without a restart.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._local = _Local()
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- index access ------------------------------------------------------------------------
    def _view(self) -> _View:
        local = self._local
        attempts = 3
        while True:
            gen = store.served_generation(self.root)
            if local.view is not None and local.view.gen == gen:
                return local.view
            attempts -= 1
            try:
                info = store.read_info(gen)
                if info.get("schema_version") != SCHEMA_VERSION:
                    raise IndexMissing(
                        f"the index at {self.root} was built by another version of renkei: "
                        "rebuild it with `renkei index`"
                    )
                searcher = store.open_generation(gen).searcher()
            except FileNotFoundError as exc:
                # A rebuild switched the index and deleted this generation while it was being
                # opened: open the one served now.
                if attempts == 0:
                    raise IndexMissing(
                        f"the index at {self.root} is incomplete ({exc}): rebuild it with `renkei index`"
                    ) from exc
                continue
            if local.view is not None:
                local.view.searcher.close()
            local.view = _View(searcher, info, gen)
            return local.view

    def warm(self) -> bool:
        """Load what a process's first search would otherwise load while a user waits: the
        served generation's per-passage values, field lengths, posting-array maps and term samples. A
        server worker calls it before it accepts connections; False when there is no index."""
        try:
            view = self._view()
        except IndexMissing:
            return False
        view.values  # noqa: B018 - loads the shared arrays
        for name in view.searcher.schema.scorable_names():
            view.postings.lengths(view.searcher, name)
        for leaf, _ in view.searcher.reader().leaf_readers():
            arrays = segment_arrays(leaf)
            if arrays is not None:
                arrays.prepare_lookups()
        # The calling thread serves no request: its searcher would hold this generation open
        # after a rebuild. What was loaded is shared by the process and stays.
        view.searcher.close()
        self._local.view = None
        return True

    # -- public API --------------------------------------------------------------------------
    def search(
        self,
        q: str | None,
        *,
        page=1,
        size=10,
        municipality: str | None = None,
        kind: str | None = None,
        document: str | None = None,
        year_from=None,
        year_to=None,
        sort: str | None = "score",
    ) -> dict:
        """Search passages; returns the ``/api/search`` body. Raises :class:`InvalidParameter`."""
        started = time.perf_counter()
        if q is None or not str(q).strip():
            raise InvalidParameter("q is required: give the words to search for", param="q")
        q = str(q)
        if len(q) > MAX_QUERY_LENGTH:
            raise QueryTooLong(
                f"the query is {len(q)} characters long; at most {MAX_QUERY_LENGTH} are accepted", param="q"
            )
        page = _int("page", page, 1, 1, 100000)
        size = _int("size", size, 10, 1, MAX_SIZE)
        if page * size > MAX_WINDOW:
            raise InvalidParameter(f"page × size may reach at most the {MAX_WINDOW}th hit", param="page")
        y_from = _int("year_from", year_from, 0, 1, 9999) or None
        y_to = _int("year_to", year_to, 0, 1, 9999) or None
        if y_from and y_to and y_to < y_from:
            raise InvalidParameter("year_to must not be before year_from", param="year_to")
        sort = sort or "score"
        if sort not in SORTS:
            raise InvalidParameter(f"sort must be one of {', '.join(SORTS)}, not {sort[:40]!r}", param="sort")
        kind = str(kind).strip() if kind is not None else None
        if kind and kind not in KINDS:
            raise InvalidParameter(f"kind must be one of {', '.join(KINDS)}, not {kind[:40]!r}", param="kind")

        view = self._view()
        searcher = view.searcher
        key = (str(view.gen), q, page, size, municipality, kind, document, y_from, y_to, sort)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None:
            body = dict(cached)
            body["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return body

        parsed = parse_query(q)
        params = {
            name: str(value).strip() or None
            for name, value in (("municipality", municipality), ("kind", kind), ("document", document))
            if value is not None
        }
        filters = [filter_query(name, value) for name, value in params.items() if value]
        if y_from or y_to:
            lo, hi = y_from or 1, y_to or 9999
            lo, hi = max(lo, 1800), min(hi, 2200)
            years = [wq.Term("year", str(y)) for y in range(lo, hi + 1)]
            filters.append(wq.Or(years) if years else wq.NullQuery)
        filters = [f for f in filters if f is not None]
        param_filter = wq.And(filters) if filters else None

        lowered = lower(parsed.root)
        ranked, matched = self._run(view, lowered, param_filter, page, size, sort)
        if not len(matched) and not lowered.used_bigrams and lowered.query is not None:
            # Nothing matched the morphemes: fall back to character bigrams, ranked lower.
            lowered = lower(parsed.root, bigrams=True)
            ranked, matched = self._run(view, lowered, param_filter, page, size, sort)
        total = len(matched)
        facets, facet_values = self._facets(view, matched)
        spans = spans_in_docs(searcher, [d for d, _ in ranked], lowered.highlights)
        hits = [self._hit(searcher, docnum, score, spans[docnum]) for docnum, score in ranked]
        body = {
            "ok": True,
            "query": q,
            "parsed": describe(parsed.root),
            "analysis": lowered.analysis,
            "filters": lowered.filters
            + [{"field": k, "value": v, "negated": False} for k, v in params.items() if v]
            + (
                [{"field": "year", "value": f"{y_from or ''}..{y_to or ''}", "negated": False}]
                if (y_from or y_to)
                else []
            ),
            "notes": list(dict.fromkeys(parsed.notes + lowered.notes)),
            "total": total,
            "page": page,
            "size": size,
            "pages": (total + size - 1) // size,
            "sort": sort,
            "took_ms": 0.0,
            "hits": hits,
            "facets": facets,
            "facet_values": facet_values,
        }
        with self._cache_lock:
            self._cache[key] = body
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        body = dict(body)
        body["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return body

    def _run(self, view: _View, lowered: Lowered, param_filter, page: int, size: int, sort: str):
        """The page's (docnum, score) pairs and the array of every matching docnum."""
        q = lowered.query
        if param_filter is not None:
            q = wq.And([q, param_filter]) if q is not None else None
        docs, scores = evaluate(q, view.searcher, view.postings)
        values = view.values
        order = values.order[docs]
        # Ties keep document order (the order column): Whoosh's document numbers follow it only
        # in an index of one segment, and a parallel rebuild writes one segment per worker.
        keys = [-values.date_sort[docs], order] if sort == "date" else [-scores, order]
        picked = top(docs, keys, page * size)[(page - 1) * size :]
        ranked = [(int(docs[i]), None if sort == "date" else float(scores[i])) for i in picked]
        return ranked, docs

    def _hit(self, searcher, docnum: int, score: float | None, spans: list) -> dict:
        stored = searcher.stored_fields(docnum)
        payload = stored["payload"]
        return {
            "id": stored["id"],
            "score": None if score is None else round(float(score), 4),
            "title": stored.get("title", ""),
            "section": stored.get("section", ""),
            "kind": stored["kind"],
            "text": stored["text"],
            "snippet": snippet(stored["text"], spans),
            "highlights": [[s, e] for s, e in spans],
            "dates": payload["dates"],
            "municipalities": payload["municipalities"],
            "fields": payload["fields"],
            "document": payload["document"],
        }

    def _facets(self, view: _View, matched) -> tuple[dict, dict]:
        """The most frequent municipalities, kinds, documents and years over every matching
        passage (at most ``FACET_LIMITS`` each), and how many distinct values each facet has."""
        titles = view.info.get("document_titles", {})
        out, distinct = {}, {}
        for name, (pairs, count) in view.values.count(matched, FACET_LIMITS).items():
            entries = [{"value": v, "count": c} for v, c in pairs]
            if name == "year":
                entries.sort(key=lambda e: e["value"], reverse=True)
            for entry in entries:
                if name == "document":
                    entry["label"] = titles.get(entry["value"], entry["value"])
                elif name == "kind":
                    entry["label"] = KIND_LABELS.get(entry["value"], entry["value"])
            out[name], distinct[name] = entries, count
        return out, distinct

    def passage(self, pid: str, *, q: str | None = None, neighbours: int = 2) -> dict:
        """One passage with up to ``neighbours`` passages before and after it in its document."""
        view = self._view()
        searcher = view.searcher
        docnum = searcher.document_number(id=pid) if pid else None
        if docnum is None:
            raise NotFound(f"no passage with id {pid[:80]!r}", param="id")
        lowered = lower(parse_query(q).root) if q and len(q) <= MAX_QUERY_LENGTH else None
        stored = searcher.stored_fields(docnum)
        order = view.values.order
        siblings = sorted(searcher.docs_for_query(wq.Term("doc_id", stored["doc_id"])), key=order.__getitem__)
        at = siblings.index(docnum)
        shown = siblings[max(0, at - neighbours) : at + neighbours + 1]
        spans = spans_in_docs(searcher, shown, lowered.highlights) if lowered else {}
        items = [self._passage_body(searcher.stored_fields(d), spans.get(d, [])) for d in shown]
        current = next(i for i in items if i["id"] == pid)
        before = [i for i in items if i["ordinal"] < current["ordinal"]]
        after = [i for i in items if i["ordinal"] > current["ordinal"]]
        return {"ok": True, "passage": current, "before": before, "after": after}

    @staticmethod
    def _passage_body(stored: dict, spans) -> dict:
        payload = stored["payload"]
        return {
            "id": stored["id"],
            "title": stored.get("title", ""),
            "section": stored.get("section", ""),
            "kind": stored["kind"],
            "ordinal": payload["ordinal"],
            "text": stored["text"],
            "highlights": [[s, e] for s, e in spans],
            "dates": payload["dates"],
            "municipalities": payload["municipalities"],
            "fields": payload["fields"],
            "document": payload["document"],
        }

    def health(self) -> dict:
        """Passage count and build time of the served index."""
        view = self._view()
        return {
            "ok": True,
            "passages": view.searcher.doc_count(),
            "documents": view.info.get("documents"),
            "built_at": view.info.get("built_at"),
            "generation": view.gen.name,
        }
