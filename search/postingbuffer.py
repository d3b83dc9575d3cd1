"""A segment's postings collected as flat token arrays and sorted with numpy.

Whoosh's writer turns each document's terms into pickled posting values, pools them as
Python tuples, sorts the pool (spilling runs to disk) and encodes blocks a posting at a
time, which made a rebuild cost ~10 ms a passage. Here a field's tokens are appended to
typed arrays as term numbers; when the segment is written, one stable sort by term orders
every token (documents were added in order, and a document's tokens keep the analyzer's
order), and postings, weights and occurrence arrays fall out of whole-array operations.
The result is the same :mod:`search.segarrays` file Whoosh's writer produced.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

__all__ = ["FieldBuffer", "SortedField"]


@dataclass
class SortedField:
    """One field's postings in the order of :mod:`search.segarrays`."""

    name: str
    values: str  # "characters", "positions" or "" (see segarrays.ArrayWriter.start_field)
    terms: list[bytes]  # ascending
    post_starts: np.ndarray  # per term + 1, local to the field
    docs: np.ndarray
    weights: np.ndarray
    position_counts: np.ndarray
    positions: np.ndarray
    char_starts: np.ndarray
    char_lengths: np.ndarray

    def position_starts(self) -> np.ndarray:
        """Per term + 1: the index of its first occurrence, local to the field."""
        firsts = np.concatenate(([0], np.cumsum(self.position_counts, dtype=np.int64)))
        return firsts[self.post_starts]


class FieldBuffer:
    """The postings of one field while a segment is written.

    Positional fields take tokens (:meth:`add_tokens`); others take whole postings
    (:meth:`add_postings`), as Whoosh's field formats give them.

    >>> buf = FieldBuffer("f", "characters", boost=2.0)
    >>> buf.add_tokens(0, ["b", "a", "b"], [0, 1, 2], [0, 2, 4], [1, 3, 5])
    >>> buf.add_tokens(1, ["a"], [0], [0], [1])
    >>> f = buf.sort()
    >>> f.terms, f.post_starts.tolist(), f.docs.tolist(), f.weights.tolist(), f.positions.tolist()
    ([b'a', b'b'], [0, 2, 3], [0, 1, 0], [2.0, 2.0, 4.0], [1, 0, 0, 2])
    """

    def __init__(self, name: str, values: str, boost: float = 1.0) -> None:
        self.name, self.values, self.boost = name, values, boost
        self.ids: dict = {}
        self.terms = array("i")
        self.docs = array("i")
        self.positions = array("i")
        self.starts = array("i")
        self.ends = array("i")
        self.weights = array("f")  # per posting, for fields without positions

    def __len__(self) -> int:
        return len(self.terms)

    def _numbers(self, terms: list) -> list:
        ids = self.ids
        numbers = list(map(ids.get, terms))
        if None in numbers:  # new terms; most of a document's terms are not
            for i, n in enumerate(numbers):
                if n is None:
                    term = terms[i]
                    n = ids.get(term)
                    if n is None:
                        n = ids[term] = len(ids)
                    numbers[i] = n
        return numbers

    def add_tokens(
        self, doc: int, terms: list[str], positions: list[int], starts: list[int], ends: list[int]
    ) -> None:
        """One document's tokens, in the analyzer's order; starts/ends -1 without offsets."""
        n = len(terms)
        if not n:
            return
        self.terms.extend(self._numbers(terms))
        self.docs.extend(array("i", [doc]) * n)
        self.positions.extend(positions)
        self.starts.extend(starts)
        self.ends.extend(ends)

    def add_postings(self, doc: int, postings: list[tuple[bytes, float]]) -> None:
        """One document's (term bytes, weight) postings in a field without positions."""
        if not postings:
            return
        self.terms.extend(self._numbers([t for t, _ in postings]))
        self.docs.extend(array("i", [doc]) * len(postings))
        self.weights.extend([w for _, w in postings])

    def sort(self) -> SortedField:
        vocabulary = list(self.ids)
        encoded = [t.encode("utf-8") if isinstance(t, str) else t for t in vocabulary]
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        rank = np.empty(len(order), dtype=np.int32)
        rank[np.array(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int32)
        ranks = rank[np.frombuffer(self.terms, dtype=np.int32)] if len(self.terms) else np.empty(0, np.int32)
        # Stable: documents were added in ascending order, a document's tokens in order.
        perm = np.argsort(ranks, kind="stable")
        r = ranks[perm]
        d = np.frombuffer(self.docs, dtype=np.int32)[perm]
        n = len(r)
        new = np.ones(n, dtype=bool)
        if n:
            new[1:] = (r[1:] != r[:-1]) | (d[1:] != d[:-1])
        firsts = np.flatnonzero(new)
        counts = np.diff(np.append(firsts, n))
        post_starts = np.searchsorted(r[firsts], np.arange(len(order) + 1)).astype(np.int64)
        terms = [encoded[i] for i in order]
        if not self.values:
            return SortedField(
                self.name,
                "",
                terms,
                post_starts,
                d[firsts],
                np.frombuffer(self.weights, dtype=np.float32)[perm][firsts],
                np.zeros(len(firsts), dtype=np.uint32),
                np.empty(0, np.int32),
                np.empty(0, np.int32),
                np.empty(0, np.uint16),
            )
        starts = np.frombuffer(self.starts, dtype=np.int32)[perm]
        ends = np.frombuffer(self.ends, dtype=np.int32)[perm]
        return SortedField(
            self.name,
            self.values,
            terms,
            post_starts,
            d[firsts],
            (counts * self.boost).astype(np.float32),
            counts.astype(np.uint32),
            np.frombuffer(self.positions, dtype=np.int32)[perm],
            starts,
            np.clip(ends.astype(np.int64) - starts, 0, 0xFFFF).astype(np.uint16),
        )
