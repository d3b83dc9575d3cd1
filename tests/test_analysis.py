"""MeCab tokenizer, Whoosh analyzers and place names, on real MeCab (no mocks)."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_normalize import JAPANESE_TEXT, digits_or_numerals

from search.analysis import (
    analyze_query_word,
    base_analyzer,
    bigram_analyzer,
    reading_analyzer,
    reading_key,
    surface_analyzer,
)
from search.backend import fields, index, query
from search.normalize import fold_chars, normalize
from search.places import municipalities
from search.tokenizer import morphemes

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ANALYZERS = {
    "surface": surface_analyzer,
    "base": base_analyzer,
    "reading": reading_analyzer,
    "bigram": bigram_analyzer,
}


def terms(analyzer, text: str, **kwargs) -> list[str]:
    return [t.text for t in analyzer()(text, **kwargs)]


def tokens(analyzer, text: str, **kwargs) -> list[tuple]:
    stream = analyzer()(text, positions=True, chars=True, **kwargs)
    return [(t.text, t.pos, t.startchar, t.endchar) for t in stream]


def slice_matches(original: str, term: str) -> bool:
    """``original`` normalizes to (a text containing) ``term``; numerals may stay kanji out of context."""
    return term in normalize(original).text or bool(digits_or_numerals(term).search(fold_chars(original)))


# --- offsets -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(JAPANESE_TEXT)
def test_morpheme_offsets_slice_the_original(text):
    previous_start = 0  # morphemes of one expanded character (㈱ -> ( 株 )) share its span
    for m in morphemes(text):
        assert previous_start <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.surface_orig
        assert m.surface_orig == m.surface_norm or slice_matches(m.surface_orig, m.surface_norm)
        previous_start = m.start


@settings(max_examples=200, deadline=None)
@given(JAPANESE_TEXT)
def test_every_analyzer_gives_offsets_into_the_original(text):
    for name, make in ANALYZERS.items():
        last_pos = -1
        for t in make()(text, positions=True, chars=True):
            assert 0 <= t.startchar < t.endchar <= len(text), name
            assert t.pos >= last_pos, name
            last_pos = t.pos
            assert t.text, name
            if name == "bigram":
                assert slice_matches(text[t.startchar : t.endchar], t.text)
            else:
                m = t.morph
                # Compound terms (surface, base) and joined readings run on past their first morpheme.
                assert t.startchar == m.start and t.endchar >= m.end
                assert slice_matches(text[m.start : m.end], m.surface_norm)


def test_offsets_on_text_with_spaces_and_expansions():
    text = "  ㈱ＰＭ２．５\t観測　ｽﾎﾟｰﾂ\n第三回  "
    for _, _, start, end in tokens(surface_analyzer, text):
        assert text[start:end].strip() == text[start:end] != ""
    got = {text[s:e]: t for t, _, s, e in tokens(surface_analyzer, text)}
    assert got["ＰＭ"] == "pm" and got["ｽﾎﾟｰﾂ"] == "スポーツ" and got["三"] == "3" and got["観測"] == "観測"


def test_start_char_and_start_pos_are_honoured():
    toks = surface_analyzer()("福岡市", positions=True, chars=True, start_pos=10, start_char=100)
    # 福岡, the compound 福岡市 at the same position, 市
    assert [(t.pos, t.startchar, t.endchar) for t in toks] == [(10, 100, 102), (10, 100, 103), (11, 102, 103)]


# --- equivalences ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [("ＰＭ２．５", "PM2.5", "pm2.5"), ("ｽﾎﾟｰﾂ", "スポーツ"), ("サポータ", "サポーター"), ("戰略", "戦略"),
     ("二十三", "23"), ("ｶﾞｲﾄﾞ", "ガイド")],
)
def test_surface_equivalences(spellings):
    assert len({tuple(terms(surface_analyzer, s)) for s in spellings}) == 1


def test_surface_terms_of_pm25():
    assert terms(surface_analyzer, "ＰＭ２．５") == ["pm", "2", "5"]


@pytest.mark.parametrize(
    "spellings",
    [("締結した", "締結", "締結する"), ("取り組む", "取組む", "取り組んだ", "取組み", "取り組み"),
     ("子ども", "子供"),
     ("行なう", "行う")],
)
def test_base_equivalences(spellings):
    assert len({tuple(terms(base_analyzer, s)) for s in spellings}) == 1


def test_positions_are_renumbered_after_stop_words():
    for text in ("観光の振興", "観光振興", "観光を、振興"):
        parts = [(t, p) for t, p, _, _ in tokens(surface_analyzer, text) if t != "観光振興"]
        assert parts == [("観光", 0), ("振興", 1)]


def test_iteration_marks_are_spelled_out():
    assert terms(surface_analyzer, "人々") == ["人人"]
    assert terms(surface_analyzer, "時々") == ["時時"]


# --- readings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kana", "written"),
    [("ふくおか", "福岡"), ("くるめ", "久留米"), ("フクオカ", "福岡"), ("しものせき", "下関"),
     ("くるめし", "久留米市"),
     ("ふくおかけん", "福岡県"), ("きたきゅうしゅうし", "北九州市")],
)
def test_kana_query_matches_written_reading(kana, written):
    key = reading_key(kana)
    assert key == reading_key(written)
    assert terms(reading_analyzer, kana, mode="query") == [key]
    assert key in terms(reading_analyzer, f"これは{written}です", mode="index")


def test_reading_compounds_are_limited_to_adjacent_nouns():
    got = terms(reading_analyzer, "福岡県久留米市と小郡市")
    assert "フクオカケンクルメ" in got and "クルメシ" in got and "オゴオリシ" in got
    assert not any("ト" in t and "クルメ" in t for t in got)  # no compound across the particle


# --- bigrams --------------------------------------------------------------------------------------------


def test_bigrams():
    assert tokens(bigram_analyzer, "北九州、市") == [("北九", 0, 0, 2), ("九州", 1, 1, 3), ("市", 2, 4, 5)]
    assert terms(bigram_analyzer, "ＰＭ２．５") == terms(bigram_analyzer, "pm2.5")
    assert terms(bigram_analyzer, "  、。 ") == []


# --- query analysis, pickling, threads ---------------------------------------------------------------


def test_analyze_query_word():
    got = analyze_query_word("久留米市の取り組み")
    assert [(d["surface"], d["base"], d["reading"]) for d in got] == [
        ("久留米", "久留米", "クルメ"),
        ("市", "市", "シ"),
        ("取り組み", "取組", "トリクミ"),
    ]
    assert got[0]["pos"] == "名詞-固有名詞-地名" and (got[2]["start"], got[2]["end"]) == (5, 9)


@pytest.mark.parametrize("name", list(ANALYZERS))
def test_analyzers_pickle_after_use(name):
    analyzer = ANALYZERS[name]()
    before = terms(lambda: analyzer, "北九州市と大連市")
    clone = pickle.loads(pickle.dumps(analyzer))
    assert clone == analyzer
    assert terms(lambda: clone, "北九州市と大連市") == before


def test_tokenize_false_yields_the_whole_value():
    assert [t.text for t in surface_analyzer()("ＡＢＣ　ｄ", tokenize=False)] == ["abc d"]


def test_threads_get_their_own_tagger():
    texts = [p for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n") if p.strip()][:80]
    expected = [morphemes(t) for t in texts]
    errors: list[str] = []

    def work() -> None:
        for _ in range(3):
            for text, want in zip(texts, expected, strict=True):
                if morphemes(text) != want:
                    errors.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- end to end through a Whoosh index ----------------------------------------------------------------


def test_whoosh_index_round_trip(tmp_path):
    schema = fields.Schema(
        text=fields.TEXT(analyzer=surface_analyzer(), stored=True, chars=True),
        base=fields.TEXT(analyzer=base_analyzer()),
        reading=fields.TEXT(analyzer=reading_analyzer()),
        bigram=fields.TEXT(analyzer=bigram_analyzer()),
    )
    ix = index.create_in(str(tmp_path), schema)
    docs = ["福岡県久留米市と小郡市は連携協約を締結した。", "ＰＭ２．５の観測に取り組んだ北九州市"]
    with ix.writer() as w:
        for d in docs:
            w.add_document(text=d, base=d, reading=d, bigram=d)
    ix = index.open_dir(str(tmp_path))  # the schema, analyzers included, comes back unpickled
    with ix.searcher() as s:

        def hits(q) -> list[str]:
            return [h["text"] for h in s.search(q)]

        assert hits(query.Phrase("text", terms(surface_analyzer, "pm2.5", mode="query"))) == [docs[1]]
        assert hits(query.Term("base", terms(base_analyzer, "締結", mode="query")[0])) == [docs[0]]
        assert hits(query.Term("base", terms(base_analyzer, "取組む", mode="query")[0])) == [docs[1]]
        assert hits(query.Term("reading", reading_key("くるめ"))) == [docs[0]]
        assert hits(query.Term("reading", reading_key("くるめし"))) == [docs[0]]
        assert hits(query.Phrase("bigram", terms(bigram_analyzer, "九州市", mode="query"))) == [docs[1]]
        postings = s.postings("text", "pm")  # (position, startchar, endchar) in original characters
        assert [docs[1][a:b] for _, a, b in postings.value_as("characters")] == ["ＰＭ"]


# --- places ------------------------------------------------------------------------------------------------


def test_municipalities_examples():
    text = "福岡県久留米市と小郡市、北九州市と下関市、山口県、大連市、ハイフォン市。両市・本市・各市。"
    assert municipalities(text) == [
        "福岡県", "久留米市", "小郡市", "北九州市", "下関市", "山口県", "大連市", "ハイフォン市"
    ]


def test_municipalities_on_seeds_have_no_junk():
    for path in sorted(SEEDS.glob("*.txt")):
        names = municipalities(path.read_text())
        assert names, path
        assert not set(names) & {"両市", "本市", "各市", "同市", "当市", "市町", "構成市"}
        assert all(len(n) >= 2 and n[-1] in "都道府県市町村区" for n in names)
    assert {"久留米市", "小郡市"} <= set(municipalities((SEEDS / "001_395c70cf68c5a730.txt").read_text()))
