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

import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search import keytable
from search.packedterms import PackedTerms
from search.segarrays import narrowest
from search.vocab import Vocab

__all__ = ["FieldBuffer", "SharedOrder", "SortedField", "share_orders"]

BATCH = 250_000  # tokens that wait in lists before they move to arrays (per field)
# Tokens from which a counting sort (compiled, search.kernels) orders a field: below, numba's
# start in a process (0.5-0.8 s) costs more than the sort it saves.
COMPILED_SORT_TOKENS = 4_000_000
_LITTLE = np.little_endian  # which int32 half of an int64 holds its low bits


@dataclass
class SortedField:
    """One field's postings in the order of :mod:`search.segarrays`."""

    name: str
    values: str  # what an occurrence holds: "characters", "positions" or "" (no occurrences)
    terms: Sequence[bytes]  # ascending: a list, or PackedTerms from the compiled sort
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


def _joined_utf8(strings: list[str]) -> bytes | None:
    r"""The UTF-8 of ``strings`` in one encode, NUL between them (about 3x faster than one by
    one); None when there are none, or a string holds a NUL itself.

    >>> _joined_utf8(["a", "連携", ""]), _joined_utf8(["a\x00b", "c"])
    (b'a\x00\xe9\x80\xa3\xe6\x90\xba\x00', None)
    """
    joined = "\x00".join(strings)
    if not strings or joined.count("\x00") != len(strings) - 1:
        return None
    return joined.encode("utf-8")


def _encode(strings: list[str]) -> list[bytes]:
    r"""UTF-8 of each string.

    >>> _encode(["a", "連携", ""]), _encode(["a\x00b", "c"])
    ([b'a', b'\xe9\x80\xa3\xe6\x90\xba', b''], [b'a\x00b', b'c'])
    """
    blob = _joined_utf8(strings)
    if blob is None:
        return [s.encode("utf-8") for s in strings]
    return blob.split(b"\x00")


def _byte_order(
    encoded: list[bytes], compiled_from: int | None = None
) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    r"""``encoded`` sorted without repeats, the sorting permutation, and the rank of each term
    in sorted order among the terms without repeats (a vocabulary may number one string
    twice, ``Vocab.numbered``: its tokens are then one term's).

    In a process that has started numba (a large rebuild), ``kernels.byte_order`` sorts
    them by 8-byte prefixes (0.33 against 0.43-1.0 s for 465k readings, and no array of
    the terms padded to the longest to touch); else numpy sorts fixed-width bytes in C,
    ~2.5x faster than ``sorted``, and compares them there; it pads with NUL and drops
    trailing NULs again, so terms with a NUL (never made by the analyzers), or long terms
    that would make the array large, go the Python way. ``compiled_from``: as for
    ``stable_order``.

    >>> ordered, order, ranks = _byte_order([b"b", b"a\x00", b"ab", b"b"])
    >>> ordered, order.tolist(), ranks.tolist()
    ([b'a\x00', b'ab', b'b'], [1, 2, 0, 3], [0, 1, 2, 2])
    >>> [r.tolist() for r in _byte_order([b"b", b"ab", b"a", b"b"])[1:]]
    [[2, 1, 0, 3], [0, 1, 2, 2]]
    """
    n = len(encoded)
    blob = b"".join(encoded)
    if n and _compiled(n, compiled_from):
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, count=n))
        return _compiled_order(blob, np.concatenate(([0], ends[:-1])), ends)
    width = max(map(len, encoded), default=0)
    new = np.ones(n, dtype=bool)
    # The fixed-width array holds every term at the longest one's width: keep it small.
    if b"\x00" in blob or (width > 64 and width * n > 1 << 27):
        order = np.array(sorted(range(n), key=encoded.__getitem__), dtype=np.int64)
        ordered = [encoded[i] for i in order.tolist()]
        if n > 1:
            new[1:] = np.fromiter(map(operator.ne, ordered[1:], ordered[:-1]), bool, count=n - 1)
        repeats = not new.all()
        if repeats:
            ordered = [t for t, keep in zip(ordered, new.tolist(), strict=True) if keep]
    else:
        fixed = np.array(encoded, dtype=bytes) if encoded else np.empty(0, "S1")
        # Unstable is right here (equal terms take one rank whatever their order) and faster:
        # 0.62-0.76 s against 0.98-1.14 s for a segment's 1.46M terms.
        order = np.argsort(fixed)
        fixed = fixed[order]
        np.not_equal(fixed[1:], fixed[:-1], out=new[1:])
        repeats = not new.all()
        ordered = (fixed[new] if repeats else fixed).tolist()
    ranks = (np.cumsum(new) - 1).astype(np.int32) if repeats else np.arange(n, dtype=np.int32)
    return ordered, order, ranks


def _compiled_order(
    blob: bytes, starts: np.ndarray, ends: np.ndarray
) -> tuple[PackedTerms, np.ndarray, np.ndarray]:
    """``_byte_order`` of the terms ``blob[starts[i]:ends[i]]``, by ``kernels.byte_order``;
    the terms stay in ``blob`` (``search.packedterms``)."""
    from search.kernels import byte_order  # (imported by a rebuild only: numba is slow to import)

    data = np.frombuffer(blob, np.uint8)
    order, new = byte_order(data, starts, ends)
    firsts = order[new]
    return PackedTerms(data, starts[firsts], ends[firsts]), order, (np.cumsum(new) - 1).astype(np.int32)


def _sorted_terms(vocab: Vocab, numbers: np.ndarray, encode: bool = True) -> tuple[list[bytes], np.ndarray]:
    """The distinct terms of ``vocab``'s ``numbers`` in byte order (UTF-8 unless they are bytes
    already, ``encode`` False), and the rank there of each of ``numbers``, in turn.

    >>> v = Vocab()
    >>> _ = v.ids_of(["b", "a", "c"]); _sorted_terms(v, np.array([0, 2, 1]))[1].tolist()
    [1, 2, 0]
    """
    strings = [vocab.strings[i] for i in numbers.tolist()]
    # The terms' UTF-8 in one blob straight to the compiled sort: no list of bytes objects to
    # split off, measure and join again.
    blob = _joined_utf8(strings) if encode and _compiled(len(strings)) else None
    if blob is not None:
        ends = np.append(np.flatnonzero(np.frombuffer(blob, np.uint8) == 0), len(blob))
        ordered, order, ranks = _compiled_order(blob, np.concatenate(([0], ends[:-1] + 1)), ends)
    else:
        ordered, order, ranks = _byte_order(_encode(strings) if encode else strings)
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = ranks
    return ordered, rank


def _compiled(n: int, compiled_from: int | None = None) -> bool:
    """Whether ``n`` tokens are sorted by the compiled loops (see ``stable_order``)."""
    if compiled_from is None:  # the default: compiled too once the process started numba
        return n >= COMPILED_SORT_TOKENS or keytable.numba_started()
    return n >= compiled_from


def stable_order(
    ranks: np.ndarray, size: int, compiled_from: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The stable order of ``ranks`` (ints below ``size``) and the ranks in that order: a
    counting sort, compiled, from ``compiled_from`` ranks (``COMPILED_SORT_TOKENS``, or any
    number once the process has started the compiled loops), and below that numpy's sort of
    (rank, index) as one int64, stable by construction.

    >>> ranks = np.array([2, 0, 2, 1, 0], np.int32)
    >>> [(p.tolist(), r.tolist()) for p, r in (stable_order(ranks, 3), stable_order(ranks, 3, 0))]
    [([1, 4, 3, 0, 2], [0, 0, 1, 2, 2]), ([1, 4, 3, 0, 2], [0, 0, 1, 2, 2])]
    """
    n = len(ranks)
    if _compiled(n, compiled_from):
        from search.kernels import counting_order  # (imported by a rebuild only: numba is slow to import)

        perm, tally = counting_order(ranks, size)
        return perm, np.repeat(np.arange(size, dtype=np.int32), tally)
    # numpy sorts int64 with SIMD, 2-3x faster than a stable argsort of the ranks; the key's
    # two halves are written in place.
    keys = np.empty(n, dtype=np.int64)
    halves = keys.view(np.int32).reshape(n, 2)[:, :: 1 if _LITTLE else -1]
    halves[:, 0] = np.arange(n, dtype=np.int32)
    halves[:, 1] = ranks
    keys.sort()
    return halves[:, 0].astype(np.intp), halves[:, 1]  # (gathers by intp run 2-3x faster)


class SharedOrder:
    """The byte order of the terms several fields number in one vocabulary, sorted once
    for them all (a segment's surface and base fields share one: ``search.batchterms``).

    >>> v = Vocab()
    >>> v.ids_of(["b", "a", "c", "d"]).tolist()
    [0, 1, 2, 3]
    >>> order = SharedOrder(v, np.array([True, True, True, False]))  # d: no field's
    >>> terms, ranks = order.field_terms(np.array([2, 0, 2], np.int32))  # c, b, c
    >>> terms, ranks.tolist()
    ([b'b', b'c'], [1, 0, 1])
    """

    def __init__(self, vocab: Vocab, used: np.ndarray) -> None:
        numbers = np.flatnonzero(used)
        self.ordered, rank = _sorted_terms(vocab, numbers)
        self.rank = np.zeros(len(vocab), np.int32)  # by number; used numbers only
        self.rank[numbers] = rank

    def field_terms(self, terms: np.ndarray) -> tuple[list[bytes], np.ndarray]:
        """As ``FieldBuffer._ranks``, for one field's tokens (``terms``: used numbers)."""
        shared = self.rank[terms]
        present = np.zeros(len(self.ordered), bool)
        present[shared] = True
        local = (np.cumsum(present) - 1).astype(np.int32)
        ordered, picked = self.ordered, np.flatnonzero(present)
        if isinstance(ordered, PackedTerms):
            return ordered.take(picked), local[shared]
        return [ordered[i] for i in picked.tolist()], local[shared]


def share_orders(buffers: list[FieldBuffer]) -> None:
    """Give the positional fields that number terms in one vocabulary one ``SharedOrder``."""
    groups: dict[int, list[FieldBuffer]] = {}
    for buf in buffers:
        if buf.values and buf.vocab is not None and buf._chunks[0]:
            groups.setdefault(id(buf.vocab), []).append(buf)
    for group in groups.values():
        if len(group) < 2:
            continue
        vocab = group[0].vocab
        used = np.zeros(len(vocab), bool)
        for buf in group:
            for chunk in buf._chunks[0]:
                used[chunk] = True
        order = SharedOrder(vocab, used)
        for buf in group:
            buf.order = order


def _narrow(values: np.ndarray, kinds: tuple) -> np.ndarray:
    """``values`` in the first of ``kinds`` that holds them all (the last one otherwise).

    >>> [_narrow(np.array(v), (np.int16, np.int32)).dtype.name for v in ([-1, 5], [40000], [])]
    ['int16', 'int32', 'int16']
    """
    return values.astype(narrowest([values], kinds), copy=False)


def _weights(counts: np.ndarray, boost: float) -> np.ndarray:
    """Occurrence counts times a field's boost, in 16-bit floats when every one is exact there
    (``search.segarrays`` writes them so; they wait for the rest of the segment in half the
    memory).

    >>> [_weights(np.array(c, np.uint8), b).dtype.name for c, b in (([1, 3], 1.5), ([1, 3], 1.1))]
    ['float16', 'float32']
    """
    weights = counts * np.float32(boost)
    return weights.astype(narrowest([weights], ("<f2", "<f4")), copy=False)


class FieldBuffer:
    """The postings of one field while a segment is written.

    Positional fields take the tokens of many documents at once as term numbers of a
    :class:`Vocab` (:meth:`add_numbered`); others take a document's whole
    postings (:meth:`add_postings`), as Whoosh's field formats give them.

    >>> v, buf = Vocab(), FieldBuffer("f", "characters", boost=2.0)
    >>> terms = v.ids_of(["b", "a", "b", "a"])
    >>> buf.add_numbered(v, [0, 0, 0, 1], terms, [0, 1, 2, 0], [0, 2, 4, 0], [1, 3, 5, 1])
    >>> f = buf.sort()
    >>> f.terms, f.post_starts.tolist(), f.docs.tolist(), f.weights.tolist(), f.positions.tolist()
    ([b'a', b'b'], [0, 2, 3], [0, 1, 0], [2.0, 2.0, 4.0], [1, 0, 0, 2])
    """

    def __init__(self, name: str, values: str, boost: float = 1.0) -> None:
        self.name, self.values, self.boost = name, values, boost
        # Postings arrive as small lists; they wait in plain lists (cheap to extend) and move
        # to typed arrays a batch at a time, where numbering and conversion run in C loops.
        self._pending: list[list] = [[], [], []]  # terms, (doc, count), weights
        self._pending_count = 0
        # terms, docs, positions (weights in a field without), first characters, lengths in
        # characters; each chunk in the narrowest type that holds it (see add_numbered)
        self._chunks: list[list[np.ndarray]] = [[], [], [], [], []]
        self._count = 0
        # The Vocab that numbers the terms: the caller's for numbered tokens, the buffer's
        # own (of term bytes) for postings.
        self.vocab: Vocab | None = None
        self.order: SharedOrder | None = None  # its terms' order, when fields share it

    def __len__(self) -> int:
        return self._count

    def add_numbered(self, vocab, docs: np.ndarray, terms: np.ndarray, positions, starts, ends) -> None:
        """Many documents' tokens at once, as numbers of ``vocab``, documents ascending.

        Only a positional field takes tokens, all numbered in one vocabulary.
        """
        if (self.vocab is not None and self.vocab is not vocab) or not self.values:
            raise ValueError(f"field {self.name}: takes whole postings, or numbers of another vocabulary")
        self.vocab = vocab
        self._count += len(terms)
        # Held until the segment is written, in the narrowest types that hold them (document
        # numbers in 16 bits below 65,536, positions and characters within a passage in
        # 16, lengths in 8): about half the memory of 32-bit columns. Every page a rebuild
        # touches for the first time is a page the machine must supply, and on the virtual
        # machines measured that costs about as much as the sort itself.
        columns = [
            np.asarray(terms, dtype=np.int32),
            _narrow(np.asarray(docs), (np.uint16, np.int32)),
            _narrow(np.asarray(positions), (np.int16, np.int32)),
        ]
        if self.values == "characters":
            starts = np.asarray(starts, dtype=np.int32)
            lengths = np.asarray(ends, dtype=np.int32) - starts
            # (np.clip is several times slower than the two bounds on large int arrays)
            np.maximum(lengths, 0, out=lengths)
            np.minimum(lengths, 0xFFFF, out=lengths)
            columns += [_narrow(starts, (np.int16, np.int32)), _narrow(lengths, (np.uint8, np.uint16))]
        for chunks, values in zip(self._chunks, columns, strict=False):
            chunks.append(values)

    def add_postings(self, doc: int, postings: list[tuple[bytes, float]]) -> None:
        """One document's (term bytes, weight) postings in a field without positions."""
        self.add_documents_postings(doc, [postings])

    def add_documents_postings(self, first: int, postings: list[list[tuple[bytes, float]] | None]) -> None:
        """The postings of documents ``first``, ``first + 1``, … (None or [] for none), in
        whole-list steps rather than a call a document."""
        if self.values:
            raise ValueError(f"field {self.name}: a positional field takes numbered tokens")
        if self.vocab is None:
            self.vocab = Vocab()
        pending = self._pending
        counts = [(doc, len(p)) for doc, p in enumerate(postings, first) if p]
        if not counts:
            return
        pending[0].extend([t for p in postings if p for t, _ in p])
        pending[1].extend(counts)
        pending[2].extend([w for p in postings if p for _, w in p])  # weights, in place of positions
        n = sum(c for _, c in counts)
        self._count += n
        self._pending_count += n
        if self._pending_count >= BATCH:
            self._move()

    def _move(self) -> None:
        terms, doc_counts, weights = self._pending
        if not terms:
            return
        numbers = self.vocab.ids_of(terms)
        docs, counts = np.array(doc_counts, dtype=np.int64).T
        moved = [numbers, np.repeat(docs, counts).astype(np.int32), np.array(weights, dtype=np.float32)]
        for chunks, values in zip(self._chunks, moved, strict=False):
            chunks.append(values)
        self._pending = [[], [], []]
        self._pending_count = 0

    def _columns(self) -> list[np.ndarray]:
        """terms, docs, positions (weights), first characters, lengths: every chunk joined,
        each in the widest type of its chunks; without characters, -1 and 0."""
        self._move()
        kinds = [np.int32, np.int32, np.int32, np.int16, np.uint8]
        if not self.values:
            kinds[2] = np.float32
        columns = [
            np.concatenate(c) if c else np.empty(0, k) for c, k in zip(self._chunks, kinds, strict=True)
        ]
        if self.values and self.values != "characters":
            columns[3] = np.full(len(columns[0]), -1, np.int16)
            columns[4] = np.zeros(len(columns[0]), np.uint8)
        self._chunks = [[], [], [], [], []]
        return columns

    def _ranks(self, terms: np.ndarray) -> tuple[list[bytes], np.ndarray]:
        """The field's terms in byte order, and each token's term as its index there."""
        if self.vocab is None:  # no term was added
            return [], terms
        if 8 * len(terms) < len(self.vocab):  # a small segment of a large vocabulary
            used, local = np.unique(terms, return_inverse=True)
            local = local.reshape(-1)
        else:  # numbers are dense: a presence mask finds the used ones without a sort
            present = np.zeros(len(self.vocab), dtype=bool)
            present[terms] = True
            used = np.flatnonzero(present)
            local = None
        # (postings' terms are bytes already)
        ordered, rank = _sorted_terms(self.vocab, used, encode=self.values != "")
        if local is not None:
            return ordered, rank[local]
        # Each vocabulary number's rank, so every token takes its rank in one gather.
        by_number = np.zeros(len(self.vocab), dtype=np.int32)
        by_number[used] = rank
        return ordered, by_number[terms]

    def sort(self) -> SortedField:
        numbers, docs, third, starts, lengths = self._columns()
        terms, ranks = self.order.field_terms(numbers) if self.order else self._ranks(numbers)
        self.order = None
        del numbers
        n = len(ranks)
        # Stable: documents were added in ascending order, a document's tokens in order.
        if self.values and _compiled(n):
            from search.kernels import sorted_tokens

            # Each token is written to its place as it is read: no order array to gather by.
            post_starts, post_docs, counts, positions, starts, lengths = sorted_tokens(
                ranks, len(terms), docs, third, starts, lengths
            )
            del ranks, docs, third
        else:
            perm, r = stable_order(ranks, len(terms))
            del ranks
            d = docs[perm]
            del docs
            new = np.ones(n, dtype=bool)
            if n:
                np.not_equal(r[1:], r[:-1], out=new[1:])
                new[1:] |= d[1:] != d[:-1]
            firsts = np.flatnonzero(new)
            del new
            counts = np.diff(np.append(firsts, n))
            post_starts = np.searchsorted(r[firsts], np.arange(len(terms) + 1)).astype(np.int64)
            post_docs = d[firsts]
            del r, d
            if not self.values:
                return SortedField(
                    self.name,
                    "",
                    terms,
                    post_starts,
                    post_docs,
                    third[perm][firsts],
                    np.zeros(len(firsts), dtype=np.uint32),
                    np.empty(0, np.int32),
                    np.empty(0, np.int32),
                    np.empty(0, np.uint16),
                )
            # (narrow already: a gather of small values moves less memory, and the sorted
            # fields of a whole segment wait for each other before they are written)
            lengths = lengths.take(perm)
            positions = third.take(perm)
            del third
            starts = starts.take(perm)
            del perm
        return SortedField(
            self.name,
            self.values,
            terms,
            post_starts,
            post_docs,
            _weights(counts, self.boost),
            _narrow(counts, (np.uint8, np.uint16, np.uint32)),
            positions,
            starts,
            lengths,
        )
