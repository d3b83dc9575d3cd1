"""Compiled loops for a rebuild, where numpy needs several passes over memory for one idea.

A counting sort and a hash table's probes are one loop each in compiled code, but numpy
has to express them as sorts, masks and gathers: a stable sort of a segment's tokens by
term was its largest step after MeCab. These loops are compiled by numba the first time a
process calls them, and cached beside this file, so a later process loads them in
milliseconds; only a rebuild imports this module, never a search.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["counting_order", "table_add", "table_find", "table_number"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def counting_order(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The stable order of ``keys`` (non-negative ints below ``size``) and how many of each.

    >>> order, tally = counting_order(np.array([2, 0, 2, 1, 0], np.int32), 3)
    >>> order.tolist(), tally.tolist()
    ([1, 4, 3, 0, 2], [2, 1, 2])
    """
    keys = np.ascontiguousarray(keys, dtype=np.int32)
    if len(keys) and (keys.min() < 0 or keys.max() >= size):
        raise ValueError("counting_order: a key is out of range")
    return _counting_order(keys, size)


@numba.njit(cache=True, nogil=True)
def _counting_order(keys, size):
    tally = np.zeros(size, np.int64)
    for k in keys:
        tally[k] += 1
    nxt = np.empty(size, np.int64)
    total = 0
    for k in range(size):
        nxt[k] = total
        total += tally[k]
    order = np.empty(len(keys), np.intp)
    for i in range(len(keys)):
        k = keys[i]
        order[nxt[k]] = i
        nxt[k] += 1
    return order, tally


@numba.njit(cache=True, nogil=True)
def _slot(key, bits):
    # Fibonacci hashing: the top bits of key * 2**64 / golden ratio (wrapping).
    return np.intp((np.uint64(key) * _GOLDEN) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True)
def _probe(slots, bits, key):
    # The slot holding ``key``, or the free one where it would go: probes go on linearly
    # and wrap; the table is at most half full, so a probe ends.
    mask = len(slots) - 1
    s = _slot(key, bits)
    while slots[s] != -1 and slots[s] != key:
        s = (s + 1) & mask
    return s


@numba.njit(cache=True, nogil=True)
def table_find(slots, values, bits, keys):
    """The values of ``keys`` in an open-addressing table (``slots``: -1 for free), -1 for
    keys it does not hold."""
    out = np.empty(len(keys), np.int32)
    for i in range(len(keys)):
        s = _probe(slots, bits, keys[i])
        out[i] = values[s] if slots[s] == keys[i] else -1
    return out


@numba.njit(cache=True, nogil=True)
def table_add(slots, values, bits, keys, numbers):
    """Insert ``keys`` (absent from the table) with ``numbers``; a key given twice keeps its
    first number. Returns how many keys were inserted. The caller leaves room for them all."""
    added = 0
    for i in range(len(keys)):
        s = _probe(slots, bits, keys[i])
        if slots[s] == -1:
            slots[s] = keys[i]
            values[s] = numbers[i]
            added += 1
    return added


@numba.njit(cache=True, nogil=True)
def table_number(slots, values, bits, keys, first):
    """The values of ``keys``, a key the table lacks taking the next number from ``first``
    (in order of first sight) and going in; returns them and the keys that went in. The
    caller leaves room for every key."""
    out = np.empty(len(keys), np.int32)
    new = np.empty(len(keys), np.int64)
    added = 0
    for i in range(len(keys)):
        s = _probe(slots, bits, keys[i])
        if slots[s] == -1:
            slots[s] = keys[i]
            values[s] = first + added
            new[added] = keys[i]
            added += 1
        out[i] = values[s]
    return out, new[:added].copy()
