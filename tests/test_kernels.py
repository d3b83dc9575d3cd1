"""The compiled loops of a rebuild agree with numpy's own, slower, ways."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.kernels import counting_order, sorted_tokens


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=300), st.integers(0, 5))
def test_counting_order_is_numpys_stable_argsort(keys, spare):
    keys = np.array(keys, dtype=np.int32)
    size = int(keys.max(initial=-1)) + 1 + spare
    order, tally = counting_order(keys, size)
    assert order.tolist() == np.argsort(keys, kind="stable").tolist()
    assert tally.tolist() == np.bincount(keys, minlength=size).tolist()


@pytest.mark.parametrize("keys", [[-1, 0], [0, 3]])
def test_counting_order_refuses_keys_out_of_range(keys):
    with pytest.raises(ValueError, match="out of range"):
        counting_order(np.array(keys, dtype=np.int32), 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), max_size=300), st.integers(0, 3))
def test_sorted_tokens_are_a_stable_sort_and_its_postings(tokens, spare):
    """Tokens (term, document; documents ascending) in term order, their postings (a
    document a term, with its count) and their values carried along."""
    tokens.sort(key=lambda t: t[1])
    keys = np.array([t for t, _ in tokens], dtype=np.int32)
    docs = np.array([d for _, d in tokens], dtype=np.int32)
    size = int(keys.max(initial=-1)) + 1 + spare
    values = np.arange(len(keys), dtype=np.int32)
    post_starts, post_docs, counts, positions, starts, lengths = sorted_tokens(
        keys, size, docs, values, (values * 3).astype(np.int16), (values % 200).astype(np.uint8)
    )
    order = np.argsort(keys, kind="stable")
    assert positions.tolist() == order.tolist()
    assert starts.tolist() == (order * 3).astype(np.int16).tolist()
    assert lengths.tolist() == (order % 200).astype(np.uint8).tolist()
    expected = [sorted({d: None for t, d in tokens if t == term}) for term in range(size)]
    assert np.diff(post_starts).tolist() == [len(e) for e in expected]
    assert post_docs.tolist() == [d for e in expected for d in e]
    assert counts.tolist() == [
        sum(1 for t, d in tokens if t == term and d == doc) for term in range(size) for doc in expected[term]
    ]
