"""Whoosh analyzers for Japanese text: a tokenizer piped into small filters with ``|``.

Every token carries ``startchar``/``endchar`` in ORIGINAL characters (before normalization)
and, for the MeCab analyzers, the ``Morph`` it came from as ``token.morph``. Positions are
renumbered by the stop filter, so 観光の振興 and 観光振興 both give consecutive positions.

Analyzers hold only plain settings: the MeCab tagger lives in a thread-local (see
``search.tokenizer``), so Whoosh can pickle them into the index's schema.

Reading field and kana queries. MeCab may split or mis-read a kana query (くるめ is parsed
as the verb くるめる, しものせき as し/も/の/せき), so reading matching is by whole-string
key: in query mode the reading analyzer yields ONE token, ``reading_key(query)``, the
concatenated katakana reading of every non-punctuation morpheme. At index time it yields each
content morpheme's reading and, for runs of adjacent nouns/affixes, the concatenated
readings of 2-4 consecutive morphemes at the position of the first (福岡県久留米市 gives
フクオカ, フクオカケン, フクオカケンクルメ, …, クルメシ). A query side building its own Whoosh
query should use ``Term(reading_field, reading_key(word))``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from search.backend import Filter, Token, Tokenizer
from search.normalize import expand_iteration_mark, fold_long_vowel, hira_to_kata, is_kana
from search.tokenizer import Morph, morphemes, normalized

__all__ = [
    "BaseFormFilter",
    "BigramTokenizer",
    "IterationMarkFilter",
    "LongVowelFilter",
    "LowercaseFilter",
    "MecabTokenizer",
    "PUNCT_TAGS",
    "PosStopFilter",
    "ReadingCompoundFilter",
    "ReadingFilter",
    "STOP_BASES",
    "STOP_TAGS",
    "analyze_query_word",
    "base_analyzer",
    "bigram_analyzer",
    "reading_analyzer",
    "reading_key",
    "surface_analyzer",
]

#: pos1 values dropped from the surface/base/reading fields.
STOP_TAGS = frozenset(
    ("助詞", "助動詞", "補助記号", "記号", "空白", "接続詞", "感動詞", "フィラー", "代名詞", "連体詞")
)
#: pos1 values that carry no reading: punctuation and blanks (kept out of ``reading_key``).
PUNCT_TAGS = frozenset(("補助記号", "記号", "空白"))
#: Light verbs and formal nouns: 締結した and 締結 should give the same terms.
STOP_BASES = frozenset(
    (
        "する",
        "為る",
        "いる",
        "居る",
        "ある",
        "有る",
        "在る",
        "なる",
        "成る",
        "おる",
        "できる",
        "出来る",
        "れる",
        "られる",
        "せる",
        "させる",
        "こと",
        "事",
        "もの",
        "ため",
        "よう",
        "ところ",
        "とき",
    )
)
# pos1 of morphemes that join into compound readings (名詞 except numbers, prefixes, suffixes).
_COMPOUND_POS = frozenset(("名詞", "接頭辞", "接尾辞"))


def _is_stop(morph: Morph, tags: frozenset[str], bases: frozenset[str]) -> bool:
    return morph.pos[0] in tags or morph.base in bases


class MecabTokenizer(Tokenizer):
    """MeCab morphemes of the normalized text; ``token.text`` is the normalized surface.

    >>> toks = MecabTokenizer()("ＰＭ２．５の", positions=True, chars=True)
    >>> [(t.text, t.pos, t.startchar, t.endchar) for t in toks]
    [('pm', 0, 0, 2), ('2', 1, 2, 3), ('.', 2, 3, 4), ('5', 3, 4, 5), ('の', 4, 5, 6)]
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            text = normalized(value).text
            reading = hira_to_kata(text) if is_kana(text) else ""
            morphs = [Morph(text, value, text, reading, ("名詞", "普通名詞", "一般"), 0, len(value))]
        else:
            morphs = morphemes(value)
        for i, m in enumerate(morphs):
            t.text = m.surface_norm
            t.morph = m
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = m.surface_orig
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar = start_char + m.start
                t.endchar = start_char + m.end
            yield t


class LowercaseFilter(Filter):
    """Lowercase the term (normalization already did; kept for terms set by earlier filters).

    >>> [t.text for t in LowercaseFilter()(MecabTokenizer()("ＡＢＣ"))]
    ['abc']
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = t.text.lower()
            yield t


class PosStopFilter(Filter):
    """Drop morphemes by part of speech (pos1) and by base form; renumber positions.

    In query mode ``query_tags``/``query_bases`` apply instead, when given.

    >>> toks = (MecabTokenizer() | PosStopFilter())("観光の振興", positions=True)
    >>> [(t.text, t.pos) for t in toks]
    [('観光', 0), ('振興', 1)]
    """

    def __init__(
        self,
        tags: Iterable[str] = STOP_TAGS,
        bases: Iterable[str] = STOP_BASES,
        query_tags: Iterable[str] | None = None,
        query_bases: Iterable[str] | None = None,
    ) -> None:
        self.tags = frozenset(tags)
        self.bases = frozenset(bases)
        self.query_tags = None if query_tags is None else frozenset(query_tags)
        self.query_bases = None if query_bases is None else frozenset(query_bases)

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        first: int | None = None
        kept = 0
        tags, bases = self.tags, self.bases
        for t in tokens:
            if first is None:
                first = getattr(t, "pos", 0) if t.positions else 0
                if t.mode == "query":
                    tags = self.query_tags if self.query_tags is not None else tags
                    bases = self.query_bases if self.query_bases is not None else bases
            m = t.morph
            if m.pos[0] in tags or m.base in bases:
                if t.removestops:
                    continue
                t.stopped = True
                if t.positions:
                    t.pos = first + kept
                yield t
                continue
            if t.positions:
                t.pos = first + kept
            kept += 1
            yield t


class BaseFormFilter(Filter):
    """Replace the term by the morpheme's normalized base form.

    >>> [t.text for t in BaseFormFilter()(MecabTokenizer()("取り組んだ"))]
    ['取組', 'だ']
    """

    is_morph = True

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = t.morph.base
            yield t


class LongVowelFilter(Filter):
    """Katakana long-vowel folding (``fold_long_vowel``).

    >>> [t.text for t in LongVowelFilter()(MecabTokenizer()("サポーター"))]
    ['サポータ']
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold_long_vowel(t.text)
            yield t


class IterationMarkFilter(Filter):
    """Spell out 々 and kana iteration marks (``expand_iteration_mark``).

    >>> [t.text for t in IterationMarkFilter()(MecabTokenizer()("人々"))]
    ['人人']
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = expand_iteration_mark(t.text)
            yield t


def _raw_reading(m: Morph) -> str:
    return m.reading or m.surface_norm


class ReadingFilter(Filter):
    """Replace the term by the katakana reading (long vowel folded); surface if it has none.

    >>> [t.text for t in ReadingFilter()(MecabTokenizer()("福岡 ふくおか 2016"))]
    ['フクオカ', 'フクオカ', '2016']
    """

    is_morph = True

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold_long_vowel(_raw_reading(t.morph))
            yield t


def _compound_part(m: Morph) -> bool:
    """Whether a morpheme may join a compound term: a noun (not a number), prefix or suffix."""
    return m.pos[0] in _COMPOUND_POS and m.pos[1] != "数詞"


def _joinable(t: Token) -> bool:
    return not t.stopped and _compound_part(t.morph)


class _JoiningFilter(Filter):
    """Index mode: after each noun or affix, also give the joined terms of it and the next ones
    (up to ``max_parts`` in all) that touch it in the text, at its position. Subclasses say what
    a part contributes (``_part``), how a joined term is finished (``_finish``) and what query
    mode does (``_query``). Everything starting at one morpheme is yielded before the next, so
    positions never go back.
    """

    is_morph = True
    max_parts = 3

    def __init__(self, max_parts: int | None = None) -> None:
        if max_parts is not None:
            self.max_parts = max_parts

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        tokens = iter(tokens)
        # A run of joinable tokens, kept as plain values: tokenizers reuse one Token object.
        run: list[tuple[str, int, int, int, Morph]] = []
        out: Token | None = None
        for t in tokens:
            if t.mode == "query":
                yield from self._query(t, tokens)
                return
            joinable = _joinable(t)
            if run and not (joinable and run[-1][4].end == t.morph.start):
                yield from self._flush(run, out)
                run = []
            if joinable:
                if out is None:
                    out = t.copy()
                d = t.__dict__
                run.append((t.text, d.get("pos", 0), d.get("startchar", 0), d.get("endchar", 0), t.morph))
            else:
                yield t
        if run:
            yield from self._flush(run, out)

    def _flush(self, run: list[tuple[str, int, int, int, Morph]], out: Any) -> Iterator[Token]:
        n = len(run)
        for i, (text, pos, startchar, endchar, morph) in enumerate(run):
            out.morph, out.pos, out.startchar, out.endchar, out.text = morph, pos, startchar, endchar, text
            yield out
            joined = self._part(text, morph)
            for j in range(i + 1, min(n, i + self.max_parts)):
                joined += self._part(run[j][0], run[j][4])
                out.text, out.endchar = self._finish(joined), run[j][3]
                yield out

    def _part(self, text: str, morph: Morph) -> str:
        return text

    def _finish(self, joined: str) -> str:
        return joined

    def _query(self, first: Token, rest: Iterator[Token]) -> Iterator[Token]:
        yield first
        yield from rest


class ReadingCompoundFilter(_JoiningFilter):
    """Index mode: add the joined readings of 2..``max_parts`` adjacent nouns/affixes.
    Query mode: join all readings into one token (``reading_key``).

    >>> [(t.text, t.pos) for t in reading_analyzer()("久留米市へ", positions=True)]
    [('クルメ', 0), ('クルメシ', 0), ('シ', 1)]
    >>> [t.text for t in reading_analyzer()("しものせき", mode="query")]
    ['シモノセキ']
    """

    max_parts = 4

    # Readings are joined raw and folded once, as reading_key() does for a query.
    def _part(self, text: str, morph: Morph) -> str:
        return _raw_reading(morph)

    def _finish(self, joined: str) -> str:
        return fold_long_vowel(joined)

    def _query(self, first: Token, rest: Iterator[Token]) -> Iterator[Token]:
        joined = first.copy()  # copy before the tokenizer overwrites it with the next morpheme
        parts = [_raw_reading(first.morph)]
        for t in rest:
            parts.append(_raw_reading(t.morph))
            if joined.chars:
                joined.endchar = t.endchar
        joined.text = fold_long_vowel("".join(parts))
        yield joined


MAX_COMPOUND = 3  # parts of a noun compound also indexed as one term


class CompoundFilter(_JoiningFilter):
    """Index mode: after each noun or affix, also give the joined terms of it and the next
    one or two that touch it in the text, at its position. A query word made of such a run
    (図書館 = 図書 + 館) is then one term lookup instead of a phrase check of positions.

    >>> [(t.text, t.pos) for t in surface_analyzer()("県立図書館へ", positions=True)]
    [('県立', 0), ('県立図書', 0), ('県立図書館', 0), ('図書', 1), ('図書館', 1), ('館', 2)]
    >>> [t.text for t in surface_analyzer()("県立図書館", mode="query")]
    ['県立', '図書', '館']
    """

    max_parts = MAX_COMPOUND


def compound_term(analyzer: Any, text: str, max_parts: int = MAX_COMPOUND) -> str | None:
    """The single indexed term of a query word that is a short noun compound, else None.

    >>> compound_term(surface_analyzer(), "図書館"), compound_term(surface_analyzer(), "観光の振興")
    ('図書館', None)
    """
    parts: list[tuple[str, Morph]] = []
    for t in analyzer(text, mode="query"):
        if not _joinable(t):
            return None
        parts.append((t.text, t.morph))
    if not 2 <= len(parts) <= max_parts:
        return None
    if any(a[1].end != b[1].start for a, b in zip(parts, parts[1:], strict=False)):
        return None
    return "".join(p for p, _ in parts)


class BigramTokenizer(Tokenizer):
    """Character bigrams of the normalized text within runs of word characters (a one-character
    run gives a unigram); a fallback field for strings MeCab does not know.

    >>> [(t.text, t.startchar, t.endchar) for t in BigramTokenizer()("㈱ＡＢ、北九州", chars=True)]
    [('株', 0, 1), ('ab', 1, 3), ('北九', 4, 6), ('九州', 5, 7)]
    """

    # Word characters, plus a '.' or ',' between digits (pm2.5, 1,000).
    RUN = re.compile(r"(?:[^\W_]|(?<=\d)[.,](?=\d))+")

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        norm = normalized(value)
        text, offsets = norm.text, norm.offsets
        pos = start_pos
        for m in self.RUN.finditer(text):
            s, e = m.span()
            for i in range(s, max(s + 1, e - 1)):
                j = i + 2 if i + 2 <= e else e
                t.text = text[i:j]
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = t.text
                if positions:
                    t.pos = pos
                if chars:
                    ostart, oend = offsets[i], offsets[j]
                    if oend <= offsets[j - 1]:  # ends inside an expansion (㈱ -> (株))
                        ostart, oend = norm.span(i, j)
                    t.startchar, t.endchar = start_char + ostart, start_char + oend
                pos += 1
                yield t


def surface_analyzer(compounds: bool = True) -> Any:
    """Surface forms: MeCab → lowercase → POS stop → long vowel → iteration mark (→ compounds).

    >>> [t.text for t in surface_analyzer(compounds=False)("サポーターの人々がＰＭ２．５を測定した")]
    ['サポータ', '人人', 'pm', '2', '5', '測定']
    """
    chain = MecabTokenizer() | LowercaseFilter() | PosStopFilter() | LongVowelFilter() | IterationMarkFilter()
    return chain | CompoundFilter() if compounds else chain


def base_analyzer(compounds: bool = True) -> Any:
    """Normalized base forms (締結した → 締結, 取り組んだ → 取組) (→ compounds).

    >>> [t.text for t in base_analyzer(compounds=False)("協約を締結し、取り組んだ")]
    ['協約', '締結', '取組']
    """
    chain = (
        MecabTokenizer()
        | BaseFormFilter()
        | LowercaseFilter()
        | PosStopFilter()
        | LongVowelFilter()
        | IterationMarkFilter()
    )
    return chain | CompoundFilter() if compounds else chain


def reading_analyzer() -> Any:
    """Katakana readings, with compound readings at index time and one joined key at query time.

    >>> analyzer = reading_analyzer()
    >>> [t.text for t in analyzer("くるめ", mode="query")], [t.text for t in analyzer("久留米")]
    (['クルメ'], ['クルメ'])
    """
    return (
        MecabTokenizer()
        | PosStopFilter(query_tags=PUNCT_TAGS, query_bases=())
        | ReadingFilter()
        | ReadingCompoundFilter()
    )


def bigram_analyzer() -> Any:
    """Character bigrams of the normalized text.

    >>> [t.text for t in bigram_analyzer()("ＰＭ２．５")]
    ['pm', 'm2', '2.', '.5']
    """
    return BigramTokenizer()


def reading_key(text: str) -> str:
    """The whole-string reading used for reading queries (see the module docstring).

    >>> reading_key("ふくおか") == reading_key("福岡") == reading_key("フクオカ") == "フクオカ"
    True
    >>> reading_key("くるめし"), reading_key("久留米市")
    ('クルメシ', 'クルメシ')
    """
    parts = [_raw_reading(m) for m in morphemes(text) if m.pos[0] not in PUNCT_TAGS]
    return fold_long_vowel("".join(parts))


def analyze_query_word(text: str) -> list[dict[str, Any]]:
    """The morphemes a query word is searched by, for display: surface (as typed), the term searched
    in the surface field, base, reading, pos (joined with '-'), start, end.

    >>> for d in analyze_query_word("ｻﾎﾟｰﾀｰを締結した"):
    ...     print(d["surface"], d["term"], d["base"], d["reading"], d["pos"], d["start"], d["end"])
    ｻﾎﾟｰﾀｰ サポータ サポーター サポーター 名詞-普通名詞-一般 0 6
    締結 締結 締結 テイケツ 名詞-普通名詞-サ変可能 7 9
    """
    out: list[dict[str, Any]] = []
    for m in morphemes(text):
        if _is_stop(m, STOP_TAGS, STOP_BASES):
            continue
        out.append(
            {
                "surface": m.surface_orig,
                "term": expand_iteration_mark(fold_long_vowel(m.surface_norm)),
                "base": m.base,
                "reading": m.reading,
                "pos": "-".join(p for p in m.pos if p != "*"),
                "start": m.start,
                "end": m.end,
            }
        )
    return out
