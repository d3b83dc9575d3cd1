"""Turning a parsed query into a Whoosh query, and recording how each word was analyzed.

Each written word becomes an OR of clauses, strongest first: its surface morphemes as a
phrase (in text, title and section), its base forms as a phrase, its reading, and — only
when asked, as a fallback — its character bigrams. A word that is a date also matches the
months that passages are dated in, whichever calendar either side used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from search.analysis import (
    analyze_query_word,
    base_analyzer,
    bigram_analyzer,
    compound_term,
    reading_analyzer,
    surface_analyzer,
)
from search.backend import query as wq
from search.dates import months_between, parse_date_query
from search.normalize import is_kana, normalize_text
from search.query import And, Filter, Node, Not, Or, Phrase, Word
from search.schema import KINDS

SURFACE_BOOST = 4.0
BASE_BOOST = 2.0
READING_BOOST = 1.0
BIGRAM_BOOST = 0.5
DATE_BOOST = 2.0
MAX_WORDS = 32  # words and phrases lowered per query; each costs several posting lists
MAX_WORD_CHARS = 64  # longer words or phrases are cut: a phrase's cost grows with its length


@dataclass
class Lowered:
    query: wq.Query | None
    analysis: list[dict] = field(default_factory=list)
    filters: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Per word, the (field, term sequence) pairs whose occurrences are marked in snippets,
    # strongest first: a weaker one marks only passages the stronger ones did not.
    highlights: list[list[tuple[str, tuple[str, ...]]]] = field(default_factory=list)
    used_bigrams: bool = False


def _terms(analyzer, text: str) -> tuple[str, ...]:
    # Whoosh reuses one Token object while iterating: copy the text out at once.
    return tuple(t.text for t in analyzer(text, mode="query"))


def _union(clauses: list[wq.Query]) -> wq.Query:
    """An Or that walks its posting lists together rather than preloading arrays.

    Whoosh preloads an array the size of a segment for an Or in a segment of under 5,000
    documents and scans it whole; parallel rebuilds make such segments common.
    """
    q = wq.Or(clauses)
    q.matcher_type = wq.Or.DEFAULT_MATCHER
    return q


def _seq(fieldname: str, terms: tuple[str, ...], boost: float) -> wq.Query | None:
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0], boost=boost)
    return wq.Phrase(fieldname, list(terms), boost=boost)


_local = threading.local()


def _analyzers() -> dict[str, Any]:
    """This thread's query analyzers: built once, not for every query (they keep no state
    between calls, and MeCab's tagger is per thread anyway)."""
    found = getattr(_local, "analyzers", None)
    if found is None:
        found = _local.analyzers = {
            "surface": surface_analyzer(),
            "base": base_analyzer(),
            "reading": reading_analyzer(),
            "bigram": bigram_analyzer(),
        }
    return found


class _Lowerer:
    def __init__(self, bigrams: bool) -> None:
        self.bigrams = bigrams
        self.words = 0
        self.out = Lowered(None)
        self._analyzers = _analyzers()

    def lower(self, node: Node, negated: bool = False) -> wq.Query | None:
        if isinstance(node, Word | Phrase):
            return self.word(node.text, phrase=isinstance(node, Phrase), negated=negated)
        if isinstance(node, Filter):
            return self.filter(node, negated)
        if isinstance(node, Not):
            inner = self.lower(node.item, negated=not negated)
            return None if inner is None else wq.Not(inner)
        # A word repeated adds nothing but cost: each distinct item is lowered once.
        parts = [
            q for q in (self.lower(item, negated) for item in dict.fromkeys(node.items)) if q is not None
        ]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return wq.And(parts) if isinstance(node, And) else wq.Or(parts)

    def word(self, text: str, *, phrase: bool, negated: bool) -> wq.Query | None:
        self.words += 1
        if self.words > MAX_WORDS:
            if self.words == MAX_WORDS + 1:
                self.out.notes.append(f"only the first {MAX_WORDS} words of the query are used")
            return None
        a = self._analyzers
        if len(text) > MAX_WORD_CHARS:
            self.out.notes.append(f"a word or phrase is cut to its first {MAX_WORD_CHARS} characters")
            text = text[:MAX_WORD_CHARS]
        surface, base = _terms(a["surface"], text), _terms(a["base"], text)
        # In the body a short noun compound is indexed whole as well: one term, not a phrase.
        whole = compound_term(a["surface"], text), compound_term(a["base"], text)
        body_surface = (whole[0],) if whole[0] else surface
        body_base = (whole[1],) if whole[1] else base
        # Readings widen recall to homophones: only a word typed in kana asks for them.
        reading = _terms(a["reading"], text) if not phrase and is_kana(normalize_text(text)) else ()
        bigram = _terms(a["bigram"], text)
        use_bigrams = self.bigrams or not (surface or base)
        clauses: list[wq.Query | None] = []
        clauses.append(_seq("text", body_surface, SURFACE_BOOST))
        clauses.append(_seq("text_base", body_base, BASE_BOOST))
        for name in ("title", "section"):
            clauses.append(_seq(name, surface, SURFACE_BOOST))
            if base != surface:  # in a heading, the same terms again would only add cost
                clauses.append(_seq(f"{name}_base", base, BASE_BOOST))
        clauses.append(_seq("text_reading", reading, READING_BOOST))
        if use_bigrams:
            self.out.used_bigrams = True
            clauses.append(_seq("text_bigram", bigram, BIGRAM_BOOST))
        date = None if phrase else parse_date_query(text)
        if date is not None:
            # Every written date was extracted at index time, so the date terms already find
            # the passages that spell this one out; the phrase checks would only add cost.
            clauses = [date_query(date.first_month, date.last_month)]
        self.out.analysis.append(
            {
                "input": text,
                "type": "phrase" if phrase else "word",
                "negated": negated,
                "tokens": analyze_query_word(text),
                "terms": {
                    "surface": list(surface),
                    "base": list(base),
                    "reading": list(reading),
                    "compound": whole[0],
                },
                "date": None
                if date is None
                else {
                    "text": date.text,
                    "iso": date.iso,
                    "fiscal": date.fiscal,
                    "months": [date.first_month, date.last_month],
                },
                "bigram_fallback": use_bigrams,
            }
        )
        if not negated:
            alternatives = [("text", body_surface), ("text_base", body_base), ("text_reading", reading)]
            if use_bigrams:
                alternatives.append(("text_bigram", bigram))
            self.out.highlights.append(alternatives)
        clauses = [c for c in clauses if c is not None]
        if not clauses:
            self.out.notes.append(f"{text!r} has no searchable characters")
            return None
        return _union(clauses)

    def filter(self, node: Filter, negated: bool) -> wq.Query | None:
        q = filter_query(node.field, node.value)
        if q is None:
            self.out.notes.append(f"filter {node.field}:{node.value} not understood; ignored")
            return None
        self.out.filters.append({"field": node.field, "value": node.value, "negated": negated})
        return q


def date_query(first_month: int, last_month: int) -> wq.Query:
    """Passages dated within the months ``first_month``..``last_month`` (YYYYMM, inclusive).

    Whole calendar years are looked up by year, one term each; other spans (a month, a fiscal
    year April–March) by their months.
    """
    if first_month % 100 == 1 and last_month % 100 == 12:
        years = range(first_month // 100, last_month // 100 + 1)
        terms = [wq.Term("dated_year", str(y)) for y in years]
    else:
        terms = [wq.Term("month", str(m)) for m in months_between(first_month, last_month)]
    return (terms[0] if len(terms) == 1 else wq.Or(terms)).with_boost(DATE_BOOST)


def filter_query(fieldname: str, value: str) -> wq.Query | None:
    """The Whoosh query of one field filter, or None when the value makes no sense."""
    value = value.strip()
    if not value:
        return None
    if fieldname == "municipality":
        return wq.Or([wq.Term("municipality", value), wq.Prefix("municipality", value)])
    if fieldname == "kind":
        return wq.Term("kind", value) if value in KINDS else None
    if fieldname == "document":
        return wq.Prefix("doc_id", value)
    if fieldname == "year":
        span = year_span(value)
        if span is None:
            return None
        return wq.Or([wq.Term("year", str(y)) for y in range(span[0], span[1] + 1)])
    return None


def year_span(value: str) -> tuple[int, int] | None:
    """``2016``, ``2010..2015``, ``平成28年`` or ``平成15年度`` as an inclusive range of years.

    >>> year_span("2010..2015"), year_span("2016"), year_span("1..2")
    ((2010, 2015), (2016, 2016), None)
    """
    lo, sep, hi = value.partition("..")
    if sep:
        a, b = _one_year(lo), _one_year(hi)
        if a is None or b is None or b[1] < a[0] or b[1] - a[0] > 300:
            return None
        return a[0], b[1]
    return _one_year(value)


def _one_year(value: str) -> tuple[int, int] | None:
    value = value.strip()
    if value.isdigit() and len(value) == 4:
        year = int(value)
        return (year, year) if 1000 <= year <= 2999 else None
    mention = parse_date_query(value)
    if mention is None:
        return None
    return mention.first_month // 100, mention.last_month // 100


def lower(root: Node | None, *, bigrams: bool = False) -> Lowered:
    """Lower a parsed query; ``bigrams`` adds the character-bigram fallback for every word."""
    lowerer = _Lowerer(bigrams)
    if root is not None:
        q = lowerer.lower(root)
        if q is not None and _only_negative(root):
            q = wq.And([wq.Every(), q])
        lowerer.out.query = q
    return lowerer.out


def _only_negative(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(_only_negative(i) for i in node.items)
    return False


__all__ = ["Lowered", "Or", "filter_query", "lower", "year_span"]
