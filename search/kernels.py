"""Compiled loops for a rebuild, where numpy needs several passes over memory for one idea.

A counting sort and a hash table's probes are one loop each in compiled code, but numpy
has to express them as sorts, masks and gathers: a stable sort of a segment's tokens by
term was its largest step after MeCab. These loops are compiled by numba the first time a
process calls them, and cached beside this file, so a later process loads them in
milliseconds; only a rebuild imports this module, never a search.
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _numba_without_scipy() -> None:
    """Load numba's array functions with scipy out of sight. The first compile or cache
    load in a process loads them, and they import ``scipy.linalg`` (0.25 s of a build
    worker's start, where scipy is installed) only to learn whether ``np.dot`` has a BLAS;
    these loops use no linear algebra."""
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # an import of it now fails at once
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg"]


_numba_without_scipy()

__all__ = [
    "best_path",
    "byte_order",
    "compound_spans",
    "counting_order",
    "gather_bytes",
    "sorted_tokens",
    "table_add",
    "table_find",
    "table_number",
]

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
def _tally(keys, size):
    # How many of each key, and where the first of each goes in key order.
    tally = np.zeros(size, np.int64)
    for k in keys:
        tally[k] += 1
    nxt = np.empty(size, np.int64)
    total = 0
    for k in range(size):
        nxt[k] = total
        total += tally[k]
    return tally, nxt


@numba.njit(cache=True, nogil=True)
def _counting_order(keys, size):
    tally, nxt = _tally(keys, size)
    order = np.empty(len(keys), np.intp)
    for i in range(len(keys)):
        k = keys[i]
        order[nxt[k]] = i
        nxt[k] += 1
    return order, tally


def compound_spans(
    text_of: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    joinable: np.ndarray,
    max_parts: int,
    texts: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tokens morphemes make with up to ``max_parts`` parts (``batchterms.TextBatch._spans``
    in one pass instead of numpy's twenty): morpheme i starts a token of 1, 2, … parts along
    its run of ``joinable`` morphemes that touch (same text, one's end the next one's start).
    Gives each token's first morpheme, its extra parts, its position (the first morpheme's
    place in its text), its characters, and the tokens per text.

    >>> text_of = np.array([0, 0, 0, 1]); starts = np.array([0, 2, 5, 0]); ends = np.array([2, 5, 6, 3])
    >>> joinable = np.array([True, True, False, True])
    >>> [a.tolist() for a in compound_spans(text_of, starts, ends, joinable, 3, 2)]
    [[0, 0, 1, 2, 3], [0, 1, 0, 0, 0], [0, 0, 1, 2, 0], [0, 0, 2, 5, 0], [2, 5, 5, 6, 3], [4, 1]]
    """
    return _compound_spans(
        np.ascontiguousarray(text_of, dtype=np.int64),
        np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(ends, dtype=np.int64),
        np.ascontiguousarray(joinable, dtype=np.bool_),
        max_parts,
        texts,
    )


@numba.njit(cache=True, nogil=True)
def _compound_spans(text_of, starts, ends, joinable, max_parts, texts):
    n = len(text_of)
    run_end = np.empty(n, np.int64)  # past the last morpheme of i's run
    total = 0
    for i in range(n - 1, -1, -1):
        if (
            i < n - 1
            and max_parts > 1
            and joinable[i]
            and joinable[i + 1]
            and text_of[i] == text_of[i + 1]
            and ends[i] == starts[i + 1]
        ):
            run_end[i] = run_end[i + 1]
        else:
            run_end[i] = i + 1
        total += min(run_end[i] - i, max_parts)
    first = np.empty(total, np.int64)
    extra = np.empty(total, np.int64)
    positions = np.empty(total, np.int32)
    token_starts = np.empty(total, np.int32)
    token_ends = np.empty(total, np.int32)
    count = np.zeros(texts, np.int64)
    k = 0
    position = 0
    for i in range(n):
        if i and text_of[i] != text_of[i - 1]:
            position = 0
        for e in range(min(run_end[i] - i, max_parts)):
            first[k] = i
            extra[k] = e
            positions[k] = position
            token_starts[k] = starts[i]
            token_ends[k] = ends[i + e]
            k += 1
        count[text_of[i]] += min(run_end[i] - i, max_parts)
        position += 1
    return first, extra, positions, token_starts, token_ends, count


def sorted_tokens(
    keys: np.ndarray,
    size: int,
    docs: np.ndarray,
    positions: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """A field's tokens (``keys``: term ranks below ``size``; ``docs`` ascending) in term
    order: per term + 1 the index of its first posting, per posting its document and how
    many of the term's tokens it holds, and the tokens' positions and characters in that
    order. Each token is written to its place as it is read (a counting sort; writes to
    scattered places cost less than reads from them), with no order array to gather by.

    >>> keys = np.array([2, 0, 2, 1, 0], np.int32); docs = np.array([5, 5, 6, 5, 5], np.int32)
    >>> out = sorted_tokens(keys, 3, docs, np.arange(5, dtype=np.int32), keys * 10, keys.astype(np.uint8))
    >>> [a.tolist() for a in out]
    [[0, 1, 2, 4], [5, 5, 5, 6], [2, 1, 1, 1], [1, 4, 3, 0, 2], [0, 0, 10, 20, 20], [0, 0, 1, 2, 2]]
    """
    keys = np.ascontiguousarray(keys, dtype=np.int32)
    if len(keys) and (keys.min() < 0 or keys.max() >= size):
        raise ValueError("sorted_tokens: a key is out of range")
    return _sorted_tokens(keys, size, docs, positions, starts, lengths)


@numba.njit(cache=True, nogil=True)
def _sorted_tokens(keys, size, docs, positions, starts, lengths):
    n = len(keys)
    tally, nxt = _tally(keys, size)
    sorted_docs = np.empty(n, docs.dtype)
    sorted_positions = np.empty(n, positions.dtype)
    sorted_starts = np.empty(n, starts.dtype)
    sorted_lengths = np.empty(n, lengths.dtype)
    for i in range(n):
        k = keys[i]
        at = nxt[k]
        nxt[k] = at + 1
        sorted_docs[at] = docs[i]
        sorted_positions[at] = positions[i]
        sorted_starts[at] = starts[i]
        sorted_lengths[at] = lengths[i]
    post_starts = np.empty(size + 1, np.int64)
    # At most a posting a token: the pages past the last posting are never touched.
    out_docs = np.empty(n, docs.dtype)
    counts = np.empty(n, np.int32)
    p = 0
    i = 0
    for k in range(size):
        post_starts[k] = p
        end = i + tally[k]
        last = -1
        while i < end:
            doc = np.int64(sorted_docs[i])
            if doc != last:
                out_docs[p] = sorted_docs[i]
                counts[p] = 1
                p += 1
                last = doc
            else:
                counts[p - 1] += 1
            i += 1
    post_starts[size] = p
    return post_starts, out_docs[:p], counts[:p], sorted_positions, sorted_starts, sorted_lengths


def gather_bytes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, total: int) -> np.ndarray:
    """The bytes ``data[starts[i]:ends[i]]`` one after the other (``total`` of them in all).

    >>> data = np.frombuffer(b"xabcy", np.uint8)
    >>> gather_bytes(data, np.array([3, 1, 0]), np.array([4, 3, 0]), 3).tobytes()
    b'cab'
    """
    out = np.empty(total, np.uint8)
    if total != _gather_bytes(data, starts.astype(np.int64), ends.astype(np.int64), out):
        raise ValueError("gather_bytes: total is not the sum of the lengths")
    return out


@numba.njit(cache=True, nogil=True)
def _gather_bytes(data, starts, ends, out):
    p = 0
    for i in range(len(starts)):
        a = starts[i]
        b = ends[i]
        if p + (b - a) > len(out):
            return -1
        for j in range(a, b):
            out[p] = data[j]
            p += 1
    return p


def byte_order(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The byte order of the strings ``data[starts[i]:ends[i]]`` (``data``: uint8), and per
    place in it whether the string there differs from the one before (the first of a run
    of equal strings).

    numpy sorts the strings' first 8 bytes as one big-endian int each; a run of equal
    prefixes is then sorted on its next 8 bytes, and so on, and a run of 16 or fewer by
    comparing the rest (``_settle``). A segment's terms were sorted as a fixed-width bytes
    array, every one padded to the longest: 1.2-1.5 s for 465k readings.

    >>> blob = b"bab" + b"a" + b"a\\x00" + b"abcdefghij" + b"abcdefghi" + b"a"
    >>> data = np.frombuffer(blob, np.uint8)
    >>> ends = np.cumsum([3, 1, 2, 10, 9, 1]); starts = ends - [3, 1, 2, 10, 9, 1]
    >>> order, new = byte_order(data, starts, ends)
    >>> [blob[starts[i]:ends[i]] for i in order], new.tolist()
    ([b'a', b'a', b'a\\x00', b'abcdefghi', b'abcdefghij', b'bab'], [True, False, True, True, True, True])
    """
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    keys = _prefix_keys(data, starts, ends)
    order = np.argsort(keys)  # (numpy's sort of ints is faster than numba's)
    return order, _settle(data, starts, ends, order, keys[order])


@numba.njit(cache=True, nogil=True)
def _prefix_keys(data, starts, ends):
    keys = np.empty(len(starts), np.uint64)
    for i in range(len(starts)):
        keys[i] = _key_at(data, starts[i], ends[i], 0)
    return keys


@numba.njit(cache=True, nogil=True)
def _key_at(data, start, end, offset):
    # 8 bytes from ``offset`` as one big-endian int. Bytes past the end count as 0, below
    # any byte but NUL: a tie that padding makes ("a" and "a" + NUL) is settled by length.
    key = np.uint64(0)
    at = start + offset
    for j in range(8):
        key = key << np.uint64(8)
        if at + j < end:
            key |= np.uint64(data[at + j])
    return key


@numba.njit(cache=True, nogil=True)
def _compare(data, starts, ends, x, y, offset):
    # Strings x and y whose first ``offset`` bytes are equal (as padded keys), from there on.
    a, b = starts[x] + offset, starts[y] + offset
    while a < ends[x] and b < ends[y]:
        if data[a] != data[b]:
            return -1 if data[a] < data[b] else 1
        a += 1
        b += 1
    left, right = ends[x] - a, ends[y] - b  # (negative when shorter than offset: still less)
    return -1 if left < right else (1 if left > right else 0)


_SMALL_RUN = 16  # a run of equal keys this short is insertion-sorted by comparing bytes


@numba.njit(cache=True, nogil=True)
def _settle(data, starts, ends, order, keys):
    # Runs of equal 8-byte keys are sorted on the next 8 bytes, and so on (a radix sort by
    # 8-byte digits, most significant first); short runs by comparing the rest. The runs
    # waiting are disjoint, of two or more strings each: a stack of n // 2 holds them (an
    # array, not a list of tuples). The sorts are written out: numba's own np.argsort took
    # seconds to compile, paid by the first rebuild of an install.
    n = len(order)
    new = np.ones(n, np.bool_)
    spare = np.empty(n, order.dtype)  # (for the merges of a run's sort)
    spare_keys = np.empty(n, np.uint64)
    sub_keys = np.empty(n, np.uint64)
    stack = np.empty((n // 2 + 1, 3), np.int64)  # lo, hi, offset
    top = _push_runs(stack, 0, keys, 0, n, 0)
    while top:
        top -= 1
        lo, hi, offset = stack[top, 0], stack[top, 1], stack[top, 2] + 8
        if hi - lo <= _SMALL_RUN:
            for k in range(lo + 1, hi):
                v, m = order[k], k
                while m > lo and _compare(data, starts, ends, v, order[m - 1], offset) < 0:
                    order[m] = order[m - 1]
                    m -= 1
                order[m] = v
            for k in range(lo + 1, hi):
                new[k] = _compare(data, starts, ends, order[k - 1], order[k], offset) != 0
            continue
        members = order[lo:hi]  # (sorted in place)
        sub = sub_keys[: hi - lo]
        ended = True
        for k in range(hi - lo):
            ended &= ends[members[k]] - starts[members[k]] <= offset
        for k in range(hi - lo):  # no byte left to tell them apart: equal strings, or NUL-padded
            m = members[k]
            if ended:  # (one type per branch: int64 and uint64 would meet as float64)
                sub[k] = np.uint64(ends[m] - starts[m])
            else:
                sub[k] = _key_at(data, starts[m], ends[m], offset)
        _sort_by_key(sub, members, spare[lo:hi], spare_keys[: hi - lo])
        for k in range(lo + 1, hi):
            new[k] = sub[k - lo] != sub[k - lo - 1]
        if not ended:
            top = _push_runs(stack, top, sub, lo, hi, offset)
    return new


@numba.njit(cache=True, nogil=True)
def _sort_by_key(keys, values, spare_values, spare_keys):
    # A stable merge sort of keys and values together, in place, from insertion-sorted
    # blocks of 16; each pass merges into the spares and copies back (arrays swapped
    # between passes made numba compile for seconds).
    n = len(keys)
    width = 16
    for a in range(0, n, width):
        for k in range(a + 1, min(a + width, n)):
            key = keys[k]
            value = values[k]
            m = k
            while m > a and keys[m - 1] > key:
                keys[m] = keys[m - 1]
                values[m] = values[m - 1]
                m -= 1
            keys[m] = key
            values[m] = value
    while width < n:
        for a in range(0, n, 2 * width):
            mid = min(a + width, n)
            b = min(a + 2 * width, n)
            p = a
            q = mid
            for k in range(a, b):
                if q >= b or (p < mid and keys[p] <= keys[q]):
                    spare_keys[k] = keys[p]
                    spare_values[k] = values[p]
                    p += 1
                else:
                    spare_keys[k] = keys[q]
                    spare_values[k] = values[q]
                    q += 1
        for k in range(n):
            keys[k] = spare_keys[k]
            values[k] = spare_values[k]
        width *= 2


@numba.njit(cache=True, nogil=True)
def _push_runs(stack, top, keys, lo, hi, offset):
    # The runs of equal keys (sorted, keys[0] at lo) onto the stack; returns its new top.
    i = lo
    while i < hi:
        j = i + 1
        while j < hi and keys[j - lo] == keys[i - lo]:
            j += 1
        if j - i > 1:
            stack[top, 0], stack[top, 1], stack[top, 2] = i, j, offset
            top += 1
        i = j
    return top


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


def _loader(bits: int):
    """A load of an unsigned ``bits``-bit int from a raw address (a C struct's field)."""

    @intrinsic
    def load(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.load(builder.inttoptr(args[0], ir.IntType(bits).as_pointer()))

        return getattr(types, f"uint{bits}")(types.uint64), codegen

    return load


_load64, _load16, _load8 = _loader(64), _loader(16), _loader(8)


@intrinsic
def _call3(typingctx, function, a, b, c):
    # A C function of three pointer-sized ints, called by its address: passed as an argument,
    # not a global, so the compiled loop can be cached on disk.
    def codegen(context, builder, signature, args):
        word = ir.IntType(64)
        pointer = builder.inttoptr(args[0], ir.FunctionType(word, [word] * 3).as_pointer())
        return builder.call(pointer, args[1:])

    return types.uint64(types.uint64, types.uint64, types.uint64, types.uint64), codegen


_FNV_BASIS, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True)
def best_path(parse, mecab, text, address, starts, ends, layout):
    """MeCab's best path through each text ``text[starts[t]:ends[t]]`` (UTF-8 bytes, at
    ``address`` in memory), read from its node structs: ``parse`` is the address of
    ``mecab_sparse_tonode2`` and ``layout`` the offsets of the node's ``next``, ``surface``,
    ``feature``, ``length`` and ``stat`` fields.

    Per morpheme: its text, its first and past-last characters (code points) in the text,
    its feature string's address and a key (63 bits) of its surface bytes and that address.
    A text whose nodes do not lie inside it in order (never seen) is flagged in ``bad``.
    """
    at_next, at_surface, at_feature, at_length, at_stat = layout
    cap = len(text)
    text_of = np.empty(cap, np.int32)
    first = np.empty(cap, np.int32)
    last = np.empty(cap, np.int32)
    features = np.empty(cap, np.uint64)
    keys = np.empty(cap, np.int64)
    bad = np.zeros(len(starts), np.bool_)
    n = 0
    for t in range(len(starts)):
        b, end, c = starts[t], ends[t], 0
        node = _call3(parse, mecab, address + np.uint64(b), np.uint64(end - b))
        if node == 0:
            bad[t] = True
            continue
        node = _load64(node + at_next)  # past BOS
        kept = n
        while node != 0 and _load8(node + at_stat) != 3:  # 3: EOS
            surface = np.int64(_load64(node + at_surface) - address)
            stop = surface + np.int64(_load16(node + at_length))
            if surface < b or stop > end or stop == surface:  # (the arrays hold a morpheme a byte)
                bad[t] = True
                break
            while b < surface:  # skipped spaces; UTF-8 continuation bytes are 10xxxxxx
                c += (text[b] & 0xC0) != 0x80
                b += 1
            text_of[n], first[n] = t, c
            h = _FNV_BASIS
            while b < stop:
                c += (text[b] & 0xC0) != 0x80
                h = (h ^ np.uint64(text[b])) * _FNV_PRIME
                b += 1
            feature = _load64(node + at_feature)
            h = (h ^ feature) * np.uint64(0x9E3779B97F4A7C15)
            last[n], features[n], keys[n] = c, feature, np.int64((h ^ (h >> np.uint64(29))) >> np.uint64(1))
            n += 1
            node = _load64(node + at_next)
        if bad[t]:
            n = kept
    return text_of[:n], first[:n], last[:n], features[:n], keys[:n], bad
