"""The array evaluator against Whoosh itself: same matches, same BM25F scores.

Whoosh's own ``searcher.search(q, limit=None)`` is the oracle; the evaluator must agree on
every query shape the lowering produces, in an index of one segment and of several.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import backend
from search.api import Engine
from search.lowering import filter_query, lower
from search.matching import Postings, common, evaluate, top, union
from search.query import parse_query

QUERIES = [
    "連携",
    "図書館",
    "観光 振興",
    "観光振興",
    "観光 OR 図書館",
    "連携 -観光",
    "-連携",
    "NOT 連携",
    '"連携中枢都市圏"',
    '"連携 協約"',
    '"観光の振興"',
    '"の"',
    '"北九州市と下関市"',
    '"存在しない語の並び"',
    "きたきゅうしゅう",
    "とりくむ",
    "平成28年",
    "2005年",
    "平成15年度",
    "year:2016",
    "year:2010..2015 観光",
    "municipality:北九州市",
    "municipality:北九州 交流",
    "kind:activity 観光",
    "document:0 連携",
    "(観光 OR 交通) 連携",
    "ＰＭ２．５",
    "ｶﾝｺｳ",
    "関門 (-鉄道)",
    "ああああ",
    "州市",
]


def _oracle(searcher, q) -> dict[int, float]:
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}


def _evaluated(searcher, q) -> dict[int, float]:
    docs, scores = evaluate(q, searcher, Postings(searcher.doc_count_all()))
    assert list(docs) == sorted(set(docs.tolist())), "matches must be ascending and unique"
    return dict(zip(docs.tolist(), scores.tolist(), strict=True))


def _agree(searcher, q) -> None:
    want, got = _oracle(searcher, q), _evaluated(searcher, q)
    assert set(got) == set(want), q
    for docnum, score in want.items():
        assert math.isclose(got[docnum], score, rel_tol=1e-9, abs_tol=1e-12), (q, docnum)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("bigrams", [False, True])
def test_matches_and_scores_equal_whooshs(engine, text, bigrams):
    searcher = engine._view().searcher
    q = lower(parse_query(text).root, bigrams=bigrams).query
    if q is not None:
        _agree(searcher, q)


@pytest.mark.parametrize("text", [q for q in QUERIES if '"' in q] + ["観光振興", "連携中枢都市"])
def test_phrases_agree_with_whoosh_in_segments_without_posting_arrays(engine, monkeypatch, text):
    """Segments written before the posting arrays existed check phrases document by document."""
    monkeypatch.setattr(backend, "segment_arrays", lambda leaf: None)
    searcher = engine._view().searcher
    _agree(searcher, lower(parse_query(text).root).query)


SEGMENT_QUERIES = [
    "連携",
    "観光 -交流",
    "municipality:福岡 提携",
    '"連携中枢都市圏"',
    '"連携 協約"',
    "year:2016",
]
FILTERS = [("municipality", "北九州"), ("kind", "article"), ("document", "0"), ("year", "2003..2016")]
SOUP = ["連携", "観光", "交流", "市", "OR", "-", "(", ")", '"', "year:2016", "協約"]


@pytest.mark.parametrize("text", SEGMENT_QUERIES)
def test_several_segments_agree_with_whoosh(multi_segment, text):
    searcher = Engine(multi_segment)._view().searcher
    assert len(searcher.leaf_searchers()) > 1
    _agree(searcher, lower(parse_query(text).root).query)


@pytest.mark.parametrize(("name", "value"), FILTERS)
def test_filters_agree_with_whoosh(engine, name, value):
    _agree(engine._view().searcher, filter_query(name, value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(SOUP), max_size=6))
def test_operator_soup_agrees_with_whoosh(engine, parts):
    q = lower(parse_query(" ".join(parts)).root).query
    if q is not None:
        _agree(engine._view().searcher, q)


def test_top_orders_by_keys_and_keeps_ties_in_key_order():
    import numpy as np

    docs = np.array([10, 11, 12, 13, 14])
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    order = np.array([5, 4, 3, 2, 1])
    assert docs[top(docs, [-scores, order], 2)].tolist() == [14, 12]
    assert docs[top(docs, [-scores, order], 10)].tolist() == [14, 12, 11, 13, 10]
    assert top(docs[:0], [-scores[:0], order[:0]], 3).tolist() == []


def test_a_searcher_reads_the_mapped_index_without_copying_it(seed_index):
    """Each thread opens its own searcher; none may hold a private copy of the postings."""
    import tracemalloc

    from search import store

    ix = store.open_index(seed_index)
    ix.searcher().close()  # module imports and caches out of the way
    size = sum(f.stat().st_size for f in store.current_generation(seed_index).iterdir() if f.is_file())
    tracemalloc.start()
    searchers = [ix.searcher() for _ in range(4)]
    allocated = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for s in searchers:
        s.close()
    assert allocated < size / 4, (allocated, size)


_ascending_docs = st.sets(st.integers(0, 300), max_size=60).map(lambda s: np.array(sorted(s), dtype=np.int64))


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(_ascending_docs, min_size=1, max_size=5), seed=st.integers(0, 99))
def test_union_and_common_agree_with_numpys_set_operations(parts, seed):
    rng = np.random.default_rng(seed)
    scored = [(docs, rng.random(len(docs))) for docs in parts]
    docs, scores = union(scored)
    every = np.concatenate([d for d, _ in scored])
    unique, inverse = np.unique(every, return_inverse=True)
    assert docs.tolist() == unique.tolist()
    assert scores.tolist() == np.bincount(inverse, weights=np.concatenate([s for _, s in scored])).tolist()
    a, b = parts[0], parts[-1]
    assert [x.tolist() for x in common(a, b)] == [
        x.tolist() for x in np.intersect1d(a, b, assume_unique=True, return_indices=True)
    ]
