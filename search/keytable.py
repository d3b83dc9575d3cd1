"""A hash table from int64 keys to int32 numbers, probed for a whole array of keys at once.

A rebuild numbers bigrams (by their two code points) and compound terms (by the numbers of
their parts) this way: a Python dict costs ~100 ns a key in boxed ints and cache misses;
the compiled probes of ``search.kernels`` a few ns.
"""

from __future__ import annotations

import numpy as np

from search.kernels import table_add, table_find

__all__ = ["KeyTable"]


class KeyTable:
    """Numbers of non-negative int64 keys: open addressing with linear probing, at most
    half full. Keys are never deleted, so a key is absent once its probe reaches a free slot.

    >>> t = KeyTable()
    >>> t.add(np.array([7, 1 << 40]), np.array([0, 1], dtype=np.int32))
    >>> t.find(np.array([1 << 40, 5, 7])).tolist()
    [1, -1, 0]
    """

    __slots__ = ("bits", "keys", "size", "values")

    def __init__(self, bits: int = 12) -> None:
        self.bits, self.size = bits, 0
        self.keys = np.full(1 << bits, -1, np.int64)  # -1: free
        self.values = np.zeros(len(self.keys), np.int32)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The numbers of ``keys`` (int64), -1 for keys not in the table."""
        return table_find(self.keys, self.values, self.bits, np.ascontiguousarray(keys, dtype=np.int64))

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert distinct ``keys`` that are not in the table yet."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if len(keys) and keys.min() < 0:
            raise ValueError("KeyTable: keys must not be negative")
        if 2 * (self.size + len(keys)) > len(self.keys):
            self._grow(len(keys))
        values = np.ascontiguousarray(values, dtype=np.int32)
        self.size += table_add(self.keys, self.values, self.bits, keys, values)

    def _grow(self, more: int) -> None:
        used = self.keys != -1
        old_keys, old_values = self.keys[used], self.values[used]
        bits = self.bits + 1
        while 2 * (len(old_keys) + more) > 1 << bits:
            bits += 1
        self.__init__(bits)
        self.add(old_keys, old_values)
