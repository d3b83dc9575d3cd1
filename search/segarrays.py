"""Posting arrays written beside each index segment, read back without decoding.

Whoosh stores a term's postings in pickled blocks of 128, each holding document numbers,
weights and the positions and character offsets of every occurrence; reading one document
number means unpickling its whole block, about 2 µs a posting. renkei's segments keep their
postings only as flat arrays, in one file of the segment (``<segment>.rka``), which
:func:`write_sorted` writes from the sorted token arrays of :mod:`search.postingbuffer`:

* per term: its bytes, the index of its first posting, the offset of its first value;
* per posting: document number, weight, number of occurrences;
* per occurrence, flat: position, first character and length in characters, -1 and 0 in a
  field that keeps no character offsets; a phrase is checked and a page's highlights are
  found over whole arrays.

Counts, positions and offsets count within one passage, so they are small: each of those
arrays is written in the narrowest integer type that holds the segment's values (int16 and
uint8 as a rule; the header names the type, and a reader takes it from there), which makes
an index about a third smaller than with 32-bit values. Document numbers take 16 bits in a
segment of fewer than 65,536 documents, and weights (occurrence counts times the field's
boost) take 16-bit floats when every one of them is exact in that type.

A reader maps the file and slices it (:class:`SegmentArrays`): a term's postings are two
array views, found by a binary search over the field's sorted terms. The layout: an 8-byte
magic, the header's length, a JSON header naming each field's term ranges and each array's
offset, type and length, then the arrays, each aligned to 8 bytes.
"""

from __future__ import annotations

import json
import struct
from bisect import bisect_left, bisect_right

import numpy as np

from search.packedterms import PackedTerms

EXT = ".rka"
MAGIC = b"RKARR001"
_ALIGN = 8
_LOOKUPS_MAX = 50_000  # term lookups remembered per segment
_SAMPLE_EVERY = 32  # one term in this many is kept as bytes to start a lookup
_BLOCK = 1 << 20  # values converted to the written type at a time


# name -> numpy dtype (for _NARROW's arrays, the widest), in file order.
_ARRAYS = {
    "term_bytes": "u1",
    "term_starts": "<i8",  # per term + 1: offset of its bytes
    "post_starts": "<i8",  # per term + 1: index of its first posting
    "position_starts": "<i8",  # per term + 1: index of its first occurrence
    "docs": "<i4",
    "weights": "<f4",
    "position_counts": "<u4",
    "positions": "<i4",
    "char_starts": "<i4",
    "char_lengths": "<u2",
}
# Arrays written in the first of these types, or else their _ARRAYS type, that holds every
# value of the segment.
_NARROW = {
    "docs": ("<u2",),  # a segment of fewer than 65,536 documents
    "weights": ("<f2",),  # occurrence counts times a field boost of 1, 1.5 or 2: exact in 16 bits
    "position_counts": ("<u1", "<u2"),
    "positions": ("<i2",),
    "char_starts": ("<i2",),
    "char_lengths": ("<u1",),
}


def narrowest(parts: list[np.ndarray], dtypes: tuple) -> str:
    """The first of ``dtypes`` that holds every value of ``parts`` (a float type: exactly).

    >>> narrowest([np.array([-1, 300]), np.array([], np.int32)], ("<i2", "<i4"))
    '<i2'
    >>> narrowest([np.array([0, 256])], ("<u1", "<u2")), narrowest([], ("<u1", "<u2"))
    ('<u2', '<u1')
    >>> weights = np.array([1.0, 1.5, 3.0], np.float32)
    >>> narrowest([weights], ("<f2", "<f4")), narrowest([weights * 1.1], ("<f2", "<f4"))
    ('<f2', '<f4')
    """
    filled = [p for p in parts if len(p)]
    if any(np.dtype(dtype).kind == "f" for dtype in dtypes):
        for dtype in dtypes:
            if all(np.array_equal(p.astype(dtype), p) for p in filled):
                return dtype
        return dtypes[-1]
    lo = min((int(p.min()) for p in filled), default=0)
    hi = max((int(p.max()) for p in filled), default=0)
    for dtype in dtypes:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return dtype
    return dtypes[-1]


def write_sorted(out, fields) -> None:
    """Write the file for whole fields already in order (:class:`search.postingbuffer.SortedField`,
    fields ascending by name)."""
    header_fields: dict[str, dict] = {}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
    terms = postings = occurrences = nbytes = 0
    for f in fields:
        header_fields[f.name] = {"values": f.values, "ranges": [[terms, terms + len(f.terms)]]}
        if isinstance(f.terms, PackedTerms):
            data, lengths = f.terms.joined()
        else:
            data = np.frombuffer(b"".join(f.terms), dtype=np.uint8)
            lengths = np.fromiter(map(len, f.terms), dtype=np.int64, count=len(f.terms))
        parts["term_bytes"].append(data)
        parts["term_starts"].append(nbytes + np.cumsum(lengths) - lengths)
        parts["post_starts"].append(postings + f.post_starts[:-1])
        parts["position_starts"].append(occurrences + f.position_starts()[:-1])
        for name in ("docs", "weights", "position_counts", "positions", "char_starts", "char_lengths"):
            parts[name].append(getattr(f, name))
        terms += len(f.terms)
        postings += len(f.docs)
        occurrences += len(f.positions)
        nbytes += len(data)
    parts["term_starts"].append(np.array([nbytes]))
    parts["post_starts"].append(np.array([postings]))
    parts["position_starts"].append(np.array([occurrences]))
    # Each array is written part by part (a field at a time), never joined in memory: at the
    # end of a large segment the occurrence arrays alone are hundreds of megabytes.
    layout, offset = {}, 0
    for name, dtype in _ARRAYS.items():
        if name in _NARROW:
            dtype = narrowest(parts[name], (*_NARROW[name], dtype))
        count = sum(len(part) for part in parts[name])
        layout[name] = [offset, dtype, count]
        offset += _padded(count * np.dtype(dtype).itemsize)
    header = json.dumps({"fields": header_fields, "arrays": layout}).encode("utf-8")
    header += b" " * (_padded(len(header)) - len(header))
    out.write(MAGIC + struct.pack("<Q", len(header)) + header)
    for name, (_, dtype, _) in layout.items():
        size = 0
        block = None
        for part in parts[name]:
            if part.dtype == np.dtype(dtype) and part.flags.c_contiguous:
                out.write(memoryview(part).cast("B"))
            else:  # converted a block at a time into one buffer, not as a copy of the whole
                if block is None:
                    block = np.empty(_BLOCK, dtype)
                for at in range(0, len(part), _BLOCK):
                    piece = part[at : at + _BLOCK]
                    np.copyto(block[: len(piece)], piece, casting="unsafe")
                    out.write(memoryview(block[: len(piece)]).cast("B"))
            size += len(part) * np.dtype(dtype).itemsize
        out.write(b"\0" * (_padded(size) - size))


def _padded(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class _Terms:
    """A field's sorted term bytes as a sequence ``bisect`` can search."""

    def __init__(self, data: bytes | memoryview, starts: np.ndarray, first: int, last: int) -> None:
        self.data, self.starts, self.first, self.last = data, starts, first, last

    def __len__(self) -> int:
        return self.last - self.first

    def __getitem__(self, i: int) -> bytes:
        t = self.first + i
        return bytes(self.data[int(self.starts[t]) : int(self.starts[t + 1])])


class SegmentArrays:
    """One segment's posting arrays over a buffer (normally a memory map, so the pages are
    shared by every thread and process that reads the index)."""

    def __init__(self, buf) -> None:
        view = memoryview(buf).cast("B")
        if bytes(view[:8]) != MAGIC:
            raise ValueError("not a renkei posting-array file")
        (length,) = struct.unpack("<Q", view[8:16])
        header = json.loads(bytes(view[16 : 16 + length]))
        base = 16 + length
        self.arrays = {
            name: np.frombuffer(view, dtype=dtype, count=count, offset=base + offset)
            for name, (offset, dtype, count) in header["arrays"].items()
        }
        self.fields: dict[str, dict] = header["fields"]
        self._term_bytes = view[base + header["arrays"]["term_bytes"][0] :]
        # A query asks for the same terms several times (statistics, postings, highlights),
        # and users repeat queries: a binary search costs ~20 slices of the term bytes.
        self._looked_up: dict[tuple[str, bytes], int | None] = {}
        # By (first, last) of a field's range: an empty field's range starts where the next begins.
        self._samples: dict[tuple[int, int], list[bytes]] = {}

    def values_kind(self, fieldname: str) -> str | None:
        """What the field's values decode to, or None when the segment has no such field."""
        found = self.fields.get(fieldname)
        return None if found is None else found["values"]

    def term(self, fieldname: str, btext: bytes) -> int | None:
        """The term's number in this segment, or None."""
        key = (fieldname, btext)
        found = self._looked_up.get(key, self)
        if found is self:
            found = self._search(fieldname, btext)
            if len(self._looked_up) >= _LOOKUPS_MAX:
                self._looked_up.clear()
            self._looked_up[key] = found
        return found

    def terms_from(self, fieldname: str, start: bytes = b""):
        """The numbers of the field's terms from the first one not below ``start``, in order."""
        found = self.fields.get(fieldname)
        if found is None:
            return
        for first, last in found["ranges"]:
            yield from range(self._first_not_below(first, last, start), last)

    def _search(self, fieldname: str, btext: bytes) -> int | None:
        found = self.fields.get(fieldname)
        if found is None:
            return None
        for first, last in found["ranges"]:
            i = self._first_not_below(first, last, btext)
            if i < last and self.term_bytes(i) == btext:
                return i
        return None

    def _first_not_below(self, first: int, last: int, btext: bytes) -> int:
        """The number of the first term of ``first:last`` not below ``btext`` (``last`` if none):
        a binary search over every 32nd term held as a list of bytes, then within that run of
        32, so a cold lookup slices the term bytes 5 times instead of 20."""
        lo, hi = self._block(first, last, btext)
        return lo + bisect_left(_Terms(self._term_bytes, self.arrays["term_starts"], lo, hi), btext)

    def prepare_lookups(self) -> None:
        """Build what every field's first lookup would build (a server does it before it
        accepts connections)."""
        for found in self.fields.values():
            for first, last in found["ranges"]:
                self._block(first, last, b"")

    def _block(self, first: int, last: int, btext: bytes) -> tuple[int, int]:
        """The run of at most ``_SAMPLE_EVERY`` terms of ``first:last`` where ``btext`` would
        stand: every term past it is above ``btext``."""
        if first >= last:
            return first, first
        samples = self._samples.get((first, last))
        if samples is None:
            starts = self.arrays["term_starts"]
            picked = np.arange(first, last, _SAMPLE_EVERY)
            data = self._term_bytes
            samples = [
                bytes(data[a:b])
                for a, b in zip(starts[picked].tolist(), starts[picked + 1].tolist(), strict=True)
            ]
            self._samples[first, last] = samples
        j = max(bisect_right(samples, btext) - 1, 0)
        lo = first + j * _SAMPLE_EVERY
        return lo, min(lo + _SAMPLE_EVERY, last)

    def term_bytes(self, t: int) -> bytes:
        """The bytes of term number ``t``."""
        starts = self.arrays["term_starts"]
        return bytes(self._term_bytes[int(starts[t]) : int(starts[t + 1])])

    def postings(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The term's document numbers and weights (read-only views)."""
        starts = self.arrays["post_starts"]
        lo, hi = int(starts[t]), int(starts[t + 1])
        return self.arrays["docs"][lo:hi], self.arrays["weights"][lo:hi]

    def occurrence_bounds(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """For each posting of the term: the index of its first occurrence, and how many."""
        starts = self.arrays["post_starts"]
        lo, hi = int(starts[t]), int(starts[t + 1])
        counts = self.arrays["position_counts"][lo:hi].astype(np.int64)
        return np.cumsum(counts) - counts + int(self.arrays["position_starts"][t]), counts

    def occurrences_at(self, first: int, count: int) -> list[tuple[int, int, int]]:
        """(position, start, end) of the occurrences ``first`` to ``first + count``."""
        a, at = self.arrays, slice(first, first + count)
        rows = zip(
            a["positions"][at].tolist(),
            a["char_starts"][at].tolist(),
            a["char_lengths"][at].tolist(),
            strict=True,
        )
        return [(position, start, start + length) for position, start, length in rows]

    def _occurrences(self, t: int, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each occurrence of the term in ``docs`` (ascending): its document and its index in
        the flat occurrence arrays."""
        starts = self.arrays["post_starts"]
        lo, hi = int(starts[t]), int(starts[t + 1])
        mine = self.arrays["docs"][lo:hi]
        docs = np.asarray(docs, dtype=np.int64)
        at = np.searchsorted(mine, docs)
        inside = at < len(mine)
        at, want = at[inside], docs[inside]
        hits = at[mine[at] == want]
        firsts, counts = self.occurrence_bounds(t)
        n = counts[hits]
        ends = np.cumsum(n)
        picked = np.repeat(firsts[hits] - (ends - n), n) + np.arange(int(ends[-1]) if len(ends) else 0)
        return np.repeat(mine[hits].astype(np.int64), n), picked

    def positions(self, t: int, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every position of the term in the documents ``docs`` (ascending): two flat arrays,
        each position's document and the position."""
        where, picked = self._occurrences(t, docs)
        return where, self.arrays["positions"][picked].astype(np.int64)

    def characters(self, t: int, docs: list[int]) -> dict[int, list[tuple[int, int, int]]]:
        """(position, start, end) of every occurrence of the term in the documents ``docs``
        that hold it, by document."""
        where, picked = self._occurrences(t, np.asarray(docs, dtype=np.int64))
        starts = self.arrays["char_starts"][picked].astype(np.int64)
        ends = starts + self.arrays["char_lengths"][picked]
        found: dict[int, list[tuple[int, int, int]]] = {}
        positions = self.arrays["positions"][picked]
        rows = zip(where.tolist(), positions.tolist(), starts.tolist(), ends.tolist(), strict=True)
        for doc, position, start, end in rows:
            found.setdefault(doc, []).append((position, start, end))
        return found


__all__ = ["EXT", "SegmentArrays", "narrowest", "write_sorted"]
