"""A segment's sorted terms as one byte buffer and two offset arrays, not a list of bytes.

The compiled sort of a segment's vocabulary (``kernels.byte_order``) orders the terms where
they lie, in one UTF-8 blob. Cutting a ``bytes`` object out of it for every distinct term
(1.46M in a build worker's segment at 100k passages), listing a field's share of them, and
joining them again for the file took about 4 % of a worker's time; here the terms stay in
the blob, a field's are a gather of offsets, and the file's term bytes one compiled copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["PackedTerms"]


class PackedTerms(Sequence):
    """Terms ``data[starts[i]:ends[i]]``, in order; a sequence of ``bytes`` like the list it
    stands for.

    >>> blob = np.frombuffer(b"cab", np.uint8)
    >>> terms = PackedTerms(blob, np.array([1, 2, 0]), np.array([2, 3, 1]))
    >>> terms, len(terms), terms[-1], terms == [b"a", b"b", b"c"]
    ([b'a', b'b', b'c'], 3, b'c', True)
    >>> picked = terms.take(np.array([0, 2])); list(picked)
    [b'a', b'c']
    >>> data, lengths = picked.joined(); data.tobytes(), lengths.tolist()
    (b'ac', [1, 1])
    """

    __slots__ = ("data", "ends", "starts")

    def __init__(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.data = data
        self.starts = np.asarray(starts, dtype=np.int64)
        self.ends = np.asarray(ends, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.data[self.starts[i] : self.ends[i]].tobytes()

    def __iter__(self) -> Iterator[bytes]:
        data = self.data
        for a, b in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            yield data[a:b].tobytes()

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # (mutable, like the list it stands for)

    def __repr__(self) -> str:
        return repr(list(self))

    def take(self, indices: np.ndarray) -> PackedTerms:
        """The terms at ``indices``, in that order, over the same bytes."""
        return PackedTerms(self.data, self.starts[indices], self.ends[indices])

    def joined(self) -> tuple[np.ndarray, np.ndarray]:
        """The terms' bytes one after the other (uint8), and each term's length."""
        lengths = self.ends - self.starts
        if len(self) and lengths.min() < 0:
            raise ValueError("a term ends before it starts")
        from search.kernels import gather_bytes  # (a rebuild's: numba is slow to import)

        return gather_bytes(self.data, self.starts, self.ends, int(lengths.sum())), lengths
