"""Dates written in Japanese documents: era (和暦) and western years, months, days, fiscal years.

Matching runs on normalized text (``search.normalize``), so full-width digits and kanji
numerals (平成二十八年) are already digits; offsets are mapped back to the original text.

A mention covers a range of months, as ints YYYYMM: a day or a month covers its month, a year
January to December, a fiscal year (年度) April to the next March.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from typing import NamedTuple

from search.normalize import Normalized, normalize

__all__ = ["ERAS", "DateMention", "extract_dates", "months_between", "parse_date_query"]

#: Era name -> the western year of its year 0 (so year = offset + era year).
ERAS: dict[str, int] = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}


class DateMention(NamedTuple):
    """A date as written (``text``, ``start``/``end`` in the original) and what it means."""

    text: str
    start: int
    end: int
    iso: str
    fiscal: bool
    first_month: int
    last_month: int


_ERA_RE = "|".join(ERAS)
_YEAR = rf"(?:(?P<era>{_ERA_RE})\s*(?P<ey>元|\d{{1,2}})|(?<![\d.,])(?P<wy>\d{{4}}))"
_DATE = re.compile(
    rf"{_YEAR}\s*(?P<y_end>年)(?:(?P<fy>度)|\s*(?P<m>\d{{1,2}})\s*(?P<m_end>月)(?:\s*(?P<d>\d{{1,2}})\s*(?P<d_end>日))?)?"
)
# 2016/2/23, 2016-02-23, 2016.2.23, 2016/2 (a month needs the slash: 2016.5 is a decimal).
_NUMERIC = re.compile(
    r"(?<![\d./-])(?P<wy>\d{4})(?:(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})|/(?P<m2>\d{1,2}))(?![\d/])"
)
# Where a match of _DATE or _NUMERIC can begin. Both start with a lookbehind, which keeps
# re from skipping ahead to a possible first character by itself: _matches does it instead.
_STARTS = re.compile("[" + "".join(sorted({era[0] for era in ERAS})) + r"\d]")
_QUERY_YEAR = re.compile(rf"(?:(?P<era>{_ERA_RE})(?P<ey>元|\d{{1,2}})|(?P<wy>\d{{4}}))年?(?P<fy>度)?")


def _year(era: str | None, era_year: str | None, western: str | None) -> int | None:
    if era:
        n = 1 if era_year == "元" else int(era_year or 0)
        return ERAS[era] + n if n > 0 else None
    y = int(western or 0)
    return y if 1 <= y <= 9999 else None


def _mention(
    norm: Normalized,
    start: int,
    ends: tuple[int, int, int],
    year: int,
    month: int | None,
    day: int | None,
    fiscal: bool,
) -> DateMention:
    """Build a mention, dropping a month or day that cannot exist (2月30日 keeps 2月)."""
    year_end, month_end, day_end = ends
    if month is not None and not 1 <= month <= 12:
        month = day = None
    if month is not None and day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        day = None
    if fiscal:
        end, iso, first, last = year_end, f"{year:04d}", year * 100 + 4, (year + 1) * 100 + 3
    elif month is None:
        end, iso, first, last = year_end, f"{year:04d}", year * 100 + 1, year * 100 + 12
    elif day is None:
        end, iso, first = month_end, f"{year:04d}-{month:02d}", year * 100 + month
        last = first
    else:
        end, iso, first = day_end, f"{year:04d}-{month:02d}-{day:02d}", year * 100 + month
        last = first
    ostart, oend = norm.span(start, end)
    return DateMention(norm.original[ostart:oend], ostart, oend, iso, fiscal, first, last)


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _from_match(norm: Normalized, m: re.Match[str]) -> DateMention | None:
    g = m.groupdict()
    year = _year(g.get("era"), g.get("ey"), g.get("wy"))
    if year is None:
        return None
    if "y_end" in g:  # the 年 form
        ends = (m.end("fy") if g["fy"] else m.end("y_end"), m.end("m_end"), m.end("d_end"))
        return _mention(norm, m.start(), ends, year, _int(g["m"]), _int(g["d"]), bool(g["fy"]))
    month = _int(g["m"] or g["m2"])
    day = _int(g["d"])
    # numbers with slashes are only a date if every part is valid (2016/13 is not)
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    month_end = m.end("m") if g["m"] else m.end("m2")
    ends = (m.end("wy"), month_end, m.end("d"))
    return _mention(norm, m.start(), ends, year, month, day, False)


# Each pattern with the characters one of which every match of it holds.
_PATTERNS = ((_DATE, "年"), (_NUMERIC, "/.-"))
_CITATION = re.compile(r"\s*(?:法律|政令|条例|規則|省令|府令|告示|訓令)第")


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` for _DATE and _NUMERIC, tried only where _STARTS finds a
    first character (none of their matches is empty).

    >>> [m.group() for m in _matches(_NUMERIC, "2016/2/23、12345、2016/5")]
    ['2016/2/23', '2016/5']
    """
    search, match = _STARTS.search, pattern.match
    pos = 0
    while (start := search(text, pos)) is not None:
        found = match(text, start.start())
        if found is None:
            pos = start.start() + 1
        else:
            pos = found.end()
            yield found


def extract_dates(text: str, norm: Normalized | None = None) -> list[DateMention]:
    """Every date mentioned in ``text``, in order (``norm``: ``normalize(text)``, when the
    caller has it already). Never raises.

    >>> [(d.text, d.iso, d.fiscal, d.first_month, d.last_month) for d in extract_dates(
    ...     "平成28年2月23日に締結、平成15年度から実施。昭和60年5月21日、２０１１年８月３１日")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('平成28年2月23日', '2016-02-23', False, 201602, 201602),
     ('平成15年度', '2003', True, 200304, 200403),
     ('昭和60年5月21日', '1985-05-21', False, 198505, 198505),
     ('２０１１年８月３１日', '2011-08-31', False, 201108, 201108)]
    >>> [(d.text, d.iso) for d in extract_dates("平成元年、平成二十八年、2月30日は平成9年2月30日")]
    [('平成元年', '1989'), ('平成二十八年', '2016'), ('平成9年2月', '1997-02')]
    >>> extract_dates("地方自治法（昭和22年法律第67号）")
    []
    """
    if not text:
        return []
    if norm is None:
        norm = normalize(text)
    found: list[tuple[int, DateMention]] = []
    taken: list[tuple[int, int]] = []
    for pattern, needs in _PATTERNS:
        if not any(c in norm.text for c in needs):  # (most texts have no slash, many no 年)
            continue
        for m in _matches(pattern, norm.text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            mention = _from_match(norm, m)
            if mention is not None:
                taken.append(m.span())
                # 昭和22年法律第67号 numbers a law by its year: a citation, not a date of the text.
                if not _CITATION.match(norm.text, m.end()):
                    found.append((m.start(), mention))
    return [mention for _, mention in sorted(found, key=lambda x: x[0])]


def parse_date_query(word: str) -> DateMention | None:
    """The date a query word stands for, if the whole word is a date expression.

    >>> [(d.iso, d.fiscal, d.first_month, d.last_month) for d in map(parse_date_query,
    ...     ["2005年", "平成17年", "平成15年度", "2016", "2016年2月", "令和元年"])]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('2005', False, 200501, 200512), ('2005', False, 200501, 200512), ('2003', True, 200304, 200403),
     ('2016', False, 201601, 201612), ('2016-02', False, 201602, 201602), ('2019', False, 201901, 201912)]
    >>> parse_date_query("2016年の連携") is None, parse_date_query("12345") is None
    (True, True)
    """
    stripped = word.strip()
    if not stripped:
        return None
    lead = len(word) - len(word.lstrip())
    norm = normalize(stripped)
    text = norm.text
    for pattern in (_DATE, _NUMERIC):
        m = pattern.fullmatch(text)
        if m is not None:
            mention = _from_match(norm, m)
            # a dropped month/day (2016年2月30日) means the word was not all date
            if mention is None or mention.end != len(stripped):
                return None
            return mention._replace(start=mention.start + lead, end=mention.end + lead)
    m = _QUERY_YEAR.fullmatch(text)
    if m is None or (m["fy"] and not text.endswith("年度")):
        return None
    year = _year(m["era"], m["ey"], m["wy"])
    if year is None:
        return None
    fiscal = m["fy"] is not None
    first, last = (year * 100 + 4, (year + 1) * 100 + 3) if fiscal else (year * 100 + 1, year * 100 + 12)
    return DateMention(stripped, lead, lead + len(stripped), f"{year:04d}", fiscal, first, last)


def months_between(first: int, last: int) -> list[int]:
    """Months YYYYMM from ``first`` to ``last`` inclusive (empty if ``first`` is later).

    >>> months_between(200311, 200402)
    [200311, 200312, 200401, 200402]
    """
    out: list[int] = []
    year, month = divmod(first, 100)
    if not 1 <= month <= 12:
        return out
    while year * 100 + month <= last:
        out.append(year * 100 + month)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out
