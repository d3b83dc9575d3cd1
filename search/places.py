"""Municipality names mentioned in a text (久留米市, 福岡県, ハイフォン市 …), from MeCab.

A municipality is a proper noun that MeCab tags as a place (名詞-固有名詞-地名) or, for
names such as 朝倉市, as a person's name, immediately followed by 県/市/町/村/区 (or the
only 都/道/府 there are: 東京都, 北海道, 京都府, 大阪府). Generic words such as 両市, 本市, 各市,
構成市町 are common nouns and never match. A 町/村 right after a city or ward
(山口市亀山町) is a district in an address, not a municipality, and is skipped.

Known misses: names MeCab reads as common nouns (中間市, 直方市, 光市, みやま市).
"""

from __future__ import annotations

from search.tokenizer import Morph, morphemes

__all__ = ["is_name", "municipalities", "names_in"]

_SUFFIXES = frozenset("県市町村区")
_WITH_SUFFIX = frozenset(("東京都", "北海道", "京都府", "大阪府"))
_NAME_KINDS = frozenset(("地名", "人名"))


def is_name(m: Morph) -> bool:
    """Whether ``m`` is a proper noun that may begin a municipality's name."""
    return m.pos[1] == "固有名詞" and m.pos[2] in _NAME_KINDS


def municipalities(text: str) -> list[str]:
    """Municipality names (normalized) in order of first appearance, without repeats.

    >>> municipalities("福岡県久留米市と小郡市、山口県下関市・北九州市は両市で大連市、ハイフォン市。小郡市")
    ['福岡県', '久留米市', '小郡市', '山口県', '下関市', '北九州市', '大連市', 'ハイフォン市']
    >>> municipalities("山口市亀山町2番1号、北海道と東京都、本市及び各市町")
    ['山口市', '北海道', '東京都']
    """
    return names_in(morphemes(text))


def names_in(ms: list[Morph]) -> list[str]:
    """Municipality names in a text's morphemes (see :func:`municipalities`)."""
    found: dict[str, None] = {}
    for i, m in enumerate(ms):
        if not is_name(m):
            continue
        if m.surface_norm in _WITH_SUFFIX:
            found.setdefault(m.surface_norm, None)
            continue
        if i + 1 >= len(ms):
            continue
        suffix = ms[i + 1]
        if suffix.start != m.end:
            continue
        name = m.surface_norm + suffix.surface_norm
        if suffix.surface_norm not in _SUFFIXES:
            if name in _WITH_SUFFIX:
                found.setdefault(name, None)
            continue
        if m.pos[2] == "人名" and suffix.surface_norm == "県":
            continue  # prefectures are always tagged as places; 人名+県 is a misreading
        previous = ms[i - 1] if i else None
        if (
            suffix.surface_norm in "町村"
            and previous is not None
            and previous.end == m.start
            and previous.surface_norm in ("市", "区")
        ):
            continue  # 山口市亀山町: a district of the city
        found.setdefault(name, None)
    return list(found)
