"""A rebuild's batch analysis gives, text by text, exactly the one-text tokens of
``search.indexterms`` (themselves checked against the analyzers) and the municipalities of
``search.places``, whether it reads MeCab's output text or its nodes (``search.mecabnodes``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.build import collect
from search import batchterms
from search.batchterms import RECIPES, VOCABS, TextBatch
from search.indexterms import field_tokens
from search.places import municipalities
from search.schema import INDEX_RECIPES


@pytest.fixture(autouse=True, params=["lines", "nodes"])
def way(request, monkeypatch) -> str:
    """Every test runs both ways: MeCab's output text, and its nodes from the first text."""
    monkeypatch.setattr(batchterms, "NODES_AFTER", None if request.param == "lines" else 0)
    return request.param


def _per_text(batch: TextBatch, recipe: tuple[str, int]) -> list[tuple]:
    arrays = batch.field(recipe)
    strings = VOCABS[recipe[0]].strings
    out = []
    for t in range(len(batch.texts)):
        s = slice(arrays.first[t], arrays.first[t] + arrays.count[t])
        terms = [strings[x] for x in arrays.terms[s].tolist()]
        columns = (terms, arrays.positions[s].tolist(), arrays.starts[s].tolist(), arrays.ends[s].tolist())
        out.append(columns)
    return out


def _check(texts: list[str]) -> None:
    batch = TextBatch(texts)
    for recipe in RECIPES:
        for text, got in zip(texts, _per_text(batch, recipe), strict=True):
            assert got == tuple(list(c) for c in field_tokens(text, recipe)), (recipe, text)
    for t, text in enumerate(texts):
        assert batch.municipalities(t) == municipalities(text), text


@pytest.fixture(scope="module")
def seed_texts(seeds_dir: Path) -> list[str]:
    passages, _ = collect(seeds_dir)
    return list({text: None for p in passages for text in (p.title, p.text, p.section)})


def test_every_seed_text_in_batches(seed_texts):
    assert len(seed_texts) > 100
    for first in range(0, len(seed_texts), 23):
        _check(seed_texts[first : first + 23])


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("東京都区部と北海道市、京都府町", ["北海道", "京都府"]),  # a whole name takes no suffix
        ("山口道と大阪府、神戸道、京都府", ["大阪府", "京都府"]),  # only four names end in 都道府
        ("田中県と佐藤市、朝倉市、小郡県", ["佐藤市", "朝倉市", "小郡県"]),  # no person's name + 県
        ("山口市亀山町と下関市", ["山口市", "下関市"]),  # a town in a city's address
        ("東京都市と東京都県", []),
    ],
)
def test_each_rule_of_municipality_names(text, names):
    batch = TextBatch(["前の文。", text, "後の文、北九州市"])
    assert batch.municipalities(1) == municipalities(text) == names


def test_a_whole_name_split_anywhere_is_found_as_names_in_finds_it(monkeypatch, way):
    """MeCab splits 東京都 as 東京 + 都; a split elsewhere (東 + 京都) must give it too."""
    if way == "nodes":
        pytest.skip("stands in for MeCab's output text")
    from search.places import names_in
    from search.tokenizer import Morph, _line_info

    place = "名詞,固有名詞,地名,一般,*,*,{0},{1},{1},{0},{1},{0},固,*,*,*,*,{0}"
    common = "名詞,普通名詞,一般,*,*,*,{0},{1},{1},{0},{1},{0},漢,*,*,*,*,{0}"
    splits = {
        "東京都": [("東", place, "ヒガシ"), ("京都", common, "キョウト")],
        "大阪府": [("大", place, "ダイ"), ("阪府", common, "ハンプ")],
        "北海道": [("北海", place, "ホッカイ"), ("道", common, "ドウ")],
        "山口道": [("山口", place, "ヤマグチ"), ("道", common, "ドウ")],
    }

    class Splitting:
        def parse(self, text: str) -> str:
            return "".join(f"{s}\t{f.format(r, s)}\n" for s, f, r in splits[text])

    monkeypatch.setattr(batchterms, "_tagger", lambda: Splitting())
    monkeypatch.setattr(batchterms, "NODES_AFTER", None)
    texts = list(splits)
    batch = TextBatch(texts)
    expected = []
    for text in texts:
        morphs, at = [], 0
        for line in [f"{s}\t{f.format(r, s)}" for s, f, r in splits[text]]:
            surface, base, reading, pos = _line_info(line)
            morphs.append(Morph(surface, surface, base, reading, pos, at, at + len(surface)))
            at += len(surface)
        expected.append(names_in(morphs))
    assert expected == [["東京都"], ["大阪府"], ["北海道"], []]
    assert [batch.municipalities(t) for t in range(len(texts))] == expected


def test_the_seeds_name_municipalities(seed_texts):
    batch = TextBatch(seed_texts)
    assert sum(len(batch.municipalities(t)) for t in range(len(seed_texts))) > 20


_ALPHABET = st.sampled_from(
    list("あいうえおかがきくけこさしすせそたちつてとなにのはばぱまみむめもやゆよらりるれろわをん")
    + list("アイウエオカガキクケコサシスセソタチツテトナニノハバパマミムメモヤユヨラリルレロワヲンー")
    + list("ｱｲｳｴｵｶﾞｷﾟｰ")
    + list("市町村県区都府道連携協約交流観光振興図書館久留米福岡北九州下関人々國學第条年月日令和平成")
    + list("一二三四五六七八九十百千")
    + list("0123456789０１２３４５６７８９abcABCａｂｃＡＢＣ")
    + list("㈱㍻①②・、。（）「」-.,:/ 　\t\n\x00𠮷")
)
_WORDS = st.sampled_from(
    ["久留米市", "福岡県", "北九州市", "下関市", "東京都", "山口市亀山町", "連携協約", "の"]
)
_TEXT = st.lists(st.one_of(st.text(_ALPHABET, max_size=12), _WORDS), max_size=6).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_TEXT, max_size=8))
def test_generated_batches(texts):
    _check(texts)


def test_a_text_whose_mecab_output_does_not_add_up_goes_the_one_text_way():
    texts = ["福岡県久留米市の図書館", "連携中枢都市圏の観光振興", "下関市と北九州市"]
    batch = TextBatch(texts)
    # Never seen with MeCab; the splice that handles it is checked by marking a text so.
    batch.slow = {1}
    batch._fields.clear()
    for recipe in RECIPES:
        for text, got in zip(texts, _per_text(batch, recipe), strict=True):
            assert got == tuple(list(c) for c in field_tokens(text, recipe))
    assert batch.municipalities(1) == []


def test_numbered_gives_every_field_of_the_recipes(seed_texts):
    values = [{"text": t, "title": seed_texts[0], "section": ""} for t in seed_texts[:5]]
    index = {t: i for i, t in enumerate(seed_texts)}
    numbered = TextBatch(seed_texts).numbered(
        [{**v, **{name: v[name.split("_")[0]] for name in INDEX_RECIPES}} for v in values], index
    )
    assert set(numbered) == set(INDEX_RECIPES)
    for name, (vocab, counts, terms, positions, starts, ends) in numbered.items():
        assert len(counts) == 5 and counts.sum() == len(terms) == len(positions) == len(starts) == len(ends)
        assert vocab is VOCABS[INDEX_RECIPES[name][0]]
        expected = [len(field_tokens(v[name.split("_")[0]], INDEX_RECIPES[name])[0]) for v in values]
        assert counts.tolist() == expected, name
        assert np.all(terms < len(vocab))


def test_threads_analyzing_at_once_agree_with_one_at_a_time(seed_texts):
    from concurrent.futures import ThreadPoolExecutor

    batches = [seed_texts[i : i + 11] for i in range(0, len(seed_texts), 11)] * 3

    def analyze(texts: list[str]) -> list:
        batch = TextBatch(texts)
        return [_per_text(batch, recipe) for recipe in RECIPES] + [
            [batch.municipalities(t) for t in range(len(texts))]
        ]

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(analyze, batches))
    assert together == [analyze(texts) for texts in batches]


def test_a_text_mecab_gives_back_short_is_analyzed_the_one_text_way(monkeypatch, way):
    """Never seen from MeCab (every code point adds up), so a tagger that loses the last
    morpheme of one text stands in for it: that text's offsets would be wrong, so the
    batch hands it to ``search.indexterms``."""
    if way == "nodes":
        pytest.skip("stands in for MeCab's output text")

    real = batchterms._tagger()

    class Losing:
        def parse(self, text: str) -> str:
            out = real.parse(text)
            return out.rsplit("\n", 2)[0] + "\n" if text.startswith("下関") else out

    texts = ["福岡県久留米市の図書館", "下関市と北九州市の連携", "観光振興"]
    monkeypatch.setattr(batchterms, "_tagger", lambda: Losing())
    monkeypatch.setattr(batchterms, "NODES_AFTER", None)
    batch = TextBatch(texts)
    assert batch.slow == {1}
    for recipe in RECIPES:
        for text, got in zip(texts, _per_text(batch, recipe), strict=True):
            assert got == tuple(list(c) for c in field_tokens(text, recipe))
    assert [batch.municipalities(t) for t in range(3)] == [municipalities(t) for t in texts]


@pytest.mark.parametrize("max_parts", [1, 3, 4])
def test_compiled_spans_are_numpys(seed_texts, monkeypatch, max_parts):
    """A large rebuild finds the tokens' spans in one compiled pass: the same arrays as numpy's."""
    got = {}
    for compiled in (False, True):
        monkeypatch.setattr(batchterms, "numba_started", lambda compiled=compiled: compiled)
        for first in range(0, len(seed_texts), 97):
            batch = TextBatch(seed_texts[first : first + 97])
            if first == 97:
                batch.slow = {2, 5}  # (texts the one-text way are left out)
            got.setdefault(compiled, []).append([np.asarray(a).tolist() for a in batch._spans(max_parts)])
    assert got[True] == got[False]
