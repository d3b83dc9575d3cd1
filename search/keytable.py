"""A hash table from int64 keys to int32 numbers, probed for a whole array of keys at once.

A rebuild numbers bigrams (by their two code points) and compound terms (by the numbers of
their parts) this way. A table starts as a Python dict (~100 ns a key in boxed ints and
cache misses); once it has been probed for ``COMPILED_AFTER`` keys, or once the process has
started the compiled loops for anything else, it moves to arrays probed by the compiled loops
of ``search.kernels`` (a few ns a key), so a small rebuild never pays numba's start (0.5-0.8 s
a process) and a large one does not wait long to.
"""

from __future__ import annotations

import sys
from itertools import repeat

import numpy as np

from search.vocab import Vocab

__all__ = ["KeyTable", "number_terms", "numba_started"]

COMPILED_AFTER = 500_000  # keys probed before a table moves to compiled probes


def numba_started() -> bool:
    """Whether this process has loaded the compiled loops already (their start is paid)."""
    return "search.kernels" in sys.modules


def number_terms(table: KeyTable, keys: np.ndarray, vocab: Vocab, spell) -> np.ndarray:
    """The numbers in ``vocab`` of the terms ``keys`` stand for: a key new to ``table`` takes
    the vocabulary's next number, and ``spell(new_keys)`` gives the new terms' strings, in
    order, for ``Vocab.numbered`` (no lookup: one string may then have two numbers, which a
    segment merges)."""
    first = len(vocab)
    numbers, new = table.number(keys, first)
    if len(new) and vocab.numbered(spell(new))[0] != first:
        raise RuntimeError("key numbers out of step with their vocabulary")
    return numbers


class KeyTable:
    """Numbers of non-negative int64 keys. Once compiled: open addressing with linear probing,
    at most half full; keys are never deleted, so a key is absent once its probe reaches a
    free slot.

    >>> for after in (10**12, 0):  # never compiled, compiled at once
    ...     t = KeyTable(compiled_after=after)
    ...     t.add(np.array([7, 1 << 40]), np.array([0, 1], dtype=np.int32))
    ...     print(t.find(np.array([1 << 40, 5, 7])).tolist(), t.size, t.compiled)
    [1, -1, 0] 2 False
    [1, -1, 0] 2 True
    """

    __slots__ = ("bits", "compiled_after", "keys", "numbers", "probed", "size", "values")

    def __init__(self, bits: int = 12, compiled_after: int | None = None) -> None:
        self.bits, self.size, self.probed = bits, 0, 0
        self.compiled_after = compiled_after  # None: COMPILED_AFTER, as it is when probed
        self.numbers: dict[int, int] | None = {}  # until compiled
        self.keys = self.values = np.empty(0, np.int64)

    @property
    def compiled(self) -> bool:
        return self.numbers is None

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The numbers of ``keys`` (int64), -1 for keys not in the table."""
        self._probed(len(keys))
        if self.numbers is not None:
            found = map(self.numbers.get, np.asarray(keys).tolist(), repeat(-1))
            return np.fromiter(found, np.int32, count=len(keys))
        from search.kernels import table_find  # (a rebuild's only: numba is slow to import)

        return table_find(self.keys, self.values, self.bits, np.ascontiguousarray(keys, dtype=np.int64))

    def number(self, keys: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
        """The numbers of ``keys`` (int64), numbering those not in the table ``first``,
        ``first + 1``, … in order of first sight; returns them and the keys numbered now.

        >>> for after in (10**12, 0):  # never compiled, compiled at once
        ...     t = KeyTable(compiled_after=after)
        ...     t.add(np.array([7]), np.array([0], dtype=np.int32))
        ...     numbers, new = t.number(np.array([9, 7, 9, 4]), 1)
        ...     print(numbers.tolist(), new.tolist(), t.find(np.array([4, 9])).tolist(), t.size)
        [1, 0, 1, 2] [9, 4] [2, 1] 3
        [1, 0, 1, 2] [9, 4] [2, 1] 3
        """
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if len(keys) and keys.min() < 0:
            raise ValueError("KeyTable: keys must not be negative")
        self._probed(len(keys))
        if self.numbers is not None:
            table, new, listed = self.numbers, [], keys.tolist()
            numbers = list(map(table.get, listed))  # one C loop; then only the missing ones
            if None in numbers:
                for i, value in enumerate(numbers):
                    if value is None:
                        value = numbers[i] = table.get(listed[i])
                        if value is None:  # not even numbered earlier in this call
                            value = numbers[i] = table[listed[i]] = first + len(new)
                            new.append(listed[i])
            self.size = len(table)
            return np.array(numbers, dtype=np.int32), np.array(new, dtype=np.int64)
        if 2 * (self.size + len(keys)) > len(self.keys):
            self._grow(len(keys))
        from search.kernels import table_number

        numbers, new = table_number(self.keys, self.values, self.bits, keys, first)
        self.size += len(new)
        return numbers, new

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert distinct ``keys`` that are not in the table yet."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if len(keys) and keys.min() < 0:
            raise ValueError("KeyTable: keys must not be negative")
        values = np.ascontiguousarray(values, dtype=np.int32)
        if self.numbers is not None:
            self.numbers.update(zip(keys.tolist(), values.tolist(), strict=True))
            self.size = len(self.numbers)
            return
        if 2 * (self.size + len(keys)) > len(self.keys):
            self._grow(len(keys))
        from search.kernels import table_add

        self.size += table_add(self.keys, self.values, self.bits, keys, values)

    def _probed(self, count: int) -> None:
        self.probed += count
        if self.numbers is None:
            return
        if self.compiled_after is None:  # the default: at once if another table went first
            if self.probed >= COMPILED_AFTER or numba_started():
                self._compile()
        elif self.probed >= self.compiled_after:
            self._compile()

    def _compile(self) -> None:
        held, self.numbers = self.numbers, None
        self.size = 0
        self._grow(len(held))
        self.add(
            np.fromiter(held, np.int64, count=len(held)),
            np.fromiter(held.values(), np.int32, count=len(held)),
        )

    def _grow(self, more: int) -> None:
        used = self.keys != -1
        old_keys, old_values = self.keys[used], self.values[used]
        bits = self.bits
        while 2 * (len(old_keys) + more) > 1 << bits:
            bits += 1
        self.bits, self.size = bits, 0
        self.keys = np.full(1 << bits, -1, np.int64)  # -1: free
        self.values = np.zeros(len(self.keys), np.int32)
        if len(old_keys):
            self.add(old_keys, old_values)
