"""The one place renkei imports Whoosh from.

Every Whoosh fork installs the ``whoosh`` import name; keeping the imports here means a
change of fork, or of a moved name inside one, touches this file alone. The two readers at
the end reach into Whoosh's W3 codec for whole posting blocks and length bytes; when the
codec is another one they fall back to Whoosh's public, posting-by-posting interface.
"""

from __future__ import annotations

import numpy as np
from whoosh import collectors, columns, fields, index, query, sorting
from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

__all__ = [
    "Filter",
    "SegmentWriter",
    "Token",
    "Tokenizer",
    "collectors",
    "columns",
    "fields",
    "field_lengths",
    "index",
    "leaf_postings",
    "query",
    "sorting",
]

_LENGTHS_COLUMN = columns.NumericColumn("B", default=0)
# Whoosh stores each field length as one byte on a logarithmic scale.
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def leaf_postings(leaf, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of one term in one segment, as arrays.

    A W3 posting list is read a block (up to 128 postings) at a time, instead of one Python
    call per posting; deleted documents are filtered by Whoosh on the generic path.
    """
    try:
        m = leaf.postings(fieldname, text)
    except TermNotFound:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ids: list = []
    weights: list = []
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.extend(m._ids)
            weights.extend(m._weights)
            m._next_block()
    else:
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def field_lengths(leaf, fieldname: str) -> np.ndarray:
    """Every document's length in ``fieldname`` in one segment, as Whoosh's scorer sees it."""
    count = leaf.doc_count_all()
    perdoc = getattr(leaf, "_perdoc", None)  # the W3 codec's per-document reader
    name = f"_{fieldname}_len"
    if perdoc is None or not hasattr(perdoc, "column_reader"):
        return np.array([leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(count)], dtype=np.float64)
    if not perdoc.has_column(name):
        return np.zeros(count, dtype=np.float64)
    raw = np.fromiter(perdoc.column_reader(name, _LENGTHS_COLUMN), dtype=np.uint8, count=count)
    return _BYTE_TO_LENGTH[raw]
