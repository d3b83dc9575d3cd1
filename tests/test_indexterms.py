"""A rebuild's one-pass tokens and array segments are exactly what the analyzers and Whoosh's
own writer give: the fast path changes how, never what."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.build import collect, index_document
from search import backend, segarrays
from search.backend import ArraySegmentWriter
from search.batchterms import TextBatch
from search.indexterms import field_tokens
from search.schema import INDEX_RECIPES, build_schema

SCHEMA = build_schema()


def _analyzed(name: str, value: str) -> list[tuple]:
    analyzer = SCHEMA[name].analyzer
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in analyzer(value, positions=True, chars=True, mode="index")
    ]


def _fast(name: str, value: str) -> list[tuple]:
    return list(zip(*field_tokens(value, INDEX_RECIPES[name]), strict=True))


@pytest.fixture(scope="module")
def seed_values(seeds_dir: Path) -> list[dict]:
    passages, _ = collect(seeds_dir)
    return [index_document(p, n) for n, p in enumerate(passages)]


def test_every_recipe_is_a_text_field_of_the_schema():
    assert set(INDEX_RECIPES) == {
        n for n in SCHEMA.names() if SCHEMA[n].format and SCHEMA[n].format.supports("positions")
    }


@pytest.mark.parametrize("name", sorted(INDEX_RECIPES))
def test_tokens_equal_the_analyzer_on_every_seed_passage(seed_values, name):
    compared = 0
    for values in seed_values:
        value = values[name]
        assert _fast(name, value) == _analyzed(name, value), value
        compared += bool(value)
    assert compared > 50


# Kana, kanji (with 々 and an old form), long vowels, width and case variants, digits and
# kanji numerals, enclosed and compatibility characters, punctuation, spaces and controls.
_ALPHABET = st.sampled_from(
    list("あいうえおかがきくけこさしすせそたちつてとなにのはばぱまみむめもやゆよらりるれろわをん")
    + list("アイウエオカガキクケコサシスセソタチツテトナニノハバパマミムメモヤユヨラリルレロワヲンー")
    + list("ｱｲｳｴｵｶﾞｷﾟｰ")
    + list("市町村県区都府道連携協約交流観光振興図書館久留米福岡北九州人々國學第条年月日令和平成")
    + list("一二三四五六七八九十百千")
    + list("0123456789０１２３４５６７８９abcABCａｂｃＡＢＣ")
    + list("㈱㍻①②・、。（）「」-.,:/ 　\t\n")
)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=40))
def test_tokens_equal_the_analyzers_on_generated_text(value):
    for name in INDEX_RECIPES:
        assert _fast(name, value) == _analyzed(name, value), name


def _whoosh_segment(ix, values: list[dict]):
    """The same documents through Whoosh's own writer and codec."""
    from search.backend import SegmentWriter

    writer = SegmentWriter(ix, _lk=False)
    for v in values:
        writer.add_document(**v)
    return writer._finalize_segment()


def _array_segment(ix, values: list[dict]):
    """As a rebuild writes them: batches of documents analyzed together (search.batchterms)."""
    writer = ArraySegmentWriter(ix)
    for first in range(0, len(values), 17):
        batch_values = values[first : first + 17]
        texts = list({v[name]: None for v in batch_values for name in ("title", "text", "section")})
        numbered = TextBatch(texts).numbered(batch_values, {t: i for i, t in enumerate(texts)})
        assert set(numbered) == set(INDEX_RECIPES)
        writer.add_documents(batch_values, numbered)
    return writer.finish()


def _twins(folder: Path, values: list[dict]):
    """An index of ``values`` twice: a segment written by Whoosh, then an array one."""
    ix = backend.index.create_in(str(folder), SCHEMA)
    writer = ix.writer()
    segments = [_whoosh_segment(ix, values), _array_segment(ix, values)]
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
    return ix


@pytest.fixture(scope="module")
def twin_readers(tmp_path_factory, seed_values):
    """One index holding the seed passages twice: a Whoosh-written segment, then an array one."""
    reader = _twins(tmp_path_factory.mktemp("twins"), seed_values).reader()
    (whoosh_leaf, _), (array_leaf, _) = reader.leaf_readers()
    yield whoosh_leaf, array_leaf
    reader.close()


def test_array_segment_holds_the_same_postings(twin_readers):
    whoosh_leaf, array_leaf = twin_readers
    assert backend.segment_arrays(whoosh_leaf) is None and backend.segment_arrays(array_leaf) is not None
    compared = 0
    for name in SCHEMA.names():
        if not SCHEMA[name].indexed:
            continue
        terms = list(whoosh_leaf.lexicon(name))
        assert terms == list(array_leaf.lexicon(name)), name
        kind = next((k for k in ("characters", "positions") if SCHEMA[name].format.supports(k)), None)
        for term in terms:
            text = term.decode("utf-8")
            docs_w, weights_w = backend.leaf_postings(whoosh_leaf, name, text)
            docs_a, weights_a = backend.leaf_postings(array_leaf, name, text)
            assert np.array_equal(docs_w, docs_a) and np.array_equal(weights_w, weights_a), (name, text)
            if kind:
                wanted = docs_w.tolist()
                assert backend.leaf_characters(
                    whoosh_leaf, name, text, wanted, kind
                ) == backend.leaf_characters(array_leaf, name, text, wanted, kind), (name, text)
            compared += 1
    assert compared > 5000


def test_array_segment_stores_the_same_documents(twin_readers):
    whoosh_leaf, array_leaf = twin_readers
    assert whoosh_leaf.doc_count_all() == array_leaf.doc_count_all()
    for name in SCHEMA.scorable_names():
        assert whoosh_leaf.field_length(name) == array_leaf.field_length(name), name
        assert np.array_equal(
            backend.field_lengths(whoosh_leaf, name), backend.field_lengths(array_leaf, name)
        )
    for doc in range(whoosh_leaf.doc_count_all()):
        assert whoosh_leaf.stored_fields(doc) == array_leaf.stored_fields(doc)
    for column in ("order", "date_sort", "facets"):
        assert list(whoosh_leaf.column_reader(column)) == list(array_leaf.column_reader(column))


@pytest.mark.parametrize(
    "field,text",
    [("text", "交流"), ("text_base", "締結"), ("title", "連携"), ("kind", "activity"), ("doc_id", None)],
)
def test_whoosh_reads_an_array_segment_as_its_own(twin_readers, field, text):
    whoosh_leaf, array_leaf = twin_readers
    if text is None:
        text = next(iter(whoosh_leaf.lexicon(field))).decode("utf-8")
    for reader in (whoosh_leaf, array_leaf):
        assert (field, text) in reader
    assert whoosh_leaf.doc_frequency(field, text) == array_leaf.doc_frequency(field, text) > 0
    assert whoosh_leaf.frequency(field, text) == pytest.approx(array_leaf.frequency(field, text))
    assert list(whoosh_leaf.lexicon(field)) == list(array_leaf.lexicon(field))
    prefix = text[:1]
    assert list(whoosh_leaf.expand_prefix(field, prefix)) == list(array_leaf.expand_prefix(field, prefix))
    m_a, m_b = whoosh_leaf.postings(field, text), array_leaf.postings(field, text)
    assert list(m_a.all_ids()) == list(m_b.all_ids())
    m_a, m_b = whoosh_leaf.postings(field, text), array_leaf.postings(field, text)
    kind = "characters" if SCHEMA[field].format.supports("characters") else None
    assert m_b.term() == m_a.term() == (field, text.encode("utf-8"))
    while m_a.is_active():
        assert m_a.id() == m_b.id() and m_a.weight() == pytest.approx(m_b.weight())
        twin = m_b.copy()
        assert (twin.id(), twin.term()) == (m_b.id(), m_b.term())
        if kind:
            assert m_a.value_as(kind) == m_b.value_as(kind)
        m_a.next()
        m_b.next()
    assert not m_b.is_active()
    assert ("text", "存在しない語彙") not in array_leaf


def test_an_empty_field_file_is_still_readable(tmp_path):
    ix = backend.index.create_in(str(tmp_path), SCHEMA)
    writer = ix.writer()
    segment = _array_segment(ix, [])
    writer._close_segment()
    writer._commit_toc([segment])
    writer._finish()
    with ix.reader() as reader:
        assert reader.doc_count() == 0
        assert reader.doc_frequency("text", "交流") == 0
    assert segarrays.EXT == ".rka"


def test_missing_values_and_private_names_are_skipped_as_whoosh_skips_them(tmp_path, seed_values):
    """None values are not stored, indexed or given a column value; a column no document has
    a value for is not made; names starting with ``_`` are ignored."""
    values = [dict(v) for v in seed_values[:3]]
    for v in values:
        v["facets"] = None
        v["_boost"] = 2.0
    values[1]["date_sort"] = values[1]["municipality"] = values[1]["payload"] = None
    with _twins(tmp_path, values).reader() as reader:
        (whoosh_leaf, _), (array_leaf, _) = reader.leaf_readers()
        for leaf in (whoosh_leaf, array_leaf):
            assert not leaf.has_column("facets") and leaf.has_column("date_sort")
            assert "payload" not in leaf.stored_fields(1) and "payload" in leaf.stored_fields(0)
        assert list(whoosh_leaf.column_reader("date_sort")) == list(array_leaf.column_reader("date_sort"))
        for doc in range(3):
            assert whoosh_leaf.stored_fields(doc) == array_leaf.stored_fields(doc)
        assert list(whoosh_leaf.lexicon("municipality")) == list(array_leaf.lexicon("municipality"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.binary(max_size=40), st.just(b"y" * 70_000)), max_size=12),
    st.integers(0, 3),
)
def test_stored_blobs_in_one_batch_write_what_whoosh_adds_one_by_one(blobs, first):
    """The stored column's batch append writes the file Whoosh's writer writes value by value
    (documents without a value, lengths past 16 bits, a gap before the batch)."""
    import io

    from whoosh.columns import VarBytesColumn
    from whoosh.filedb.structfile import StructFile

    def written(add) -> bytes:
        raw = io.BytesIO()
        writer = VarBytesColumn(write_offsets_cutoff=0).writer(StructFile(raw))  # (offsets too)
        add(writer)
        writer.finish(first + len(blobs) + 1)
        return raw.getvalue()

    def one_by_one(writer):
        for i, blob in enumerate(blobs, first):
            if blob is not None:
                writer.add(i, blob)

    assert written(lambda w: backend._append_var_bytes(w, first, blobs)) == written(one_by_one)
