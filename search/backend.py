"""The one place renkei imports Whoosh from.

Every Whoosh fork installs the ``whoosh`` import name; keeping the imports here means a
change of fork, or of a moved name inside one, touches this file alone.

renkei writes its segments itself (:class:`ArraySegmentWriter`): stored fields, columns and
field lengths in Whoosh's W3 files, postings only as arrays (:mod:`search.segarrays`). The
segments' codec answers Whoosh's term lookups and matchers from those arrays, so every Whoosh
query and reader method still works; renkei's own readers at the end slice the arrays, and
read a segment of Whoosh's own codec through its public, posting-by-posting interface.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import threading
import zlib
from array import array
from bisect import bisect_left
from collections import Counter, OrderedDict
from itertools import accumulate
from operator import itemgetter

import numpy as np
from whoosh import columns, fields, index, query
from whoosh.analysis import (
    CompositeAnalyzer,
    Filter,
    IDTokenizer,
    RegexTokenizer,
    StripFilter,
    Token,
    Tokenizer,
)
from whoosh.codec.whoosh3 import LENGTHS_COLUMN as W3_LENGTHS_COLUMN
from whoosh.codec.whoosh3 import W3Codec, W3PerDocWriter, W3TermInfo, _lenfield
from whoosh.filedb import structfile
from whoosh.filedb.filestore import FileStorage
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from search import directfile, postingbuffer, segarrays

__all__ = [
    "ArraySegmentWriter",
    "Filter",
    "SegmentWriter",
    "Token",
    "Tokenizer",
    "columns",
    "fields",
    "field_lengths",
    "forget_segment_arrays",
    "index",
    "leaf_characters",
    "leaf_positions",
    "leaf_postings",
    "segment_arrays",
    "query",
]

_LENGTHS_COLUMN = columns.NumericColumn("B", default=0)


class _MappedReader(io.RawIOBase):
    """A read-only file over a buffer (a memory-mapped segment) that copies only what is read."""

    def __init__(self, buf) -> None:
        super().__init__()
        self._buf = memoryview(buf)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = max(0, min(len(b), len(self._buf) - self._pos))
        b[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._buf)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _buffer_file_init(self, buf, name=None, onclose=None) -> None:
    self._buf = buf
    self._name = name
    self.file = io.BufferedReader(_MappedReader(buf))
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


# Whoosh opens each file inside a memory-mapped segment as a BufferFile whose BytesIO copies
# the whole file: every searcher (one per thread) held its own copy of the postings, about
# the index's size each (9 GB per server process at 100k passages). Reading through the map
# instead copies only what is read, and the pages stay shared between threads and processes.
structfile.BufferFile.__init__ = _buffer_file_init


class _ArrayCodec(W3Codec):
    """The codec of segments written by :class:`ArraySegmentWriter`: postings live only in
    the arrays, and Whoosh's term lookups and matchers are answered from them; stored
    fields, columns and lengths are Whoosh's W3 files. (Its name is pickled into each
    segment's entry of the index's table of contents: keep it.)"""

    length_stats = False  # block statistics serve only block-quality skipping, unused here

    def field_writer(self, storage, segment):
        raise TypeError("segments of this codec are written by ArraySegmentWriter")

    def per_document_writer(self, storage, segment):
        return _ArrayPerDocWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        arrays = _arrays_of(storage, segment)
        if arrays is None:
            # Every segment of this codec has its arrays: a rebuild deleted this generation
            # while it was being opened (the caller opens the one served now).
            raise FileNotFoundError(f"the posting arrays of segment {segment.segment_id()} are gone")
        return _ArrayTermsReader(arrays)


class _ArrayCursor:
    """Whoosh's field cursor over one field's sorted terms in the arrays."""

    def __init__(self, terms: _ArrayTermsReader, fieldname: str) -> None:
        self._reader, self._fieldname = terms, fieldname
        self._names = list(terms.field_terms(fieldname))
        self._i = 0

    def first(self):
        self._i = 0
        return self.term()

    def find(self, string):
        key = string.encode("utf-8") if isinstance(string, str) else string
        self._i = bisect_left(self._names, key)
        return self.term()

    def next(self):
        self._i += 1
        return self.term()

    def is_valid(self) -> bool:
        return self._i < len(self._names)

    def term(self):
        return self._names[self._i] if self.is_valid() else None

    def text(self):
        found = self.term()
        return None if found is None else found.decode("utf-8")

    def term_info(self):
        return self._reader.term_info(self._fieldname, self.term())


class _ArrayTermsReader:
    """Whoosh's terms reader interface over a segment's posting arrays (see :class:`_ArrayCodec`)."""

    def __init__(self, arrays: segarrays.SegmentArrays | None) -> None:
        self._arrays = arrays
        self._fields = list(arrays.fields) if arrays is not None else []

    def _number(self, fieldname: str, tbytes: bytes) -> int | None:
        return None if self._arrays is None else self._arrays.term(fieldname, tbytes)

    def __contains__(self, term) -> bool:
        return self._number(*term) is not None

    def indexed_field_names(self):
        return list(self._fields)

    def field_terms(self, fieldname: str, start: bytes = b""):
        """The field's term bytes from the first one not below ``start`` (a binary search)."""
        if fieldname in self._fields:
            for t in self._arrays.terms_from(fieldname, start):
                yield self._arrays.term_bytes(t)

    def cursor(self, fieldname, fieldobj):
        return _ArrayCursor(self, fieldname)

    def terms(self):
        return ((name, t) for name in self._fields for t in self.field_terms(name))

    def terms_from(self, fieldname, prefix):
        # Like Whoosh's: from the prefix's place in its field on through the later fields.
        names = self._fields[self._fields.index(fieldname) :] if fieldname in self._fields else []
        for name in names:
            for t in self.field_terms(name, prefix if name == fieldname else b""):
                yield name, t

    def items(self):
        return ((key, self.term_info(*key)) for key in self.terms())

    def items_from(self, fieldname, prefix):
        return ((key, self.term_info(*key)) for key in self.terms_from(fieldname, prefix))

    def _postings(self, fieldname, tbytes):
        t = self._number(fieldname, tbytes)
        if t is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        docs, weights = self._arrays.postings(t)
        return t, docs, weights

    def term_info(self, fieldname, tbytes):
        _, docs, weights = self._postings(fieldname, tbytes)
        info = W3TermInfo()
        info._weight = float(weights.sum(dtype=np.float64))
        info._df = len(docs)
        info._minlength, info._maxlength = 0, 0
        info._maxweight = float(weights.max()) if len(weights) else 0.0
        info._minid = int(docs[0]) if len(docs) else None
        info._maxid = int(docs[-1]) if len(docs) else None
        return info

    def frequency(self, fieldname, tbytes) -> float:
        t = self._number(fieldname, tbytes)
        return 0 if t is None else float(self._arrays.postings(t)[1].sum(dtype=np.float64))

    def doc_frequency(self, fieldname, tbytes) -> int:
        t = self._number(fieldname, tbytes)
        return 0 if t is None else len(self._arrays.postings(t)[0])

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        t = self._number(fieldname, tbytes)
        if t is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        info = self.term_info(fieldname, tbytes)
        return _ArrayMatcher(
            self._arrays, t, self._arrays.values_kind(fieldname), format_, scorer, (fieldname, tbytes), info
        )

    def close(self) -> None:
        pass


class _ArrayMatcher(ListMatcher):
    """Whoosh's matcher over one term's postings in the arrays; a posting's occurrences are
    read (and encoded in the field's format) only when a query asks for them."""

    def __init__(self, arrays, t: int, kind: str, format_, scorer, term, terminfo, position: int = 0) -> None:
        docs, weights = arrays.postings(t)
        super().__init__(
            docs.tolist(), weights.tolist(), None, format_, scorer, position, term=term, terminfo=terminfo
        )
        self._arrays, self._t, self._kind = arrays, t, kind
        self._bounds = None  # each posting's first occurrence and count, found on first use

    def copy(self):
        return _ArrayMatcher(
            self._arrays, self._t, self._kind, self._format, self._scorer, self._term, self._terminfo, self._i
        )

    def value(self):
        if self._kind not in ("characters", "positions"):
            return ""
        if self._bounds is None:
            self._bounds = self._arrays.occurrence_bounds(self._t)
        firsts, counts = self._bounds
        found = self._arrays.occurrences_at(int(firsts[self._i]), int(counts[self._i]))
        return self._format.encode(found if self._kind == "characters" else [p for p, _, _ in found])


_COMMA_TERM = re.compile("[^,]+")


def _simple_analyzer(field) -> str:
    """ "id" or "commas" when ``field`` is Whoosh's ID field, or a KEYWORD field with commas
    and no lowercasing, whose terms :meth:`ArraySegmentWriter._indexed` makes directly."""
    analyzer, fmt = field.analyzer, type(field.format).__name__
    if type(analyzer) is IDTokenizer and fmt == "Existence":
        return "id"
    items = getattr(analyzer, "items", None)
    if (
        type(analyzer) is CompositeAnalyzer
        and fmt == "Frequency"
        and len(items) == 2
        and type(items[0]) is RegexTokenizer
        and items[0].expression.pattern == _COMMA_TERM.pattern
        and not items[0].gaps
        and type(items[1]) is StripFilter
    ):
        return "commas"
    return ""


# Whoosh stores each field length as one byte on a logarithmic scale: the length each byte
# stands for (whole numbers, exact as floats; the scorer reads them as floats).
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def _write_length_bytes(column, first: int, lengths: list[int]) -> None:
    """What ``column.add(i, length_to_byte(length))`` writes for documents ``first``, … of
    a lengths column (one byte each, 0 for none; Whoosh writes a 0 only before a later
    value), with the byte of every length at once."""
    # length_to_byte is bisect_left over the 256 lengths the bytes stand for, capped at 255.
    codes = np.searchsorted(_BYTE_TO_LENGTH, np.asarray(lengths, dtype=np.int64), side="left")
    codes = np.minimum(codes, 255).astype(np.uint8)
    used = np.flatnonzero(codes)
    if not len(used):
        return
    end = int(used[-1]) + 1
    column.fill(first)
    column._dbfile.write(codes[:end].tobytes())
    column._count = first + end


def _compress_stored(data: bytes, level: int = 0) -> bytes:
    """``data`` as zlib's level 0 writes it: stored blocks, no compression.

    A passage's stored fields (mostly Japanese text) shrink by only a sixth at zlib's level
    1 (1,061 -> 894 bytes on the 100k corpus), at 11 µs a passage. Whoosh reads the column
    with ``zlib.decompress``, so the blocks are framed here: 1 µs, where a call to zlib
    (which sets up a compressor's state each time) took 4.

    >>> import zlib
    >>> all(zlib.decompress(_compress_stored(b"x" * n)) == b"x" * n for n in (0, 5, 65535, 65536, 200000))
    True
    >>> _compress_stored(b"ab") == zlib.compress(b"ab", 0)
    True
    """
    size = len(data)
    checksum = zlib.adler32(data).to_bytes(4, "big")
    if size <= 65535:  # (a passage's: one block)
        return b"".join((_ONE_BLOCK.pack(0x78, 0x01, 1, size, size ^ 0xFFFF), data, checksum))
    blocks = [b"x\x01"]  # deflate, 32K window, no dictionary, "fastest" (a valid header check)
    for start in range(0, size, 65535):
        chunk = data[start : start + 65535]
        final = start + 65535 >= size
        blocks.append(_BLOCK.pack(final, len(chunk), len(chunk) ^ 0xFFFF))
        blocks.append(chunk)
    blocks.append(checksum)
    return b"".join(blocks)


_BLOCK = struct.Struct("<BHH")
_ONE_BLOCK = struct.Struct("<BBBHH")  # zlib's header, then the final block's


def _append_var_bytes(writer, first: int, blobs: list[bytes | None]) -> None:
    """What ``writer.add(i, blob)`` of a VarBytesColumn writer does for documents ``first``,
    … (None: nothing added, as a document without the value), for all of them at once."""
    while blobs and blobs[-1] is None:  # (left to the writer's fill, as Whoosh leaves them)
        blobs = blobs[:-1]
    if not blobs:
        return
    writer.fill(first)
    lengths = [0 if blob is None else len(blob) for blob in blobs]
    offsets = list(accumulate(lengths, initial=writer._offset_base))
    writer._dbfile.write(b"".join(blob for blob in blobs if blob is not None))
    _extend(writer._lengths, lengths)
    _extend(writer._offsets, offsets[:-1])
    writer._offset_base = offsets[-1]
    writer._count = first + len(blobs)


_TYPE_MAX = {"B": 0xFF, "H": 0xFFFF, "i": 0x7FFFFFFF, "I": 0xFFFFFFFF}


def _extend(numbers, values: list[int]) -> None:
    """``GrowableArray.extend`` in one call: widened first if the largest value needs it."""
    if not values:
        return
    top = max(values)
    if isinstance(numbers.array, array) and top > _TYPE_MAX.get(numbers.array.typecode, top):
        numbers._retype(top)
    numbers.array.extend(values)


def _on_disk(storage) -> bool:
    """Whether ``storage`` writes files on disk (not tests' RamStorage, not read-only)."""
    return isinstance(storage, FileStorage) and not storage.readonly


def _new_file(storage, name: str):
    """A file of the segment written once and mapped by readers later: on disk, past the
    page cache (``search.directfile``); a file in memory as it comes."""
    if _on_disk(storage):
        return directfile.create(os.path.join(storage.folder, name))
    return storage.create_file(name)


class _NewFiles:
    """``storage`` as Whoosh's compound writer sees it when it saves columns as files."""

    def __init__(self, storage) -> None:
        self.storage = storage

    def create_file(self, name: str):
        return _new_file(self.storage, name)


class _ArrayPerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer (stored fields, lengths, columns: the same files), which
    also takes a batch of documents field by field instead of document by document."""

    def __init__(self, *args, **kwargs) -> None:
        self._straight: list[structfile.StructFile] = []  # (Whoosh's __init__ makes _stored)
        super().__init__(*args, **kwargs)
        self._get_column("_stored")._child._compress = _compress_stored

    def _create_column(self, fieldname: str, column) -> None:
        # Whoosh writes each column to one temporary file, then copies it to a file of its
        # own. The stored fields (60 MB of a 50k-passage segment) go straight to theirs,
        # past the page cache: the column writer only ever appends.
        if fieldname != "_stored" or not _on_disk(self._storage):
            super()._create_column(fieldname, column)
            return
        out = structfile.StructFile(_new_file(self._storage, self._column_filename(fieldname)))
        self._straight.append(out)
        self._colwriters[fieldname] = column.writer(out)

    def add_documents(self, first: int, stored: list[dict], lengths: dict, values: dict) -> None:
        """Documents ``first``, ``first + 1``, …: their stored fields, their field lengths
        (field name -> list, 0 for none) and their column values (field name -> (column,
        list), None for none)."""
        if self._indoc or first != self._doccount:
            raise ValueError(f"documents must follow on: expected {self._doccount}, got {first}")
        # (as the pickling column writer's add, which pickles with protocol 2, in one batch)
        blobs = [_compress_stored(pickle.dumps(d, 2)) if d else None for d in stored]
        _append_var_bytes(self._get_column("_stored")._child, first, blobs)
        for name, counts in lengths.items():
            total = sum(counts)
            if not total:
                continue
            column_name = _lenfield(name)
            if not self._has_column(column_name):
                self._create_column(column_name, W3_LENGTHS_COLUMN)
            _write_length_bytes(self._get_column(column_name), first, counts)
            self._fieldlengths[name] += total
        for name, (column, column_values) in values.items():
            if not self._has_column(name):
                self._create_column(name, column)
            add = self._get_column(name).add
            for i, value in enumerate(column_values, first):
                if value is not None:
                    add(i, value)
        self._doccount += len(stored)

    def close(self) -> None:
        # Whoosh's close copies each column from its temporary file into a file of its own:
        # those (the stored fields' 60 MB of a 50k-passage segment) go past the page cache.
        save = self._cols.save_as_files
        self._cols.save_as_files = lambda storage, name_fn: save(_NewFiles(storage), name_fn)
        try:
            super().close()
        finally:
            for out in self._straight:
                out.file.close()


class ArraySegmentWriter:
    """Writes one segment whose postings are only :mod:`search.segarrays` arrays.

    Stored fields, columns and field lengths go to Whoosh's own files, through a
    per-document writer that takes a batch of documents field by field; the analyzed text
    fields arrive as term numbers (``search.batchterms``), and the other indexed fields are
    indexed as their Whoosh field would index them. Takes no lock: whoever commits the
    segments holds the index's.
    """

    def __init__(self, ix) -> None:
        codec = _ArrayCodec()
        self.schema, self.storage = ix.schema, ix.storage
        self.segment = codec.new_segment(self.storage, ix.indexname)
        self.perdoc = codec.per_document_writer(self.storage, self.segment)
        self.docnum = 0
        self._index_cache: dict[tuple[str, object], tuple[list, int]] = {}
        self._simple: dict[str, str] = {}
        self.buffers: dict[str, postingbuffer.FieldBuffer] = {}
        for name in sorted(self.schema.names()):
            field = self.schema[name]
            if field.indexed:
                fmt = field.format
                kinds = [kind for kind in ("characters", "positions") if fmt.supports(kind)]
                self.buffers[name] = postingbuffer.FieldBuffer(
                    name, kinds[0] if kinds else "", fmt.field_boost
                )

    def tokens(self) -> int:
        """Tokens and postings held so far."""
        return sum(len(b) for b in self.buffers.values())

    def add_documents(self, values: list[dict], numbered: dict) -> None:
        """Documents in turn, written field by field. ``values``: field name -> value, as for
        Whoosh's ``add_document`` (names starting with ``_`` and None values are skipped, as
        Whoosh skips them). ``numbered``: for every positional field, name -> (vocab, counts,
        terms, positions, starts, ends), the tokens of all these documents as arrays of
        ``search.vocab.Vocab`` numbers, ``counts`` tokens per document; other indexed fields
        are indexed as their Whoosh field would index them."""
        first, count = self.docnum, len(values)
        stored: list[dict] = [{} for _ in values]
        lengths: dict[str, list[int]] = {}
        columns: dict[str, tuple] = {}
        for name in sorted(name for name in set().union(*values) if not name.startswith("_")):
            field = self.schema[name]
            try:  # (every document has every field, as index_document makes them)
                column = list(map(itemgetter(name), values))
            except KeyError:
                column = [v.get(name) for v in values]
            if field.indexed:
                buf = self.buffers[name]
                if buf.values:  # positional: its tokens come numbered
                    if name not in numbered:
                        raise ValueError(f"field {name}: positional, but no numbered tokens were given")
                    vocab, counts, terms, positions, starts, ends = numbered[name]
                    docs = np.repeat(np.arange(first, first + count, dtype=np.int32), counts)
                    buf.add_numbered(vocab, docs, terms, positions, starts, ends)
                    field_lengths = counts.tolist()
                else:
                    indexed = self._indexed_column(name, field, column)
                    buf.add_documents_postings(first, [None if x is None else x[0] for x in indexed])
                    field_lengths = [0 if x is None else x[1] for x in indexed]
                if field.scorable:
                    lengths[name] = field_lengths
            if field.stored:
                for doc_stored, value in zip(stored, column, strict=True):
                    if value is not None:
                        doc_stored[name] = value
            if field.column_type and any(v is not None for v in column):
                to_column = field.to_column_value
                columns[name] = (field.column_type, [None if v is None else to_column(v) for v in column])
        self.perdoc.add_documents(first, stored, lengths, columns)
        self.docnum += count

    def _indexed_column(self, name: str, field, column: list) -> list:
        """``_indexed`` of each value (None for None). Values repeat from passage to passage
        (kinds, years, a document's id): each distinct one is indexed once per batch."""
        if not all(type(v) is str or v is None for v in column):  # (1, 1.0 and True are one key)
            return [None if v is None else self._indexed(name, field, v) for v in column]
        distinct = dict.fromkeys(column)
        distinct.pop(None, None)
        if self._kind(name, field) == "id":  # (every passage's id: no call a value)
            boost = field.format.field_boost
            found = {v: ([(v.encode("utf-8"), boost)], 1) for v in distinct}
        else:
            found = {v: self._indexed(name, field, v) for v in distinct}
        found[None] = None
        return list(map(found.__getitem__, column))

    def _kind(self, name: str, field) -> str:
        kind = self._simple.get(name)
        if kind is None:
            kind = self._simple[name] = _simple_analyzer(field)
        return kind

    def _indexed(self, name: str, field, value) -> tuple[list[tuple[bytes, float]], int]:
        """(postings, length) of a field Whoosh indexes; kinds, years and places repeat from
        passage to passage, so each value is analyzed once per segment."""
        if not isinstance(value, str):
            return self._whoosh_indexed(field, value)
        kind = self._kind(name, field)
        if kind == "id":
            # The value is its one term, as Whoosh's ID field makes it; passage ids are all
            # different, so none repeats.
            return [(value.encode("utf-8"), field.format.field_boost)], 1
        key = (name, value)
        found = self._index_cache.get(key)
        if found is None:
            if kind == "commas":
                # Comma-separated, stripped terms weighted by count, as KEYWORD(commas=True).
                terms = [t.strip() for t in _COMMA_TERM.findall(value)]
                boost = field.format.field_boost
                postings = [(t.encode("utf-8"), c * boost) for t, c in Counter(terms).items()]
                found = (postings, len(terms))
            else:
                found = self._whoosh_indexed(field, value)
            if len(self._index_cache) >= 10_000:  # (a passage's months rarely repeat: bound the memory)
                self._index_cache.clear()
            self._index_cache[key] = found
        return found

    @staticmethod
    def _whoosh_indexed(field, value) -> tuple[list[tuple[bytes, float]], int]:
        postings = []
        length = 0
        for tbytes, freq, weight, _ in field.index(value):
            postings.append((tbytes, weight))
            length += freq
        return postings, length

    def finish(self):
        """Write the arrays, close the segment and return it (for the TOC). Its files stay
        loose: Whoosh's compound file would copy the stored fields and columns a second time
        (0.2 s of a 50k-passage segment's end), and a reader maps them just as well where
        they are."""
        self.perdoc.close()
        out_name = self.segment.make_filename(segarrays.EXT)
        fields = {}
        postingbuffer.share_orders(list(self.buffers.values()))
        # Largest first: the peak of a segment's memory is the largest field's sort, and
        # every field sorted before it waits in memory, sorted, until all are written.
        for name in sorted(self.buffers, key=lambda name: -len(self.buffers[name])):
            fields[name] = self.buffers[name].sort()
            self.buffers[name] = None  # the token arrays can go as soon as they are sorted
        with _new_file(self.storage, out_name) as out:
            segarrays.write_sorted(out, [fields[name] for name in sorted(fields)])
        self.segment.set_doc_count(self.docnum)
        return self.segment

    def cancel(self) -> None:
        if not self.perdoc.is_closed:
            self.perdoc.close()
        prefix = self.segment.make_filename("")
        for name in list(self.storage.list()):
            if name.startswith(prefix):
                self.storage.delete_file(name)


_ARRAYS: OrderedDict[tuple[str | None, str], segarrays.SegmentArrays | None] = OrderedDict()
_ARRAYS_MAX = 64  # segments whose arrays stay mapped (a generation has a few per build worker)
_ARRAYS_LOCK = threading.Lock()


def segment_arrays(leaf) -> segarrays.SegmentArrays | None:
    """The posting arrays written beside a segment, or None for a segment without them
    (written before they existed, or by another codec)."""
    segment = leaf.segment()
    if segment is None:  # the reader of an index without segments (nothing was indexed)
        return None
    if leaf.has_deletions() and not isinstance(segment.codec(), _ArrayCodec):
        return None  # the arrays still hold the deleted documents; Whoosh's postings do not
    terms = getattr(leaf, "_terms", None)
    if isinstance(terms, _ArrayTermsReader):
        # The reader mapped its arrays when it opened: a request that began before a rebuild
        # switched the index keeps them after the old generation's files are deleted and the
        # process's cache has let them go.
        return terms._arrays
    return _arrays_of(getattr(leaf, "_storage", None), segment)


def _arrays_of(storage, segment) -> segarrays.SegmentArrays | None:
    # (a compound segment's storage looks in the compound file, then the folder: b)
    folder = getattr(storage, "folder", None) or getattr(getattr(storage, "b", None), "folder", None)
    key = (folder, segment.segment_id())
    with _ARRAYS_LOCK:
        if key in _ARRAYS:
            _ARRAYS.move_to_end(key)
            return _ARRAYS[key]
    found = None
    name = segment.make_filename(segarrays.EXT)
    if storage is not None and storage.file_exists(name):
        f = storage.open_file(name)
        buf = getattr(f, "_buf", None)
        if buf is None:
            # A loose file is mapped rather than read; one inside a compound file that could
            # not be mapped is read.
            path = f"{folder}/{name}" if folder else None
            buf = np.memmap(path, mode="r") if path and os.path.isfile(path) else f.read()
            f.close()
        found = segarrays.SegmentArrays(buf)
    with _ARRAYS_LOCK:
        _ARRAYS[key] = found
        while len(_ARRAYS) > _ARRAYS_MAX:
            _ARRAYS.popitem(last=False)
    return found


def forget_segment_arrays(keep: str | None = None) -> None:
    """Drop the arrays of every segment outside the folder ``keep`` (when a new generation is
    served): the maps of an old generation's files would otherwise keep them, deleted, on
    disk. Readers still open on the old generation hold their own."""
    with _ARRAYS_LOCK:
        for key in [k for k in _ARRAYS if k[0] != keep]:
            del _ARRAYS[key]


def _term_number(arrays: segarrays.SegmentArrays, leaf, fieldname: str, text) -> int | None:
    btext = leaf.schema[fieldname].to_bytes(text) if isinstance(text, str) else text
    return arrays.term(fieldname, btext)


def leaf_postings(leaf, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of one term in one segment, as arrays: sliced from the
    segment's posting arrays, or read posting by posting from a segment without them (a
    segment of Whoosh's own codec, which filters deleted documents)."""
    arrays = segment_arrays(leaf)
    if arrays is not None and arrays.values_kind(fieldname) is not None:
        t = _term_number(arrays, leaf, fieldname, text)
        if t is None:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        docs, weights = arrays.postings(t)
        return docs.astype(np.int64), weights.astype(np.float64)
    try:
        m = leaf.postings(fieldname, text)
    except TermNotFound:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ids: list = []
    weights: list = []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def leaf_positions(leaf, fieldname: str, text: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Every position of one term in the (segment-local, ascending) documents ``docs``, as
    two flat arrays (document, position); None when the segment has no position arrays."""
    arrays = segment_arrays(leaf)
    if arrays is None or arrays.values_kind(fieldname) not in ("characters", "positions"):
        return None
    t = _term_number(arrays, leaf, fieldname, text)
    if t is None:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return arrays.positions(t, docs)


def leaf_characters(
    leaf, fieldname: str, text: str, wanted: list[int], kind: str = "characters"
) -> dict[int, list]:
    """(position, start, end) occurrences of one term in the documents ``wanted`` (ascending,
    segment-local); with ``kind`` "positions", the positions alone."""
    found: dict[int, list] = {}
    arrays = segment_arrays(leaf)
    if arrays is not None and arrays.values_kind(fieldname) in (kind, "characters"):
        t = _term_number(arrays, leaf, fieldname, text)
        if t is None:
            return found
        found = arrays.characters(t, wanted)
        if kind == "positions":
            return {docnum: [p for p, _, _ in occurrences] for docnum, occurrences in found.items()}
        return found
    try:
        m = leaf.postings(fieldname, text)
    except TermNotFound:
        return found
    for docnum in wanted:
        if not m.is_active():
            break
        if m.id() < docnum:
            m.skip_to(docnum)
            if not m.is_active():
                break
        if m.id() == docnum:
            found[docnum] = list(m.value_as(kind))
    return found


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
