"""The posting arrays of each segment read the same through renkei's readers and Whoosh's."""

from __future__ import annotations

import bisect
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import backend, postingbuffer, segarrays, store
from search.vocab import Vocab

FIELDS = ["text", "text_base", "text_reading", "text_bigram", "title", "section_base", "municipality", "year"]


def _whoosh_only(monkeypatch) -> None:
    monkeypatch.setattr(backend, "segment_arrays", lambda leaf: None)


@pytest.mark.parametrize("which", ["seed_index", "multi_segment"])
def test_every_term_reads_the_same_from_arrays_and_from_whoosh(request, monkeypatch, which):
    searcher = store.open_index(request.getfixturevalue(which)).searcher()
    leaves = searcher.reader().leaf_readers()
    assert len(leaves) == (1 if which == "seed_index" else 2)
    checked = 0
    for leaf, _ in leaves:
        assert backend.segment_arrays(leaf) is not None
        for fieldname in FIELDS:
            terms = [t.decode("utf-8") for t in leaf.lexicon(fieldname)]
            assert terms, fieldname
            for text in terms[:: max(1, len(terms) // 150)]:
                from_arrays = backend.leaf_postings(leaf, fieldname, text)
                chars = None
                if fieldname.startswith("text"):
                    wanted = sorted({0, *from_arrays[0][::3].tolist(), int(from_arrays[0][-1]) + 1})
                    chars = backend.leaf_characters(leaf, fieldname, text, wanted)
                    where, positions = backend.leaf_positions(leaf, fieldname, text, np.array(wanted))
                    flat = [(d, p) for d, found in sorted(chars.items()) for p, _, _ in found]
                    assert list(zip(where.tolist(), positions.tolist(), strict=True)) == flat
                with monkeypatch.context() as m:
                    _whoosh_only(m)
                    from_whoosh = backend.leaf_postings(leaf, fieldname, text)
                    if chars is not None:
                        assert chars == backend.leaf_characters(leaf, fieldname, text, wanted)
                        assert chars, (fieldname, text)
                assert from_arrays[0].tolist() == from_whoosh[0].tolist(), (fieldname, text)
                assert from_arrays[1].tolist() == from_whoosh[1].tolist(), (fieldname, text)
                checked += 1
        missing = backend.leaf_postings(leaf, "text", "索引に無い語")
        assert len(missing[0]) == 0 and backend.leaf_characters(leaf, "text", "索引に無い語", [0]) == {}
    assert checked > 500


def test_arrays_round_trip_through_batches_and_the_file(monkeypatch):
    monkeypatch.setattr(postingbuffer, "BATCH", 2)  # move postings to arrays every two
    postings = {
        ("a", "x"): [(0, [(3, 10, 12)]), (4, [(0, 0, 1), (2, 5, 6)])],
        ("a", "y"): [(1, [(0, 0, 2), (5, 9, 11), (9, 20, 23)]), (2, [(1, 4, 5)]), (9, [(2, 6, 8)])],
        ("b", "x"): [(3, [(7, -1, -1)])],
    }
    buffers = {
        "a": postingbuffer.FieldBuffer("a", "characters"),
        "b": postingbuffer.FieldBuffer("b", "positions", 2.0),
    }
    by_doc: dict = {}
    for (field, term), rows in postings.items():
        for doc, occurrences in rows:
            for occurrence in occurrences:
                by_doc.setdefault((field, doc), []).append(
                    (occurrence[0], term, occurrence[1], occurrence[2])
                )
    vocab = Vocab()
    for (field, doc), tokens in sorted(by_doc.items(), key=lambda item: item[0][1]):
        tokens.sort()  # a document's tokens in position order, documents ascending
        terms, positions, starts, ends = (
            list(c) for c in zip(*[(t, p, s, e) for p, t, s, e in tokens], strict=True)
        )
        buffers[field].add_numbered(vocab, [doc] * len(terms), vocab.ids_of(terms), positions, starts, ends)
    buffers["c"] = postingbuffer.FieldBuffer("c", "")
    buffers["c"].add_postings(5, [(b"k", 1.0), (b"j", 3.0)])
    buffers["c"].add_postings(7, [(b"j", 1.0)])
    out = io.BytesIO()
    segarrays.write_sorted(out, [buffers[name].sort() for name in sorted(buffers)])
    arrays = segarrays.SegmentArrays(out.getvalue())
    assert [arrays.values_kind(f) for f in "abcd"] == ["characters", "positions", "", None]
    assert arrays.term("a", b"q") is None and arrays.term("c", b"x") is None
    assert [a.tolist() for a in arrays.postings(arrays.term("c", b"j"))] == [[5, 7], [3.0, 1.0]]
    for (name, term), rows in postings.items():
        t = arrays.term(name, term.encode())
        docs, weights = arrays.postings(t)
        boost = 2.0 if name == "b" else 1.0
        assert docs.tolist() == [r[0] for r in rows]
        assert weights.tolist() == [boost * len(r[1]) for r in rows]
        found = arrays.characters(t, [r[0] for r in rows] + [100])
        assert found == {r[0]: r[1] for r in rows}
        where, positions = arrays.positions(t, np.array([r[0] for r in rows[1:]] + [100]))
        assert where.tolist() == [r[0] for r in rows[1:] for _ in r[1]]
        assert positions.tolist() == [o[0] for r in rows[1:] for o in r[1]]


@pytest.mark.parametrize(
    ("position", "start", "length", "count", "expected"),
    [
        (
            3,
            10,
            2,
            1,
            {"position_counts": "<u1", "positions": "<i2", "char_starts": "<i2", "char_lengths": "<u1"},
        ),
        # 300 occurrences of one term in one document: a uint16 count
        (
            70_000,
            40_000,
            300,
            300,
            {"position_counts": "<u2", "positions": "<i4", "char_starts": "<i4", "char_lengths": "<u2"},
        ),
    ],
)
def test_occurrence_arrays_take_the_narrowest_type_that_holds_them(position, start, length, count, expected):
    """Small values are written as int16/uint8, and a segment holding a larger one widens
    that array; either way the values read back the same."""
    vocab, buffer = Vocab(), postingbuffer.FieldBuffer("a", "characters")
    terms = vocab.ids_of(["x"] * count + ["y"])
    positions = [position + i for i in range(count)] + [0]
    starts = [start + i for i in range(count)] + [-1]
    ends = [s + length for s in starts[:-1]] + [-1]
    buffer.add_numbered(vocab, [0] * (count + 1), terms, positions, starts, ends)
    out = io.BytesIO()
    segarrays.write_sorted(out, [buffer.sort()])
    arrays = segarrays.SegmentArrays(out.getvalue())
    assert {name: arrays.arrays[name].dtype for name in expected} == {
        k: np.dtype(v) for k, v in expected.items()
    }
    found = arrays.characters(arrays.term("a", b"x"), [0])
    assert found == {0: [(position + i, start + i, start + i + length) for i in range(count)]}
    assert arrays.characters(arrays.term("a", b"y"), [0]) == {0: [(0, -1, -1)]}
    where, read = arrays.positions(arrays.term("a", b"x"), np.array([0]))
    assert read.tolist() == positions[:-1] and where.tolist() == [0] * count


@pytest.mark.parametrize(
    ("last_doc", "boost", "expected"),
    [
        (65_535, 1.5, {"docs": "<u2", "weights": "<f2"}),
        (65_536, 1.5, {"docs": "<i4", "weights": "<f2"}),
        (7, 1.1, {"docs": "<u2", "weights": "<f4"}),  # 1.1 is not exact in 16 bits
    ],
)
def test_documents_and_weights_take_16_bits_when_exact(last_doc, boost, expected):
    """Document numbers below 65,536 are written as uint16 and weights exact in float16 as
    float16; either way a term's postings read back the same."""
    vocab, buffer = Vocab(), postingbuffer.FieldBuffer("a", "characters", boost=boost)
    terms = vocab.ids_of(["x", "x", "x", "y"])
    buffer.add_numbered(vocab, [0, 0, 3, last_doc], terms, [0, 1, 0, 0], [0, 2, 0, 0], [1, 3, 1, 1])
    out = io.BytesIO()
    segarrays.write_sorted(out, [buffer.sort()])
    arrays = segarrays.SegmentArrays(out.getvalue())
    assert {name: arrays.arrays[name].dtype for name in expected} == {
        k: np.dtype(v) for k, v in expected.items()
    }
    docs, weights = arrays.postings(arrays.term("a", b"x"))
    assert docs.tolist() == [0, 3] and weights.tolist() == [np.float32(2 * boost), np.float32(boost)]
    docs, weights = arrays.postings(arrays.term("a", b"y"))
    assert docs.tolist() == [last_doc] and weights.tolist() == [np.float32(boost)]


def test_a_segment_without_arrays_is_read_through_whoosh(tmp_path):
    """Segments written before the arrays existed (or by Whoosh's own codec) still read."""
    schema = backend.fields.Schema(body=backend.fields.TEXT(chars=True))
    ix = backend.index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        w.add_document(body="alpha beta alpha")
        w.add_document(body="beta")
    with ix.searcher() as s:
        (leaf, _), *_ = s.reader().leaf_readers()
        assert backend.segment_arrays(leaf) is None
        docs, weights = backend.leaf_postings(leaf, "body", "alpha")
        assert docs.tolist() == [0] and weights.tolist() == [2.0]
        assert backend.leaf_characters(leaf, "body", "beta", [0, 1]) == {0: [(1, 6, 10)], 1: [(0, 0, 4)]}
        assert np.array_equal(backend.leaf_postings(leaf, "body", "beta")[0], [0, 1])


@settings(max_examples=40, deadline=None)
@given(
    words=st.sets(st.text("あいう亜ab", min_size=1, max_size=4), min_size=70, max_size=200),
    probes=st.lists(st.text("あいう亜abc", max_size=5), max_size=20),
)
def test_term_lookups_find_every_term_and_no_other(words, probes):
    # Lookups start from every 32nd term: fields longer than that exercise the blocks. An
    # empty field's range starts where the next field's does (read in both orders).
    buffers = [postingbuffer.FieldBuffer(name, "") for name in ("a", "b", "c")]
    for doc, word in enumerate(sorted(words)):
        for buffer in (buffers[0], buffers[2]):
            buffer.add_postings(doc, [(word.encode(), 1.0)])
    out = io.BytesIO()
    segarrays.write_sorted(out, [buffer.sort() for buffer in buffers])
    arrays = segarrays.SegmentArrays(out.getvalue())
    if probes:
        arrays.term("b", probes[0].encode())  # the empty field first, sometimes
    else:
        arrays.prepare_lookups()
    ordered = sorted(w.encode() for w in words)
    assert all(arrays.term("b", w) is None for w in ordered[:3]) and not list(arrays.terms_from("b", b"a"))
    for field, offset in (("a", 0), ("c", len(ordered))):
        for i, term in enumerate(ordered):
            assert arrays.term(field, term) == offset + i
        for probe in probes:
            key = probe.encode()
            assert arrays.term(field, key) == (offset + ordered.index(key) if key in ordered else None)
            after = list(arrays.terms_from(field, key))
            assert after == list(range(offset + bisect.bisect_left(ordered, key), offset + len(ordered)))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 5),
    st.lists(st.one_of(st.just(0), st.integers(0, 300), st.integers(0, 200_000)), max_size=40),
    st.lists(st.integers(0, 1000), max_size=5),
)
def test_length_bytes_are_written_as_whoosh_writes_them(first, lengths, before):
    """A batch of field lengths gives the same column bytes as Whoosh's writer, document by
    document (after earlier documents, and with gaps of documents without the field)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN
    from whoosh.filedb.structfile import StructFile
    from whoosh.util.numeric import length_to_byte

    files = []
    for batched in (False, True):
        f = io.BytesIO()
        writer = LENGTHS_COLUMN.writer(StructFile(f))
        for i, length in enumerate(before):
            if length:
                writer.add(i, length_to_byte(length))
        start = len(before) + first
        if batched:
            backend._write_length_bytes(writer, start, lengths)
        else:
            for i, length in enumerate(lengths, start):
                if length:
                    writer.add(i, length_to_byte(length))
        writer.finish(start + len(lengths) + 2)
        files.append(f.getvalue())
    assert files[0] == files[1]


# (monkeypatch is set afresh in every example)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs=st.lists(
        st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=12), min_size=1, max_size=8
    ),
    first_doc=st.sampled_from([0, 65_530]),
)
def test_compiled_and_numpy_sorts_give_one_field(monkeypatch, docs, first_doc):
    """A field's postings come out the same from the compiled loops (a large segment's) and
    from numpy's sort (a small one's): terms, postings, counts, weights and occurrences."""

    def sorted_field(compiled: bool):
        monkeypatch.setattr(postingbuffer, "COMPILED_SORT_TOKENS", 0 if compiled else 10**12)
        monkeypatch.setattr(postingbuffer.keytable, "numba_started", lambda: compiled)
        vocab, buffer = Vocab(), postingbuffer.FieldBuffer("a", "characters", boost=1.5)
        for doc, tokens in enumerate(docs, first_doc):
            terms = vocab.ids_of([f"t{term}" for term, _ in tokens])
            starts = [3 * i for i in range(len(tokens))]
            ends = [s + 1 + width for s, (_, width) in zip(starts, tokens, strict=True)]
            buffer.add_numbered(vocab, [doc] * len(tokens), terms, list(range(len(tokens))), starts, ends)
        return buffer.sort()

    compiled, plain = sorted_field(True), sorted_field(False)
    assert compiled.terms == plain.terms
    arrays = ("post_starts", "docs", "weights", "position_counts", "positions", "char_starts", "char_lengths")
    for name in arrays:
        a, b = getattr(compiled, name), getattr(plain, name)
        assert a.tolist() == b.tolist() and a.dtype == b.dtype, name
    # The compiled sort's terms stay packed in their blob; the file written is the same.
    files = []
    for field in (compiled, plain):
        out = io.BytesIO()
        segarrays.write_sorted(out, [field])
        files.append(out.getvalue())
    assert files[0] == files[1]


# Terms that share long prefixes (the compiled sort goes 8 bytes at a time), repeat, and hold
# NUL (which the 8-byte keys pad with), and Japanese text.
_TERM = st.one_of(
    st.binary(max_size=20),
    st.lists(st.sampled_from([b"\x00", b"a", b"ab", b"\xe3\x82\xad", b"\xe9\x80\xa3"]), max_size=12).map(
        b"".join
    ),
)


@settings(max_examples=200, deadline=None)
@given(terms=st.lists(_TERM, max_size=60))
def test_compiled_byte_order_sorts_as_python(terms):
    """The compiled byte order of a segment's terms is Python's order of bytes, with one rank
    for each distinct term."""
    ordered, order, ranks = postingbuffer._byte_order(terms, compiled_from=0)
    assert ordered == sorted(set(terms))
    assert sorted(order.tolist()) == list(range(len(terms)))
    assert [ordered[r] for r in ranks.tolist()] == [terms[i] for i in order.tolist()]
    assert postingbuffer._byte_order(terms, compiled_from=10**9)[0] == ordered


def test_compiled_byte_order_settles_long_runs_of_one_prefix():
    """Thousands of terms behind one 8-byte prefix, some with NUL, go through the radix steps
    (runs longer than the insertion-sorted ones) and still come out in Python's order."""
    rng = np.random.default_rng(5)
    alphabet = [b"\x00", b"a", b"b", b"\xe3\x83\xbc"]
    terms = [
        b"\xe3\x82\xad\xe3\x83\xa5\xe3\x82" + b"".join(rng.choice(alphabet, rng.integers(0, 30)))
        for _ in range(3000)
    ]
    ordered, order, ranks = postingbuffer._byte_order(terms, compiled_from=0)
    assert ordered == sorted(set(terms)) and len(ordered) < len(terms)
    assert [ordered[r] for r in ranks.tolist()] == [terms[i] for i in order.tolist()]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.text(alphabet="ab\x00連携キュ", max_size=12), max_size=40))
def test_compiled_and_numpy_number_one_vocabulary_alike(monkeypatch, words):
    """A vocabulary's terms go to the compiled sort as one UTF-8 blob (or one by one when a
    term holds NUL): the same terms and ranks as numpy's sort gives."""
    vocab = Vocab()
    numbers = np.unique(vocab.ids_of(words)) if words else np.empty(0, np.int64)

    def sort(compiled: bool):
        monkeypatch.setattr(postingbuffer, "COMPILED_SORT_TOKENS", 0 if compiled else 10**12)
        monkeypatch.setattr(postingbuffer.keytable, "numba_started", lambda: compiled)
        terms, rank = postingbuffer._sorted_terms(vocab, numbers)
        return terms, rank.tolist()

    assert sort(True) == sort(False)
    assert sort(True)[0] == sorted({w.encode() for w in words})
