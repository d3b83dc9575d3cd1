"""MeCab (fugashi + unidic-lite) morphological analysis of normalized text.

``morphemes(text)`` normalizes ``text`` (``search.normalize``), runs MeCab once and returns
plain ``Morph`` tuples whose ``start``/``end`` index the ORIGINAL text.

Why MeCab is driven through ``GenericTagger.parse`` with a custom output format rather than
through node objects: one C call returns every morpheme's surface (with the spaces skipped
before it, which gives exact offsets) and feature CSV as one string, several times faster
than reading ``node.feature`` node by node, and no lazy node state outlives the call.
A fugashi tagger is neither thread-safe nor picklable, so there is one per thread
(``threading.local``), created on first use and never stored on analyzer objects.

Base forms (``base_form``): MeCab's dictionary form (orthBase), folded like the text, then

1. for common nouns, verbs, adjectives and adverbs written with kanji, unidic's lemma, which
   fixes the spelling of a word (子ども → 子供, 行なう → 行う, 取組む → 取り組む, 申込み →
   申し込み); kana-only forms keep orthBase, so する does not become 為る;
2. okurigana dropped from verbs and common nouns with two or more kanji: every hiragana after
   the first kanji goes (取り組む, 取組む, 取り組み, 取組 → 取組; 打ち合わせ, 打合せ → 打合).
   This merges verb and noun forms of the same compound, at the price of rare merges such as
   生き物/生物, acceptable for a recall-oriented field (the surface field stays exact).

Readings are unidic's ``kana`` field (katakana of the form as written); numbers and unknown
words have none, except unknown kana words, whose reading is their katakana.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import NamedTuple

import fugashi
import unidic_lite

from search.normalize import Normalized, fold_chars, hira_to_kata, is_kana, normalize

__all__ = ["Morph", "base_form", "morphemes", "normalized", "strip_okurigana"]


class Morph(NamedTuple):
    """One morpheme. ``start``/``end`` are offsets in the original text."""

    surface_norm: str
    surface_orig: str
    base: str
    reading: str
    pos: tuple[str, str, str]
    start: int
    end: int


# Surface with the spaces MeCab skipped before it, then the raw feature CSV (unknown words
# have only the six POS fields). Asking MeCab for selected fields (%f[n]) is slower than %H.
_FORMAT = r"%M\t%H\n"
_CACHE_SIZE = 256  # recent texts (a query is analyzed by several fields' analyzers)
_local = threading.local()

# MeCab stops at NUL and skips tab/newline as it likes; the output format uses tab and newline
# as separators. Mapping every C0 control to a space keeps lengths, and leaves the space as the
# only character MeCab skips (checked over all code points).
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _tagger() -> fugashi.GenericTagger:
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        dicdir = unidic_lite.DICDIR
        args = (
            f"-r {shlex.quote(os.path.join(dicdir, 'mecabrc'))} -d {shlex.quote(dicdir)} -O ''"
            f" -F '{_FORMAT}' -U '{_FORMAT}' -B '' -E ''"
        )
        tagger = _local.tagger = fugashi.GenericTagger(args)
    return tagger


def _cache() -> OrderedDict[str, list]:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    return cache


_KANJI = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff々]")
_HIRAGANA = re.compile("[\u3041-\u3096]+")
_LEMMA_POS = frozenset(("名詞", "動詞", "形容詞", "副詞", "形状詞"))


def strip_okurigana(word: str) -> str:
    """Drop the hiragana after the first kanji of a word with two or more kanji.

    >>> [strip_okurigana(w) for w in ("取り組む", "取組む", "取り組み", "打ち合わせ", "お申し込み", "行う")]
    ['取組', '取組', '取組', '打合', 'お申込', '行う']
    """
    first = _KANJI.search(word)
    if first is None or len(_KANJI.findall(word)) < 2:
        return word
    i = first.start()
    return word[:i] + _HIRAGANA.sub("", word[i:])


@lru_cache(maxsize=65536)
def base_form(surface_norm: str, orth_base: str, lemma: str, pos1: str, pos2: str) -> str:
    """Normalized base form of a morpheme (see the module docstring for the rules).

    >>> base_form("し", "する", "為る", "動詞", "非自立可能")
    'する'
    >>> base_form("取組ん", "取組む", "取り組む", "動詞", "一般")
    '取組'
    >>> base_form("子ども", "子ども", "子供", "名詞", "普通名詞")
    '子供'
    >>> base_form("関西", "関西", "カンサイ", "名詞", "固有名詞")
    '関西'
    """
    if not orth_base:
        return surface_norm
    base = fold_chars(orth_base)
    proper = pos2 == "固有名詞"
    if pos1 in _LEMMA_POS and not proper and lemma and "-" not in lemma:
        if _KANJI.search(base) and _KANJI.search(lemma):
            base = fold_chars(lemma)
    if pos1 in ("動詞", "名詞") and not proper:
        base = strip_okurigana(base)
    return base


# unidic feature indexes: 0-2 pos1..pos3, 7 lemma, 10 orthBase, 17 kana.
_LINE_CACHE: dict[str, tuple[str, str, str, tuple[str, str, str]]] = {}
_LINE_CACHE_MAX = 200_000


def _line_info(line: str) -> tuple[str, str, str, tuple[str, str, str]]:
    """(surface, base, reading, pos) of one MeCab output line without its leading spaces."""
    surface, _, csv_text = line.partition("\t")
    if '"' in csv_text:  # a field with a comma in it is quoted
        feats = next(csv.reader([csv_text]))
    else:
        feats = csv_text.split(",")
    feats += [""] * (18 - len(feats))
    pos1, pos2, pos3 = feats[0], feats[1], feats[2]
    lemma, orth_base, reading = (f if f != "*" else "" for f in (feats[7], feats[10], feats[17]))
    if not reading and is_kana(surface):
        reading = hira_to_kata(surface)
    info = (surface, base_form(surface, orth_base, lemma, pos1, pos2), reading, (pos1, pos2, pos3))
    if len(_LINE_CACHE) >= _LINE_CACHE_MAX:
        _LINE_CACHE.clear()
    _LINE_CACHE[line] = info
    return info


def mecab_input(text: str) -> str:
    r"""``text`` as MeCab is given it: controls as spaces, lone surrogates as U+FFFD (same length).

    >>> mecab_input("a\tb\x00c\ud800")
    'a b c\ufffd'
    """
    text = _CONTROL.sub(" ", text)
    if _SURROGATE.search(text):  # unencodable in UTF-8
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _parse(norm: Normalized) -> tuple[Morph, ...]:
    text = mecab_input(norm.text)
    raw = _tagger().parse(text)
    if not raw:
        return ()
    original = norm.original
    offsets = norm.offsets
    morphs: list[Morph] = []
    append = morphs.append
    make = Morph._make  # tuple.__new__: skips the generated __new__'s Python frame
    cache_get = _LINE_CACHE.get
    pos = 0
    for line in raw.split("\n"):
        stripped = line.lstrip(" ")
        info = cache_get(stripped) or _line_info(stripped)
        surface = info[0]
        if not surface:
            continue
        start = pos + len(line) - len(stripped)
        if not text.startswith(surface, start):  # never seen; keep offsets honest if it happens
            start = text.find(surface, pos)
            if start < 0:
                continue
        end = pos = start + len(surface)
        ostart, oend = offsets[start], offsets[end]
        if oend <= offsets[end - 1]:  # ends inside an expansion such as ㈱ -> (株)
            ostart, oend = norm.span(start, end)
        append(make((surface, original[ostart:oend], info[1], info[2], info[3], ostart, oend)))
    return tuple(morphs)


def _entry(text: str) -> list:
    """The cache entry ``[Normalized, morphs or None]`` of ``text``, most recent last."""
    cache = _cache()
    entry = cache.get(text)
    if entry is not None:
        cache.move_to_end(text)
        return entry
    entry = cache[text] = [normalize(text), None]
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return entry


def morphemes(text: str) -> list[Morph]:
    """Morphemes of ``text`` with offsets into ``text``; the last few parses are cached per thread.

    >>> [(m.surface_norm, m.base, m.reading, m.start, m.end) for m in morphemes("締結した")]
    [('締結', '締結', 'テイケツ', 0, 2), ('し', 'する', 'シ', 2, 3), ('た', 'た', 'タ', 3, 4)]
    >>> [(m.surface_orig, m.surface_norm, m.start, m.end) for m in morphemes("ｽﾎﾟｰﾂ 第三回")]
    [('ｽﾎﾟｰﾂ', 'スポーツ', 0, 5), ('第', '第', 6, 7), ('三', '3', 7, 8), ('回', '回', 8, 9)]
    """
    entry = _entry(text)
    if entry[1] is None:
        entry[1] = _parse(entry[0])
    return list(entry[1])


def normalized(text: str) -> Normalized:
    """``normalize(text)``, shared with the morpheme cache so a passage is normalized once."""
    return _entry(text)[0]
