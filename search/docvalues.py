"""Per-passage values of one index generation as arrays: document order, date order, facets.

They are read from the index's columns once per process and generation (``search.api`` keeps
them) and shared by its threads (never changed after loading). Facet counts over any set of
matches are then array operations: one ``bincount`` per facet, however many passages matched.
"""

from __future__ import annotations

import numpy as np

from search.schema import facet_values

FACETS = ("municipality", "kind", "document", "year")


class _Facet:
    """One facet's value codes per passage, flat in passage order with each passage's start
    (a passage may have several values, or none)."""

    def __init__(self, per_doc: list[list[str]]) -> None:
        self.values: list[str] = sorted({v for vs in per_doc for v in vs})
        code = {v: i for i, v in enumerate(self.values)}
        self.lengths = np.fromiter((len(vs) for vs in per_doc), dtype=np.int64, count=len(per_doc))
        self.starts = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        flat = (code[v] for vs in per_doc for v in vs)
        self.codes = np.fromiter(flat, dtype=np.int64, count=int(self.lengths.sum()))
        # One value per passage (document, kind): its code is found by the passage's number.
        self.single = bool((self.lengths == 1).all())

    def counts(self, docs: np.ndarray, limit: int) -> tuple[list[tuple[str, int]], int]:
        """The ``limit`` most frequent values among the passages ``docs`` (ties by value) and
        the number of distinct values they have."""
        if self.single:
            picked = docs
        else:
            lengths = self.lengths[docs]
            # The positions of every value of every passage in docs, gathered without a loop.
            ends = np.cumsum(lengths)
            total = int(ends[-1]) if len(ends) else 0
            picked = np.repeat(self.starts[docs] - (ends - lengths), lengths) + np.arange(total)
        counted = np.bincount(self.codes[picked], minlength=len(self.values))
        present = np.flatnonzero(counted)
        if len(present) > limit:
            # Codes follow the sorted values, so (-count, code) orders ties by value.
            present = present[np.lexsort((present, -counted[present]))[:limit]]
        pairs = sorted(((self.values[i], int(counted[i])) for i in present), key=lambda p: (-p[1], p[0]))
        return pairs, int(np.count_nonzero(counted))


class DocValues:
    """Document order, date order and facet values of every passage of one generation."""

    def __init__(self, reader) -> None:
        count = reader.doc_count_all()
        # An index without passages has a reader without columns.
        self.order = self._numbers(reader, "order", count)
        self.date_sort = self._numbers(reader, "date_sort", count)
        rows = [facet_values(raw) for raw in reader.column_reader("facets")] if count else []
        self.facets = {
            "document": _Facet([[doc_id] for doc_id, _, _, _ in rows]),
            "kind": _Facet([[kind] for _, kind, _, _ in rows]),
            "municipality": _Facet([names for _, _, names, _ in rows]),
            "year": _Facet([years for _, _, _, years in rows]),
        }

    @staticmethod
    def _numbers(reader, name: str, count: int) -> np.ndarray:
        if not count:
            return np.zeros(0, dtype=np.int64)
        return np.fromiter(reader.column_reader(name), dtype=np.int64, count=count)

    def count(self, docs: np.ndarray, limits: dict[str, int]) -> dict[str, tuple[list[tuple[str, int]], int]]:
        """Per facet: its ``limits[name]`` most frequent (value, count) pairs over the passages
        ``docs`` and how many distinct values there are."""
        return {name: self.facets[name].counts(docs, limits[name]) for name in FACETS}


__all__ = ["FACETS", "DocValues"]
