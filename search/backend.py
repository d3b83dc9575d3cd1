"""The one place renkei imports Whoosh from.

Every Whoosh fork installs the ``whoosh`` import name; keeping the imports here means a
change of fork, or of a moved name inside one, touches this file alone.
"""

from __future__ import annotations

from whoosh import collectors, columns, fields, index, query, sorting
from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.writing import SegmentWriter

__all__ = [
    "Filter",
    "SegmentWriter",
    "Token",
    "Tokenizer",
    "collectors",
    "columns",
    "fields",
    "index",
    "query",
    "sorting",
]
