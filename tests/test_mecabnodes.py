"""MeCab's best path read from its nodes (``search.mecabnodes``): here it must be on, and
it gives what MeCab's output text gives, or stands aside."""

from __future__ import annotations

import numpy as np
import pytest

from search import batchterms, mecabnodes
from search.batchterms import RECIPES, VOCABS, TextBatch
from search.indexterms import field_tokens
from search.tokenizer import mecab_input

TEXTS = ["福岡県久留米市の図書館", "  下関市と\u3000北九州市の連携 ", "", "ｽﾎﾟｰﾂ㈱𠮷野家", "観光振興"]


@pytest.fixture
def nodes(monkeypatch):
    monkeypatch.setattr(batchterms, "NODES_AFTER", 0)
    assert mecabnodes.parser() is not None


def _fields_as_one_text_gives_them(batch: TextBatch) -> None:
    for recipe in RECIPES:
        arrays, strings = batch.field(recipe), VOCABS[recipe[0]].strings
        for t, text in enumerate(batch.texts):
            s = slice(arrays.first[t], arrays.first[t] + arrays.count[t])
            got = ([strings[x] for x in arrays.terms[s].tolist()], arrays.positions[s].tolist())
            got += (arrays.starts[s].tolist(), arrays.ends[s].tolist())
            assert got == tuple(list(c) for c in field_tokens(text, recipe)), (recipe, text)


def test_nodes_are_read_where_fugashi_has_libmecab():
    """On by default here: a build would otherwise quietly take the slower way."""
    parser = mecabnodes.parser()
    assert parser is not None and mecabnodes._state["agrees"]
    found = parser.parse([mecab_input(t) for t in TEXTS])
    assert found.bad == [] and set(found.text_of.tolist()) == {0, 1, 3, 4}
    spans = [TEXTS[t][a:b] for t, a, b in zip(found.text_of, found.first, found.last, strict=True)]
    assert spans[:4] == ["福岡", "県", "久留米", "市"] and "北九州" in spans
    assert all(s and s == s.strip(" ") for s in spans)  # MeCab skips spaces (not U+3000)
    assert found.feature(0).startswith("名詞,固有名詞,地名")


def test_a_layout_that_disagrees_with_the_text_way_turns_nodes_off(monkeypatch):
    """The node's field offsets are checked on a sample first: read ``rlength`` (spaces
    included) as the length, and the sample's spans no longer match."""
    monkeypatch.setattr(mecabnodes, "_local", type(mecabnodes._local)())
    monkeypatch.setattr(mecabnodes, "_state", {})
    layout = list(mecabnodes._LAYOUT)
    layout[3] = np.uint64(mecabnodes._Node.rlength.offset)
    monkeypatch.setattr(mecabnodes, "_LAYOUT", tuple(layout))
    assert mecabnodes.parser() is None
    monkeypatch.setattr(batchterms, "NODES_AFTER", 0)
    _fields_as_one_text_gives_them(TextBatch(TEXTS))  # the text way


def test_a_key_whose_row_has_another_feature_is_done_the_text_way(nodes):
    """Two morphemes with one key would share a row: the row's feature address tells them
    apart, and the texts holding the clash go the one-text way."""
    batch = TextBatch(TEXTS)
    assert batch.slow == set()
    row = int(batch.ids[0])  # 福岡, in text 0
    address = batchterms._LINES.feature[row]
    batchterms._LINES.feature[row] += 1
    try:
        batch = TextBatch(TEXTS[::-1])
    finally:
        batchterms._LINES.feature[row] = address
    assert batch.slow == {len(TEXTS) - 1}
    _fields_as_one_text_gives_them(batch)
    assert batch.municipalities(len(TEXTS) - 1) == ["福岡県", "久留米市"]


def test_a_text_whose_nodes_do_not_add_up_is_done_the_text_way(nodes, monkeypatch):
    real = mecabnodes.parser()

    class Flagging:
        def parse(self, texts):
            found = real.parse(texts)
            keep = found.text_of != 1
            return mecabnodes.Nodes(*(column[keep] for column in found[:5]), [1])

    monkeypatch.setattr(mecabnodes, "parser", lambda: Flagging())
    batch = TextBatch(TEXTS)
    assert batch.slow == {1}
    _fields_as_one_text_gives_them(batch)
    assert batch.municipalities(1) == ["下関市", "北九州市"]


def test_a_check_that_fails_or_raises_is_made_once_and_turns_nodes_off(monkeypatch):
    """A layout read wrong may raise instead of disagreeing; either way the process stands
    aside for good, without starting another MeCab for every group."""
    monkeypatch.setattr(mecabnodes, "_local", type(mecabnodes._local)())
    monkeypatch.setattr(mecabnodes, "_state", {})
    made = []
    real = mecabnodes._Parser
    monkeypatch.setattr(mecabnodes, "_Parser", lambda lib: made.append(1) or real(lib))

    def garbage(parser):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "not a feature string")

    monkeypatch.setattr(mecabnodes, "_agrees", garbage)
    assert [mecabnodes.parser() for _ in range(3)] == [None, None, None]
    assert made == [1]
    monkeypatch.setattr(batchterms, "NODES_AFTER", 0)
    _fields_as_one_text_gives_them(TextBatch(TEXTS))  # the text way
