"""A hash table from int64 keys to int32 numbers, probed for a whole array of keys at once.

A rebuild numbers bigrams (by their two code points) and compound terms (by the numbers of
their parts) this way: a Python dict costs ~100 ns a key in boxed ints and cache misses,
this 25-50 ns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KeyTable"]

_WIDE = 8  # slots a probe round takes after the first (8 bools read as one uint64)
_SPILL = 64  # slots past the hash range, the last _WIDE always free


class KeyTable:
    """Numbers of keys: open addressing with linear probing, at most half full, probed
    for a whole array of keys at once (a dict costs ~100 ns a token in boxed ints and cache
    misses). Keys are never deleted, so a key is absent once its probe reaches a free slot.
    Probes run on past the last hash slot instead of wrapping, into a spill area whose last
    _WIDE slots stay free, so every window of _WIDE slots a probe can reach is one row of
    a strided view.

    >>> t = KeyTable()
    >>> t.add(np.array([7, 1 << 40]), np.array([0, 1], dtype=np.int32))
    >>> t.find(np.array([1 << 40, 5, 7])).tolist()
    [1, -1, 0]
    """

    __slots__ = ("bits", "keys", "size", "values", "windows")

    def __init__(self, bits: int = 12) -> None:
        self.bits, self.size = bits, 0
        self.keys = np.full((1 << bits) + _SPILL, -1, np.int64)  # -1: free
        self.values = np.zeros(len(self.keys), np.int32)
        self.windows = np.lib.stride_tricks.sliding_window_view(self.keys, _WIDE)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # Fibonacci hashing: the top bits of key * 2**64 / golden ratio (wrapping).
        return ((keys.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - self.bits)).astype(
            np.intp
        )

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The numbers of ``keys`` (int64), -1 for keys not in the table."""
        slots = self._slots(keys)
        found = self.keys[slots]
        out = np.where(found == keys, self.values[slots], np.int32(-1))
        # The keys not in their own slot (a fifth or so) go on _WIDE slots a round: probe
        # sequences run to a dozen slots, and a round of calls costs more than a wider row.
        todo = np.flatnonzero((found != keys) & (found != -1))
        starts = slots[todo] + 1
        while len(todo):
            found = self.windows[starts]
            hits = np.flatnonzero(found.ravel() == np.repeat(keys[todo], _WIDE))
            rows = hits // _WIDE
            out[todo[rows]] = self.values[starts[rows] + hits % _WIDE]
            going = (found == -1).view(np.uint64).ravel() == 0  # 8 bools as one word: none free
            going[rows] = False
            todo, starts = todo[going], starts[going] + _WIDE
        return out

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert distinct ``keys`` that are not in the table yet."""
        if 2 * (self.size + len(keys)) > 1 << self.bits:
            self._grow(len(keys))
        todo, starts = np.arange(len(keys)), self._slots(keys)
        while len(todo):
            free = self.windows[starts] == -1
            some = free.view(np.uint64).ravel() != 0
            target = starts + free.argmax(axis=1)
            if target[some].max(initial=0) >= len(self.keys) - _WIDE:  # into the guard: grow
                self._grow(len(todo))
                starts = self._slots(keys[todo])
                continue
            self.keys[target[some]] = keys[todo[some]]  # keys claiming one slot: the last wins
            won = some.copy()
            won[some] = self.keys[target[some]] == keys[todo[some]]
            self.values[target[won]] = values[todo[won]]
            self.size += int(won.sum())
            # A loser looks again from the same start; a full window moves the start on.
            todo, starts = todo[~won], np.where(some, starts, starts + _WIDE)[~won]

    def _grow(self, more: int) -> None:
        used = self.keys != -1
        old_keys, old_values = self.keys[used], self.values[used]
        bits = self.bits + 1
        while 2 * (len(old_keys) + more) > 1 << bits:
            bits += 1
        self.__init__(bits)
        self.add(old_keys, old_values)
