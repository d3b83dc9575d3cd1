"""Index-time terms of a passage's analyzed fields, in one pass over its morphemes.

The analyzers in :mod:`search.analysis` are Whoosh filter chains: each token passes through
five or six generators, about 7 µs a token, and a passage's text goes through four of them.
A rebuild needs only each token's term, position and character span: here are the same
rules applied once per morpheme, one text at a time, with each morpheme's derived forms
cached. A rebuild runs them on a group of files' passages at once, as arrays, in
``search.batchterms``, which tests check against this module; query time keeps the
analyzers. ``tests/test_indexterms.py`` checks, field by field, that these functions give
exactly the tokens the schema's analyzers give, on the seeds and on generated text, so the
two cannot drift apart.

A recipe names what a field's analyzer does: ``("surface", parts)``, ``("base", parts)``,
``("reading", parts)`` (joined terms of up to ``parts`` adjacent nouns and affixes; 1 for
none) or ``("bigram", 0)``.
"""

from __future__ import annotations

from search.analysis import STOP_BASES, STOP_TAGS, BigramTokenizer, _compound_part, _is_stop, _raw_reading
from search.normalize import expand_iteration_mark, fold_long_vowel
from search.tokenizer import Morph, morphemes, normalized

__all__ = ["Tokens", "field_tokens"]

#: (terms, positions, first characters, end characters), parallel lists.
Tokens = tuple[list[str], list[int], list[int], list[int]]

_FORM_CACHE_MAX = 400_000
_surface_forms: dict[str, str] = {}
_base_forms: dict[str, str] = {}
_readings: dict[str, str] = {}


def _form(cache: dict[str, str], raw: str, lower: bool) -> str:
    """A term as the analyzers finish it: (lowercase,) long vowel folded, iteration marks
    spelled out."""
    found = cache.get(raw)
    if found is None:
        if len(cache) >= _FORM_CACHE_MAX:
            cache.clear()
        text = raw.lower() if lower else raw
        found = cache[raw] = expand_iteration_mark(fold_long_vowel(text)) if lower else fold_long_vowel(text)
    return found


class _Plan:
    """What the three MeCab fields of one text share: the kept morphemes and, for each run
    length limit, which morphemes each token spans and its position and characters."""

    def __init__(self, morphs: list[Morph]) -> None:
        kept = [m for m in morphs if not _is_stop(m, STOP_TAGS, STOP_BASES)]
        self.kept = kept
        # Positions are renumbered by the stop filter: a kept morpheme's index is its position.
        self.joinable = [_compound_part(m) for m in kept]
        self.starts = [m.start for m in kept]
        self.ends = [m.end for m in kept]
        self._spans: dict[int, tuple] = {}

    def spans(self, max_parts: int) -> tuple[list[tuple[int, int]], list[int], list[int], list[int]]:
        """(first, last) kept morpheme of each token, and its position, start and end."""
        found = self._spans.get(max_parts)
        if found is not None:
            return found
        spans: list[tuple[int, int]] = []
        joinable, starts, ends = self.joinable, self.starts, self.ends
        n = len(joinable)
        i = 0
        append = spans.append
        while i < n:
            j = i + 1
            if joinable[i] and max_parts > 1:
                while j < n and joinable[j] and ends[j - 1] == starts[j]:
                    j += 1
            if j == i + 1:
                append((i, i))
            else:
                for k in range(i, j):
                    append((k, k))
                    for last in range(k + 1, min(j, k + max_parts)):
                        append((k, last))
            i = j
        found = self._spans[max_parts] = (
            spans,
            [k for k, _ in spans],
            [starts[k] for k, _ in spans],
            [ends[last] for _, last in spans],
        )
        return found


_PLANS: dict[str, _Plan] = {}


def _plan(text: str) -> _Plan:
    found = _PLANS.get(text)
    if found is None:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        found = _PLANS[text] = _Plan(morphemes(text))
    return found


def _morph_tokens(text: str, kind: str, max_parts: int) -> Tokens:
    plan = _plan(text)
    spans, positions, starts, ends = plan.spans(max_parts)
    if kind == "reading":
        raw = [_raw_reading(m) for m in plan.kept]
        own = [_form(_readings, r, False) for r in raw]
        terms = [own[k] if k == last else fold_long_vowel("".join(raw[k : last + 1])) for k, last in spans]
    else:
        forms = _surface_forms if kind == "surface" else _base_forms
        own = [_form(forms, m.surface_norm if kind == "surface" else m.base, True) for m in plan.kept]
        terms = [own[k] if k == last else "".join(own[k : last + 1]) for k, last in spans]
    return terms, list(positions), list(starts), list(ends)


_BIGRAMS = BigramTokenizer()
_RUN = BigramTokenizer.RUN


def _bigram_tokens(value: str) -> Tokens:
    norm = normalized(value)
    text, offsets = norm.text, norm.offsets
    # A many-to-one expansion (㈱ -> (株)): the tokenizer's way
    if type(offsets) is not range and len(set(offsets)) != len(offsets):
        tokens = [
            (t.text, t.pos, t.startchar, t.endchar) for t in _BIGRAMS(value, positions=True, chars=True)
        ]
        return tuple(list(column) for column in zip(*tokens, strict=True)) if tokens else ([], [], [], [])
    # Otherwise (the usual case) every span is a plain slice of offsets.
    terms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for run in _RUN.finditer(text):
        s, e = run.span()
        if e - s == 1:
            terms.append(text[s])
            starts.append(offsets[s])
            ends.append(offsets[e])
        else:
            terms.extend([text[i : i + 2] for i in range(s, e - 1)])
            starts.extend(offsets[s : e - 1])
            ends.extend(offsets[s + 2 : e + 1])
    return terms, list(range(len(terms))), starts, ends


def field_tokens(value: str, recipe: tuple[str, int]) -> Tokens:
    """The tokens the analyzer described by ``recipe`` gives for ``value`` at index time.

    >>> field_tokens("県立図書館へ", ("surface", 3))[0]
    ['県立', '県立図書', '県立図書館', '図書', '図書館', '館']
    >>> field_tokens("久留米市へ", ("reading", 4))
    (['クルメ', 'クルメシ', 'シ'], [0, 0, 1], [0, 0, 3], [3, 4, 4])
    >>> field_tokens("ＰＭ２．５", ("bigram", 0))[0]
    ['pm', 'm2', '2.', '.5']
    """
    kind, max_parts = recipe
    if not value:
        return [], [], [], []
    if kind == "bigram":
        return _bigram_tokens(value)
    return _morph_tokens(value, kind, max_parts)
