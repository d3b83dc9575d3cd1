"""A batch's bigram arrays are exactly ``_bigram_tokens`` of each text: same terms, positions
and original character offsets, whatever the neighbouring texts of the batch."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.build import collect
from search import bigramarrays
from search.analysis import BigramTokenizer
from search.bigramarrays import bigram_arrays
from search.indexterms import _bigram_tokens
from search.keytable import KeyTable
from search.normalize import normalize
from search.vocab import Vocab

VOCAB = Vocab()  # shared by the generated batches, so later ones find their terms known


def _split(texts: list[str], vocab: Vocab) -> list[tuple]:
    """Each text's (terms, positions, starts, ends) from one ``bigram_arrays`` call."""
    terms, positions, starts, ends, counts = bigram_arrays([normalize(t) for t in texts], vocab)
    assert [a.dtype for a in (terms, positions, starts, ends, counts)] == [np.int32] * 4 + [np.int64]
    assert len(counts) == len(texts) and counts.sum() == len(terms) == len(positions)
    assert len(starts) == len(ends) == len(terms)
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    return [
        (
            [vocab.strings[t] for t in terms[a:b].tolist()],
            positions[a:b].tolist(),
            starts[a:b].tolist(),
            ends[a:b].tolist(),
        )
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]


def _assert_same(texts: list[str], vocab: Vocab) -> None:
    for text, got in zip(texts, _split(texts, vocab), strict=True):
        assert got == tuple(_bigram_tokens(text)), text


def test_the_class_table_models_the_tokenizers_run_pattern():
    # bigramarrays encodes this pattern by hand: a change to it must change the table too.
    assert BigramTokenizer.RUN.pattern == r"(?:[^\W_]|(?<=\d)[.,](?=\d))+"


def test_the_module_doctest_passes():
    result = doctest.testmod(bigramarrays)
    assert result.attempted > 0 and result.failed == 0


# Kana, kanji (with an old form and numerals that become digits), half and full width, digits
# with '.' and ',', enclosed and compatibility characters (one to many), a combining mark that
# folds with its letter (many to one) or stays (a two-character cluster), '_', astral word
# characters, an astral digit and an emoji, punctuation, spaces, tabs and newlines.
_PIECES = st.sampled_from(
    list("あいかがきのはぱまやんアカガキノハパマヤンーｱｶﾞｷﾟｰ")
    + list("市町県図書館久留米北九州人々國第年月日令和平成一二三十百千")
    + list("0123456789０１２３４５６７８９abcABCａｂｃＡＢＣ.,．，_")
    + list("㈱㍻①②・、。（）「」-:/ 　\t\n")
    + ["𩸽", "𡈽", "𠮷", "\U0001e951", "😀", "q\u0301", "か\u3099", "1,000", "2.5", "3.,4", "千九百七十九年"]
)
_TEXTS = st.lists(_PIECES, max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXTS, max_size=12))
def test_every_text_of_a_generated_batch_equals_bigram_tokens(texts):
    _assert_same(texts, VOCAB)


@pytest.mark.parametrize(
    "texts",
    [
        [],
        [""],
        ["", "", ""],
        ["1.", "5"],  # a '.' at the end of one text never sees the digit starting the next
        ["1", ".5", "x", "y"],  # nor one at the start; and one-character texts stay unigrams
        ["㈱", "㍻", "①"],
        ["𞥐,𞥑 𩸽"],  # a '.'/',' between astral digits, an astral word character
        ["千九百七十九年と㈱二十三と㍻", "q\u0301q\u0301ｶﾞｶﾞ"],
        ["ＰＭ２．５ 1,000人 第三回", "北九州市" * 300],  # a long text grows the identity list
    ],
)
def test_edge_batches(texts):
    _assert_same(texts, Vocab())


def test_every_seed_passage_in_batches(seeds_dir: Path):
    passages, _ = collect(seeds_dir)
    texts = [t for p in passages for t in (p.text, p.title, p.section) if t]
    assert len(texts) > 200
    vocab = Vocab()
    for start in range(0, len(texts), 37):
        _assert_same(texts[start : start + 37], vocab)
    first = [v for v in vocab.strings]
    for start in range(0, len(texts), 37):  # warm: every key found, no term added
        _assert_same(texts[start : start + 37], vocab)
    assert vocab.strings == first


@pytest.mark.parametrize("after", [0, 50_000, 10**12])  # compiled from the start, midway, never
def test_the_key_table_agrees_with_a_dict_through_growth_and_wrapping(after):
    rng = np.random.default_rng(7)
    table, expected = KeyTable(compiled_after=after), {}
    # Keys crowding the last hash slot probe on past it, wrapping to the first slots.
    crowd = rng.integers(0, 1 << 42, 400_000)
    slots = (crowd.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - table.bits)
    crowd = np.unique(crowd[slots == (1 << table.bits) - 1])[:60]
    assert len(crowd) == 60
    batches = [crowd] + [rng.integers(0, 1 << 42, size) for size in (1, 1000, 30_000, 5000)]
    for keys in batches:
        keys = np.unique(keys)
        keys = keys[table.find(keys) < 0]
        values = rng.integers(0, 1 << 30, len(keys)).astype(np.int32)
        table.add(keys, values)
        expected.update(zip(keys.tolist(), values.tolist(), strict=True))
        probe = np.concatenate([np.fromiter(expected, np.int64), rng.integers(0, 1 << 42, 1000)])
        wanted = [expected.get(k, -1) for k in probe.tolist()]
        assert table.find(probe).tolist() == wanted
        assert table.size == len(expected)
        assert not table.compiled or 2 * table.size <= 1 << table.bits
    assert table.compiled == (after < 10**12)


@pytest.mark.parametrize("after", [0, 20_000, 10**12])
def test_the_key_table_numbers_new_keys_in_order_of_first_sight(after):
    rng = np.random.default_rng(11)
    table, expected = KeyTable(compiled_after=after), {}
    for size in (5, 3000, 40_000, 7000):
        keys = rng.integers(0, 1 << 20, size)  # repeats within and across batches
        first = len(expected)
        numbers, new = table.number(keys, first)
        fresh = [k for k in dict.fromkeys(keys.tolist()) if k not in expected]
        assert new.tolist() == fresh
        expected.update(zip(fresh, range(first, first + len(fresh)), strict=True))
        assert numbers.tolist() == [expected[k] for k in keys.tolist()]
        assert table.size == len(expected)
    assert table.compiled == (after < 10**12)
