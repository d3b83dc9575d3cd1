"""The one place renkei imports Whoosh from.

Every Whoosh fork installs the ``whoosh`` import name; keeping the imports here means a
change of fork, or of a moved name inside one, touches this file alone.
"""

from __future__ import annotations

from whoosh import collectors, columns, fields, formats, index, query, sorting
from whoosh.analysis import Composable, Filter, Token, Tokenizer
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.writing import AsyncWriter, SegmentWriter

__all__ = [
    "AsyncWriter",
    "BM25F",
    "Composable",
    "FileStorage",
    "Filter",
    "LockError",
    "SegmentWriter",
    "Token",
    "Tokenizer",
    "collectors",
    "columns",
    "fields",
    "formats",
    "index",
    "query",
    "sorting",
]
