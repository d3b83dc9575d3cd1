"""Era and western dates: extraction, query words, month ranges."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.dates import extract_dates, months_between, parse_date_query

DATE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("明治大正昭和平成令和元年度月日第二十三〇一九八七六五四百千")),
        st.sampled_from(list("0123456789０１２３")),
        st.sampled_from([" ", "/", "-", ".", "、", "ｶ", "ﾞ", "㍻", "㋿"]),
        st.characters(),
    ),
    max_size=40,
)


@pytest.mark.parametrize(
    ("text", "iso", "fiscal", "first", "last"),
    [
        ("平成28年2月23日", "2016-02-23", False, 201602, 201602),
        ("令和7年8月27日", "2025-08-27", False, 202508, 202508),
        ("平成15年度", "2003", True, 200304, 200403),
        ("平成元年", "1989", False, 198901, 198912),
        ("昭和60年5月21日", "1985-05-21", False, 198505, 198505),
        ("平成9年6月", "1997-06", False, 199706, 199706),
        ("２０１１年８月３１日", "2011-08-31", False, 201108, 201108),
        ("平成二十八年", "2016", False, 201601, 201612),
        ("平成二十八年二月二十三日", "2016-02-23", False, 201602, 201602),
        ("1979年", "1979", False, 197901, 197912),
        ("2005年度", "2005", True, 200504, 200603),
        ("令和元年度", "2019", True, 201904, 202003),
        ("明治45年", "1912", False, 191201, 191212),
        ("大正元年", "1912", False, 191201, 191212),
        ("㍻28年", "2016", False, 201601, 201612),
        ("2016/2/23", "2016-02-23", False, 201602, 201602),
    ],
)
def test_examples(text, iso, fiscal, first, last):
    (mention,) = extract_dates(text)
    assert (mention.text, mention.start, mention.end) == (text, 0, len(text))
    assert (mention.iso, mention.fiscal) == (iso, fiscal)
    assert (mention.first_month, mention.last_month) == (first, last)


def test_mentions_in_running_text_have_original_offsets():
    text = "姉妹都市提携は平成２８年２月２３日。平成22年度から実施し、2004年11月に発足した。"
    mentions = extract_dates(text)
    assert [m.iso for m in mentions] == ["2016-02-23", "2010", "2004-11"]
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_impossible_days_and_months_are_dropped():
    (m,) = extract_dates("平成9年2月30日")
    assert (m.text, m.iso) == ("平成9年2月", "1997-02")
    (m,) = extract_dates("2011年13月1日")
    assert (m.text, m.iso) == ("2011年", "2011")
    assert extract_dates("2016/13/1") == []
    assert extract_dates("平成0年") == []


def test_era_years_beyond_the_era_are_computed():
    (m,) = extract_dates("平成40年")
    assert m.iso == "2028"


def test_not_dates():
    assert extract_dates("第3条第2項") == []
    assert extract_dates("12016年") == []
    assert extract_dates("") == []


@pytest.mark.parametrize(
    ("word", "iso", "fiscal"),
    [("2005年", "2005", False), ("平成17年", "2005", False), ("平成15年度", "2003", True),
     ("2016", "2016", False),
     ("2016年2月", "2016-02", False), ("２０１６", "2016", False), ("平成17", "2005", False),
     ("2005年度", "2005", True), ("2016-02-23", "2016-02-23", False)],
)
def test_parse_date_query(word, iso, fiscal):
    m = parse_date_query(word)
    assert m is not None and (m.iso, m.fiscal) == (iso, fiscal)


@pytest.mark.parametrize(
    "word", ["福岡", "2016年の協定", "123", "20160", "2016年2月30日", "2005度", "", "  "]
)
def test_parse_date_query_rejects(word):
    assert parse_date_query(word) is None


def test_months_between():
    assert months_between(200304, 200403) == [200304 + i for i in range(9)] + [200401, 200402, 200403]
    assert months_between(201602, 201602) == [201602]
    assert months_between(201603, 201602) == []


@settings(max_examples=500, deadline=None)
@given(DATE_TEXT)
def test_extract_dates_never_raises_and_offsets_hold(text):
    for m in extract_dates(text):
        assert text[m.start : m.end] == m.text
        assert m.first_month <= m.last_month
        assert 1 <= m.first_month % 100 <= 12 and 1 <= m.last_month % 100 <= 12
    parse_date_query(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(DATE_TEXT, st.text(alphabet="0129年月日度/.-,元平成令和明 ", max_size=24)))
@example("0123年、令和元年、2016/02/03、12016/2")
def test_matches_are_those_finditer_finds(text):
    """Trying the patterns only where a date can begin finds exactly what scanning every
    character finds."""
    from search.dates import _DATE, _NUMERIC, _matches

    for pattern in (_DATE, _NUMERIC):
        expected = [(m.span(), m.groupdict()) for m in pattern.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in _matches(pattern, text)] == expected
