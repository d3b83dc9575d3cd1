"""The compiled loops of a rebuild agree with numpy's own, slower, ways."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.kernels import counting_order


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
