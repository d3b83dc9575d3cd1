"""Character normalization: equivalences, the kanji numeral rule, and the offset map."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.normalize import (
    SAFE_RANGES,
    expand_iteration_mark,
    fold_chars,
    fold_long_vowel,
    hira_to_kata,
    kanji_number,
    normalize,
)
from search.variants import VARIANTS, fold_variants

# Text that exercises every path: Japanese, half-width kana, full-width ASCII, combining marks,
# compatibility characters (㈱ ㍻), emoji, kanji numerals and arbitrary code points.
JAPANESE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF9F),
        st.characters(min_codepoint=0x0300, max_codepoint=0x036F),
        st.characters(min_codepoint=0x3200, max_codepoint=0x33FF),
        st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),
        st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
        st.sampled_from("〇一二三四五六七八九十百千万億兆第年月日回人都市々ゝゞー 　\t\n.,0123456789戰髙﨑ﾞﾟ"),
        st.characters(),
    ),
    max_size=60,
)

NUMERAL_CHARS = "〇零一二三四五六七八九十百千万億兆"


def digits_or_numerals(term: str) -> re.Pattern[str]:
    """A pattern matching ``term`` with each run of digits written as digits or kanji numerals."""
    parts = re.split(r"(\d+)", term)
    return re.compile(
        "".join(f"[0-9{NUMERAL_CHARS}]+" if p.isdigit() else re.escape(p) for p in parts if p)
    )


def test_safe_ranges_are_stable_under_nfkc_and_lower():
    for start, end in SAFE_RANGES:
        for code in range(start, end + 1):
            ch = chr(code)
            assert unicodedata.normalize("NFKC", ch) == ch, hex(code)
            assert ch.lower() == ch, hex(code)
            assert not unicodedata.combining(ch), hex(code)


@pytest.mark.parametrize(
    "variants",
    [("ＰＭ２．５", "PM2.5", "pm2.5", "Pm2.5"), ("ｽﾎﾟｰﾂ", "スポーツ"), ("戰略", "戦略"), ("㈱", "(株)"),
     ("髙橋", "高橋"), ("山﨑", "山崎"), ("渡邊", "渡邉", "渡辺"), ("齋藤", "齊藤", "斎藤"), ("㍻", "平成")],
)
def test_equivalent_spellings_normalize_alike(variants):
    assert len({normalize(v).text for v in variants}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二十三", "23"),
        ("第三回", "第3回"),
        ("千九百七十九年", "1979年"),
        ("一丁目", "1丁目"),
        ("平成二十八年二月二十三日", "平成28年2月23日"),
        ("二〇一六年", "2016年"),
        ("三十周年", "30周年"),
        ("十都市", "10都市"),
        ("約三十人", "約30人"),
        ("一万二千人", "12000人"),
        ("四十七都道府県", "47都道府県"),
        ("第一", "第1"),
    ],
)
def test_kanji_numerals_become_digits(text, expected):
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    "word",
    ["一体", "統一", "一部", "十分", "万一", "同一人物", "一つ", "五十嵐", "八千代市", "四万十市", "四日市市",
     "九州一円", "〇〇市", "一二を争う", "一時", "数十人"],
)
def test_numeral_kanji_inside_words_stay(word):
    assert normalize(word).text == word


def test_kanji_number_grammar():
    assert kanji_number("百") == 100
    assert kanji_number("三千五百万") == 35_000_000
    assert kanji_number("一億二千万") == 120_000_000
    assert kanji_number("十十") is None
    assert kanji_number("千万") == 10_000_000
    assert kanji_number("二〇〇五") == 2005


def test_variant_table_is_real_and_consistent():
    assert len(VARIANTS) >= 150
    for old, new in VARIANTS.items():
        assert old != new
        assert new not in VARIANTS  # folding is one step
        assert unicodedata.normalize("NFKC", old) == old  # NFKC runs first and would hide it
    assert fold_variants("戰邊國會學廣濱澤齋齊眞邉嶋") == "戦辺国会学広浜沢斎斎真辺島"


def test_offsets_map_expansions_and_contractions():
    n = normalize("㈱ｽﾎﾟｰﾂＰＭ２．５、千九百七十九年")
    assert n.text == "(株)スポーツpm2.5、1979年"
    assert len(n.offsets) == len(n.text) + 1
    s = n.text.index("スポーツ")
    assert n.original[slice(*n.span(s, s + 4))] == "ｽﾎﾟｰﾂ"
    s = n.text.index("1979")
    assert n.original[slice(*n.span(s, s + 5))] == "千九百七十九年"
    assert n.original[slice(*n.span(1, 2))] == "㈱"  # inside an expansion: the whole character


@settings(max_examples=400, deadline=None)
@given(JAPANESE_TEXT)
def test_offsets_are_monotonic_and_in_range(text):
    n = normalize(text)
    assert n.original == text
    assert len(n.offsets) == len(n.text) + 1
    assert n.offsets[0] == 0 and n.offsets[-1] == len(text)
    assert all(a <= b for a, b in zip(n.offsets, n.offsets[1:], strict=False))
    assert all(0 <= o <= len(text) for o in n.offsets)
    assert all(o < len(text) for o in n.offsets[:-1])


@settings(max_examples=300, deadline=None)
@given(JAPANESE_TEXT, st.data())
def test_spans_slice_to_text_that_normalizes_to_the_slice(text, data):
    n = normalize(text)
    if not n.text:
        return
    s = data.draw(st.integers(0, len(n.text) - 1))
    e = data.draw(st.integers(s + 1, len(n.text)))
    os_, oe = n.span(s, e)
    assert 0 <= os_ < oe <= len(text)
    piece = n.text[s:e]
    original = text[os_:oe]
    # The slice may be wider (a piece of an expansion) and, out of context, numerals may stay kanji.
    assert piece in normalize(original).text or digits_or_numerals(piece).search(fold_chars(original))


# Characters whose NFKC needs no context beyond a base character and its marks (no Hangul, no
# kanji numerals or variant kanji, which normalize() rewrites on purpose).
COMPOSING_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x30FF),
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF9F),
        st.characters(min_codepoint=0x0300, max_codepoint=0x036F),
        st.characters(min_codepoint=0x0041, max_codepoint=0x00FF),
        st.sampled_from("\u3099\u309a゛゜ﾞﾟ㈱㍻ﬁ"),
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(JAPANESE_TEXT, COMPOSING_TEXT))
def test_one_to_one_folding_first_changes_nothing(text):
    """Folding the one-to-one characters with a translate before the clusters gives the text
    and offsets of folding every cluster."""
    from search.normalize import _fold_clusters, _fold_width_case

    folded, offsets = _fold_width_case(text)
    expected, expected_offsets = _fold_clusters(text)
    assert (folded, list(offsets)) == (expected, expected_offsets)


def test_combining_marks_compose_with_the_character_before():
    assert normalize("か\u3099").text == "が"
    assert normalize("e\u0301").text == "é"
    assert normalize("ｶﾞｷﾞｸﾞ").text == "ガギグ"


@settings(max_examples=400, deadline=None)
@given(COMPOSING_TEXT)
def test_agrees_with_whole_string_nfkc(text):
    expected = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())
    assert normalize(text).text == expected


@settings(max_examples=300, deadline=None)
@given(JAPANESE_TEXT)
def test_normalization_is_idempotent(text):
    once = normalize(text).text
    assert normalize(once).text == once


def test_token_helpers():
    assert fold_long_vowel("サポーター") == fold_long_vowel("サポータ") == "サポータ"
    assert fold_long_vowel("ボー") == "ボー"
    assert fold_long_vowel("サーーバー") == "サーバ"
    assert expand_iteration_mark("人々") == "人人"
    assert expand_iteration_mark("時々") == "時時"
    assert hira_to_kata("くるめ") == "クルメ"
