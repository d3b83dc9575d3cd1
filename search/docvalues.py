"""Per-passage values of one index generation as arrays: document order, date order, facets.

They are read from the index's columns once per process and generation (``search.api`` keeps
them) and shared by its threads (never changed after loading). Facet counts over any set of
matches are then array operations: one gather and one ``bincount`` for the four facets
together, however many passages matched.
"""

from __future__ import annotations

import numpy as np

from search.schema import facet_values

FACETS = ("municipality", "kind", "document", "year")


class _Facets:
    """Every facet value of every passage as one code: the facets' sorted values laid end to
    end, so one ``bincount`` counts them all. A passage's codes are flat in passage order, with
    each passage's start (a passage has one document and one kind, any number of
    municipalities and years)."""

    def __init__(self, per_facet: dict[str, list[list[str]]], count: int) -> None:
        self.names = tuple(per_facet)
        self.values: dict[str, list[str]] = {}
        self.bounds: dict[str, tuple[int, int]] = {}
        codes: dict[str, dict[str, int]] = {}
        size = 0
        for name, per_doc in per_facet.items():
            values = sorted({v for vs in per_doc for v in vs})
            self.values[name] = values
            self.bounds[name] = (size, size + len(values))
            codes[name] = {v: size + i for i, v in enumerate(values)}
            size += len(values)
        self.size = size
        self.edges = np.array([lo for lo, _ in self.bounds.values()] + [size])
        rows = [
            [codes[name][v] for name in self.names for v in per_facet[name][doc]] for doc in range(count)
        ]
        self.lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=count)
        self.starts = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        self.codes = np.fromiter(
            (c for r in rows for c in r), dtype=np.int32, count=int(self.lengths.sum())
        )
        self.everything = np.bincount(self.codes, minlength=size)

    def _counted(self, docs: np.ndarray) -> np.ndarray:
        lengths = self.lengths[docs]
        # The positions of every code of every passage in docs, gathered without a loop.
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if len(ends) else 0
        picked = np.repeat(self.starts[docs] - (ends - lengths), lengths) + np.arange(total)
        return np.bincount(self.codes[picked], minlength=self.size)

    def count(self, docs: np.ndarray, limits: dict[str, int]) -> dict[str, tuple[list[tuple[str, int]], int]]:
        if 2 * len(docs) > len(self.lengths):
            # Most passages matched: count those that did not, and take them from the total.
            unmatched = np.ones(len(self.lengths), dtype=bool)
            unmatched[docs] = False
            counted = self.everything - self._counted(np.flatnonzero(unmatched))
        else:
            counted = self._counted(docs)
        present = np.flatnonzero(counted)
        cuts = np.searchsorted(present, self.edges).tolist()
        out = {}
        for i, name in enumerate(self.names):
            mine = present[cuts[i] : cuts[i + 1]]
            # Codes follow the sorted values, so (-count, code) orders ties by value.
            top = mine[np.lexsort((mine, -counted[mine]))[: limits[name]]]
            values, lo = self.values[name], self.bounds[name][0]
            pairs = [(values[c - lo], n) for c, n in zip(top.tolist(), counted[top].tolist(), strict=True)]
            out[name] = (pairs, len(mine))
        return out


class DocValues:
    """Document order, date order and facet values of every passage of one generation."""

    def __init__(self, reader) -> None:
        count = reader.doc_count_all()
        # An index without passages has a reader without columns.
        self.order = self._numbers(reader, "order", count)
        self.date_sort = self._numbers(reader, "date_sort", count)
        rows = [facet_values(raw) for raw in reader.column_reader("facets")] if count else []
        self.facets = _Facets(
            {
                "municipality": [names for _, _, names, _ in rows],
                "kind": [[kind] for _, kind, _, _ in rows],
                "document": [[doc_id] for doc_id, _, _, _ in rows],
                "year": [years for _, _, _, years in rows],
            },
            len(rows),
        )

    @staticmethod
    def _numbers(reader, name: str, count: int) -> np.ndarray:
        if not count:
            return np.zeros(0, dtype=np.int64)
        return np.fromiter(reader.column_reader(name), dtype=np.int64, count=count)

    def count(self, docs: np.ndarray, limits: dict[str, int]) -> dict[str, tuple[list[tuple[str, int]], int]]:
        """Per facet: its ``limits[name]`` most frequent (value, count) pairs over the passages
        ``docs`` (ties by value) and how many distinct values there are."""
        return self.facets.count(docs, limits)


__all__ = ["FACETS", "DocValues"]
