"""Character-level normalization of Japanese text, with a map back to the original characters.

``normalize`` runs before MeCab and before the bigram tokenizer, so every field sees the
same text: NFKC (full-width ASCII, half-width katakana, ㈱, ㍻ …), lowercase, old/variant
kanji folded (``search.variants``), and kanji numerals written as numbers turned into
Arabic digits. The result keeps, for each normalized character, the index of the original
character it came from, so a token found in normalized text is highlighted in the original.

Kanji numeral rule (``_convert_numerals``): a run of numeral kanji becomes digits when it
reads as a well-formed number AND it is used as a number, which means one of

* it is preceded by 第 (第三回 → 第3回);
* it is followed by a counter (年 月 日 条 回 人 件 か所 周年 号 次 名 都市 丁目 …);
* it is two or more characters long and not glued to a following kanji
  (二十三 → 23, but 五十嵐, 八千代, 四万十 stay);

and a single character also needs a preceding character that is not itself a kanji (so
統一, 同一人物 stay), unless that is 第/約/計/各/全/毎/満, 年/月/日/週 (年二回, 一月一日)
or an era name. A few place names that look like numeral + counter (四日市, 十日町,
三条市 …) are protected. 一体, 一部, 十分, 万一
stay: no counter follows, and 万 needs a coefficient.

The token helpers at the end (``fold_long_vowel``, ``expand_iteration_mark``,
``hira_to_kata``) run on single terms, after offsets are fixed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from search.variants import VARIANT_TABLE, VARIANTS

__all__ = [
    "Normalized",
    "expand_iteration_mark",
    "fold_chars",
    "fold_long_vowel",
    "hira_to_kata",
    "is_kana",
    "kanji_number",
    "normalize",
    "normalize_text",
]


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalized text plus ``offsets``: normalized index -> original index (len(text)+1 entries;
    a ``range`` where normalization kept every character in place, as in nearly every text)."""

    original: str
    text: str
    offsets: Sequence[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the normalized slice ``[start, end)``.

        A slice that starts or ends inside the expansion of one original character (the 株 of
        ㈱ → (株), a digit of 千九百七十九 → 1979) widens to that whole character or run.

        >>> n = normalize("㈱ＰＭ２．５")
        >>> n.text, n.span(1, 2), n.span(3, 8)
        ('(株)pm2.5', (0, 1), (1, 6))
        """
        offsets = self.offsets
        ostart = offsets[start]
        if end <= start:
            return ostart, ostart
        last = offsets[end - 1]
        oend = offsets[end]
        while oend <= last:  # end falls inside a many-to-one chunk: move to its end
            end += 1
            oend = offsets[end]
        return ostart, oend


# --- step 1: NFKC + lowercase, per cluster -------------------------------------------------

# Characters left alone by NFKC and lower() that never compose with a neighbour. Text made
# only of these needs no per-character work; tests check the ranges against unicodedata.
SAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x40),
    (0x5B, 0x7F),
    (0x3001, 0x3029),
    (0x3030, 0x3035),
    (0x3037, 0x3037),
    (0x303B, 0x3098),
    (0x309D, 0x309E),
    (0x30A0, 0x30FE),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
)
_SAFE_CLASS = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in SAFE_RANGES)
_UNSAFE_RUN = re.compile(f"[^{_SAFE_CLASS}]+")
_UNSAFE_ANY = re.compile(f"[^{_SAFE_CLASS}]")
_VARIANT_ANY = re.compile("[" + "".join(sorted(VARIANTS)) + "]")
# Marks that NFKC attaches to the preceding character (half-width and combining (han)dakuten).
_JOINERS = frozenset("\uff9e\uff9f\u3099\u309a")


@lru_cache(maxsize=8192)
def _fold_cluster(cluster: str) -> str:
    # lower() can produce a non-NFKC string (İ -> i + U+0307); a second NFKC makes it stable.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", cluster).lower())


def _clusters(run: str) -> list[str]:
    """Split into base character + following marks (the unit NFKC may merge)."""
    out: list[str] = []
    for ch in run:
        if out and (ch in _JOINERS or unicodedata.combining(ch)):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _one_to_one_table() -> dict[int, str]:
    """Characters that fold to one character whatever surrounds them: upper-case ASCII, the
    ideographic space, full-width ASCII and half-width katakana (not the sound marks that
    join the kana before them). Folding these with ``str.translate`` moves no character, and
    a mark that follows one still composes with what it became (ｶ -> カ, カ + ﾞ -> ガ)."""
    table = {}
    for start, end in ((0x41, 0x5A), (0x3000, 0x3000), (0xFF01, 0xFF5E), (0xFF61, 0xFF9D)):
        for code in range(start, end + 1):
            folded = _fold_cluster(chr(code))
            if len(folded) == 1 and not unicodedata.combining(chr(code)):
                table[code] = folded
    return table


_ONE_TO_ONE = _one_to_one_table()


def _fold_width_case(text: str) -> tuple[str, Sequence[int]]:
    """NFKC and lower case, cluster by cluster, with the offset map.

    >>> _fold_width_case("（第１条）ＡＢＣ")
    ('(第1条)abc', range(0, 9))
    >>> _fold_width_case("ｶﾞｲﾄﾞ㈱")
    ('ガイド(株)', [0, 2, 3, 5, 5, 5, 6])
    """
    # The characters found in most texts that need folding (full-width parentheses, colons
    # and digits) fold one to one: each run of them is translated, and only a text with
    # something else to fold goes cluster by cluster (a third faster over a corpus).
    folded = _UNSAFE_RUN.sub(_translate_run, text)
    if _UNSAFE_ANY.search(folded) is None:
        return folded, range(len(folded) + 1)
    return _fold_clusters(text)


def _translate_run(m: re.Match[str]) -> str:
    return m.group().translate(_ONE_TO_ONE)


def _fold_clusters(text: str) -> tuple[str, list[int]]:
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _UNSAFE_RUN.finditer(text):
        start = m.start()
        if start > pos and (text[start] in _JOINERS or unicodedata.combining(text[start])):
            start -= 1  # a safe character (か) composes with the mark that follows it (か + ゛)
        if start > pos:
            pieces.append(text[pos:start])
            offsets.extend(range(pos, start))
        for cluster in _clusters(text[start : m.end()]):
            folded = _fold_cluster(cluster)
            pieces.append(folded)
            offsets.extend([start] * len(folded))
            start += len(cluster)
        pos = m.end()
    pieces.append(text[pos:])
    offsets.extend(range(pos, len(text) + 1))
    return "".join(pieces), offsets


# --- step 3: kanji numerals ---------------------------------------------------------------

_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_DIGITS["零"] = 0
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
_NUMERAL_RUN = re.compile("[〇零一二三四五六七八九十百千万億兆]+")
_COUNTERS = (
    "年|月|日|条|項|号|回|人|名|件|か所|ヶ所|ケ所|カ所|ヵ所|箇所|か国|ヶ国|カ国|ヵ国|か月|ヶ月|カ月|ヵ月|箇月"
    "|周年|次|都市|都道府県|市町村|丁目|番地|章|節|歳|才|世紀|期|倍|割|階|校|団体|時間|週"
)
_COUNTER_RE = re.compile(_COUNTERS)
# Counters that only count after a run of two or more (一時, 十分, 一円 stay words).
_MULTI_COUNTER_RE = re.compile(f"{_COUNTERS}|分|秒|時|度|円|社|本|個")
_ALLOWED_BEFORE_SINGLE = frozenset("第約計各全毎満年月日週")
_ERAS = ("明治", "大正", "昭和", "平成", "令和")
_PROTECTED = ("四日市", "五日市", "八日市", "十日町", "六日町", "三日月", "三条市", "五条市", "一人ひとり")


def _is_ideograph(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch >= "\U00020000" or ch in "々〆ヶ"


def kanji_number(run: str) -> int | None:
    """Value of a kanji numeral, or None if it is not a well-formed number.

    Positional (二〇一六) and multiplicative (千九百七十九) forms are read; a big unit needs a
    coefficient, so 万一 is not a number.

    >>> [kanji_number(s) for s in ("二十三", "千九百七十九", "二〇一六", "一万二千", "十", "万一", "三三十")]
    [23, 1979, 2016, 12000, 10, None, None]
    """
    if not any(c in _SMALL_UNITS or c in _BIG_UNITS for c in run):
        if not run or any(c not in _DIGITS for c in run):
            return None
        return int("".join(str(_DIGITS[c]) for c in run))
    total = section = 0
    digit: int | None = None
    last_small = last_big = 10**13
    for ch in run:
        if ch in _DIGITS:
            if digit is not None or _DIGITS[ch] == 0:
                return None
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if unit >= last_small:
                return None
            section += (1 if digit is None else digit) * unit
            last_small, digit = unit, None
        else:
            unit = _BIG_UNITS[ch]
            coefficient = section + (digit or 0)
            if unit >= last_big or coefficient == 0:
                return None
            total += coefficient * unit
            last_big, last_small, section, digit = unit, 10**13, 0, None
    return total + section + (digit or 0)


def _numeral_value(text: str, m: re.Match[str]) -> str | None:
    """The digits for numeral run ``m`` of ``text``, or None to leave it as written."""
    run, start, end = m.group(), m.start(), m.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if (before and before in "0123456789.,") or (after and after in "0123456789"):
        return None  # mixed forms such as 5万, 2千: leave them
    if text.startswith(_PROTECTED, start):
        return None
    after_dai = before == "第"
    era_before = text[max(0, start - 2) : start] in _ERAS
    if len(run) == 1:
        if run not in "一二三四五六七八九十百千":
            return None
        if not (after_dai or era_before):
            if before and _is_ideograph(before) and before not in _ALLOWED_BEFORE_SINGLE:
                return None
            if not _COUNTER_RE.match(text, end):
                return None
    else:
        positional = not any(c in _SMALL_UNITS or c in _BIG_UNITS for c in run)
        counted = after_dai or era_before or _MULTI_COUNTER_RE.match(text, end) is not None
        if positional and (run[0] in "〇零" or not (counted or "〇" in run or "零" in run)):
            return None
        if not counted:
            if after and _is_ideograph(after):
                return None
            if before and _is_ideograph(before) and before not in _ALLOWED_BEFORE_SINGLE:
                return None
    value = kanji_number(run)
    if value is None:
        return None
    if len(run) > 1 and not any(c in _SMALL_UNITS or c in _BIG_UNITS for c in run):
        return "".join(str(_DIGITS[c]) for c in run)  # keep leading digits as written
    return str(value)


def _convert_numerals(text: str, offsets: Sequence[int]) -> tuple[str, Sequence[int]]:
    pieces: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for m in _NUMERAL_RUN.finditer(text):
        digits = _numeral_value(text, m)
        if digits is None:
            continue
        start = m.start()
        pieces.append(text[pos:start])
        new_offsets.extend(offsets[pos:start])
        pieces.append(digits)
        new_offsets.extend([offsets[start]] * len(digits))
        pos = m.end()
    if not pieces:
        return text, offsets
    pieces.append(text[pos:])
    new_offsets.extend(offsets[pos:])
    return "".join(pieces), new_offsets


# --- public API -----------------------------------------------------------------------------


def normalize(text: str) -> Normalized:
    """NFKC + lowercase + variant kanji + kanji numerals, with an offset map to ``text``.

    >>> normalize("ＰＭ２．５").text, normalize("ｽﾎﾟｰﾂ").text, normalize("戰略").text
    ('pm2.5', 'スポーツ', '戦略')
    >>> normalize("第三回 二十三 千九百七十九年 一丁目 一体 統一 十分 万一").text
    '第3回 23 1979年 1丁目 一体 統一 十分 万一'
    >>> n = normalize("ｽﾎﾟｰﾂ")
    >>> n.offsets
    [0, 1, 3, 4, 5]
    >>> normalize("連携").offsets
    range(0, 3)
    """
    offsets: Sequence[int]
    if _UNSAFE_ANY.search(text) is None:
        # (a range, not a list: a rebuild normalizes every text, 24M characters a worker at
        # 100k passages, and a list of as many ints took a few percent of its time)
        folded, offsets = text, range(len(text) + 1)
    else:
        folded, offsets = _fold_width_case(text)
    if _VARIANT_ANY.search(folded) is not None:  # translate() costs ~0.2 µs a character
        folded = folded.translate(VARIANT_TABLE)
    if _NUMERAL_RUN.search(folded) is not None:
        folded, offsets = _convert_numerals(folded, offsets)
    return Normalized(text, folded, offsets)


def normalize_text(text: str) -> str:
    """Just the normalized string of ``normalize``.

    >>> normalize_text("平成二十八年２月")
    '平成28年2月'
    """
    return normalize(text).text


@lru_cache(maxsize=65536)
def fold_chars(text: str) -> str:
    """NFKC + lowercase + variant kanji, without numeral conversion (for dictionary forms).

    >>> fold_chars("ＡＢＣ髙")
    'abc高'
    """
    if _UNSAFE_ANY.search(text) is not None:
        text = "".join(_fold_cluster(c) for c in _clusters(text))
    return text.translate(VARIANT_TABLE) if _VARIANT_ANY.search(text) else text


_HIRA_TO_KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}
_KANA_ONLY = re.compile("[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe]+")
_KATAKANA_ONLY = re.compile("[\u30a1-\u30fa\u30fc]+")
_LONG_RUN = re.compile("ー{2,}")
_ITERATION = re.compile("[々ゝゞヽヾ]")


def hira_to_kata(s: str) -> str:
    """Hiragana to katakana; other characters unchanged.

    >>> hira_to_kata("ふくおか・くるめ市")
    'フクオカ・クルメ市'
    """
    return s.translate(_HIRA_TO_KATA)


def is_kana(s: str) -> bool:
    """True if ``s`` is non-empty and only hiragana, katakana and ー.

    >>> is_kana("ふくおか"), is_kana("サポーター"), is_kana("福岡"), is_kana("")
    (True, True, False, False)
    """
    return _KANA_ONLY.fullmatch(s) is not None


def fold_long_vowel(term: str) -> str:
    """Katakana long-vowel folding (as kuromoji's KatakanaStemFilter): ーー → ー, and a trailing ー
    of a katakana term of four or more characters is dropped.

    >>> [fold_long_vowel(t) for t in ("サポーター", "サポータ", "サーバー", "ルー", "コーーヒー", "ふー")]
    ['サポータ', 'サポータ', 'サーバ', 'ルー', 'コーヒ', 'ふー']
    """
    if "ー" not in term:
        return term
    if "ーー" in term:
        term = _LONG_RUN.sub("ー", term)
    if len(term) >= 4 and term[-1] == "ー" and _KATAKANA_ONLY.fullmatch(term):
        return term[:-1]
    return term


def expand_iteration_mark(term: str) -> str:
    """Spell out iteration marks: 々 repeats the previous character, ゝ/ヽ the previous kana,
    ゞ/ヾ the previous kana voiced.

    >>> [expand_iteration_mark(t) for t in ("人々", "時々", "佐々木", "々", "いすゞ", "こゝろ")]
    ['人人', '時時', '佐佐木', '々', 'いすず', 'こころ']
    """
    if _ITERATION.search(term) is None:
        return term
    out: list[str] = []
    for ch in term:
        if out and ch in "々ゝヽ":
            out.append(out[-1])
        elif out and ch in "ゞヾ":
            voiced = unicodedata.normalize("NFC", out[-1] + "\u3099")
            out.append(voiced if len(voiced) == 1 else out[-1])
        else:
            out.append(ch)
    return "".join(out)
