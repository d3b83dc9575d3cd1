"""Terms numbered once per process, so a rebuild moves term numbers, not strings.

A rebuild's batch analysis (``search.batchterms``) gives each token as a number in one of
these vocabularies; a segment's field buffer turns the numbers it holds back into terms
only once, when the segment is written. Numbers are stable for the life of the process.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["Vocab"]


class Vocab:
    """Strings (or byte strings) numbered in order of first sight (or, by :meth:`numbered`,
    as they come).

    >>> v = Vocab()
    >>> v.ids_of(["b", "a", "b"]).tolist(), v.id("a"), v.strings
    ([0, 1, 0], 1, ['b', 'a'])
    """

    __slots__ = ("ids", "strings")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []

    def __len__(self) -> int:
        return len(self.strings)

    def id(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.strings)
            self.strings.append(term)
        return found

    def numbered(self, terms: list[str]) -> np.ndarray:
        """New numbers for ``terms`` (int32), without looking them up: a string numbered
        before, or twice here, then has two numbers. For terms made faster than a lookup
        costs (compounds, numbered by their parts); a segment merges a string's numbers.

        >>> v = Vocab()
        >>> v.ids_of(["a"]).tolist(), v.numbered(["ab", "a"]).tolist(), v.strings
        ([0], [1, 2], ['a', 'ab', 'a'])
        >>> v.id("ab"), v.id("a")
        (3, 0)
        """
        first = len(self.strings)
        self.strings.extend(terms)
        return np.arange(first, len(self.strings), dtype=np.int32)

    def ids_of(self, terms: Iterable[str]) -> np.ndarray:
        """The numbers of ``terms`` (int32), numbering the new ones."""
        terms = list(terms)
        ids = self.ids
        for term in [t for t in dict.fromkeys(terms) if t not in ids]:  # in order of first sight
            ids[term] = len(self.strings)
            self.strings.append(term)
        return np.fromiter(map(ids.__getitem__, terms), dtype=np.int32, count=len(terms))
