"""Highlighted snippets from the character offsets stored in the index.

Offsets come from the postings (fields indexed with ``chars=True``), never from analyzing
the stored text again, so a mark always falls on the characters as written: a search for
pm2.5 marks ``ＰＭ２．５`` whole.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from search.backend import leaf_characters

Span = tuple[int, int]
Occurrence = tuple[int, int, int]  # position, start character, end character

MAX_FRAGMENTS = 3
FRAGMENT_CHARS = 120
_SENTENCE_END_RE = re.compile(r"[。！？!?]+|\n")
# Marks separated only by these characters read as one word (ＰＭ２．５, U-BCF).
_GLUE_RE = re.compile(r"^[\s.．・\-－‐/／]{0,1}$")


Alternatives = Sequence[tuple[str, Sequence[str]]]


def spans_in_docs(searcher, docnums: Iterable[int], words: Iterable[Alternatives]) -> dict[int, list[Span]]:
    """Character spans, per document, where the query's words occur in the stored text.

    Each word comes as its (field, term sequence) alternatives, strongest first (surface
    form, base form, reading, bigrams): a document is marked by the first alternative found
    in it, and the weaker ones are read only for the documents still unmarked for that word.
    A sequence of several terms is marked only where they stand at consecutive positions.
    """
    wanted = sorted(set(docnums))
    found: dict[int, list[Span]] = {d: [] for d in wanted}
    # Per (field, term): its occurrences, and the documents they were read for.
    occurrences: dict[tuple[str, str], dict[int, list[Occurrence]]] = {}
    read_for: dict[tuple[str, str], set[int]] = {}
    for alternatives in words:
        pending = wanted
        for fieldname, terms in alternatives:
            terms = tuple(terms)
            if not terms or not pending:
                continue
            for term in terms:
                key = (fieldname, term)
                done = read_for.setdefault(key, set())
                missing = [d for d in pending if d not in done]
                if missing:
                    occurrences.setdefault(key, {}).update(_postings(searcher, fieldname, term, missing))
                    done.update(missing)
            marked = set()
            for docnum in pending:
                spans = _sequence_spans([occurrences[(fieldname, t)].get(docnum) for t in terms])
                if spans:
                    found[docnum].extend(spans)
                    marked.add(docnum)
            pending = [d for d in pending if d not in marked]
    return {d: merge_spans(spans) for d, spans in found.items()}


def _sequence_spans(per_term: list[list[Occurrence] | None]) -> list[Span]:
    if not all(per_term):
        return []
    if len(per_term) == 1:
        return [(s, e) for _, s, e in per_term[0]]
    later = [{pos: (s, e) for pos, s, e in occ} for occ in per_term[1:]]
    spans = []
    for pos, start, _ in per_term[0]:
        ends = [step.get(pos + i + 1) for i, step in enumerate(later)]
        if all(ends):
            spans.append((start, ends[-1][1]))
    return spans


def _postings(
    searcher, fieldname: str, term: str, wanted: list[int]
) -> dict[int, list[tuple[int, int, int]]]:
    found: dict[int, list[tuple[int, int, int]]] = {}
    for leaf, base in searcher.reader().leaf_readers():
        end = base + leaf.doc_count_all()
        local = [d - base for d in wanted if base <= d < end]
        if local:
            found.update((base + d, occ) for d, occ in leaf_characters(leaf, fieldname, term, local).items())
    return found


def merge_spans(spans: Iterable[Span], text: str | None = None) -> list[Span]:
    """Sort spans and merge those that overlap or touch.

    >>> merge_spans([(5, 7), (0, 2), (1, 3), (3, 4)])
    [(0, 4), (5, 7)]
    """
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if out and (start <= out[-1][1] or (text is not None and _GLUE_RE.match(text[out[-1][1] : start]))):
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def _sentences(text: str) -> list[Span]:
    bounds, start = [], 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.end()
        if text[start:end].strip():
            bounds.append((start, end))
        start = end
    if text[start:].strip():
        bounds.append((start, len(text)))
    return bounds


def _render(text: str, start: int, end: int, spans: list[Span]) -> str:
    parts, cursor = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        parts.append(html.escape(text[cursor:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    parts.append(html.escape(text[cursor:end]))
    return "".join(parts).replace("\n", " ")


def _clip(text: str, start: int, end: int, spans: list[Span], width: int) -> tuple[int, int]:
    """Narrow a long sentence to ``width`` characters around its marks, never cutting one."""
    if end - start <= width:
        return start, end
    inside = [sp for sp in spans if sp[0] >= start and sp[1] <= end]
    if not inside:
        return start, start + width
    first = inside[0][0]
    lo = max(start, min(first - width // 4, end - width))
    hi = min(end, lo + width)
    for s, e in inside:  # extend to the end of a mark cut at the edge
        if s < hi < e:
            hi = e
    return lo, hi


def snippet(
    text: str, spans: list[Span], *, fragments: int = MAX_FRAGMENTS, width: int = FRAGMENT_CHARS
) -> str:
    """Up to ``fragments`` escaped sentences around the densest marks, marks in ``<mark>``.

    >>> snippet("観光の振興。水道の整備。", [(6, 8)])
    '<mark>水道</mark>の整備。'
    >>> snippet("<b>a</b>", [])
    '&lt;b&gt;a&lt;/b&gt;'
    """
    spans = merge_spans(spans, text)
    sentences = _sentences(text) or [(0, len(text))]
    if not spans:
        start, end = _clip(text, 0, len(text), [], width)
        body = _render(text, start, end, [])
        return body + ("…" if end < len(text) else "")

    def score(bounds: Span) -> tuple[int, int]:
        inside = [text[s:e] for s, e in spans if s < bounds[1] and e > bounds[0]]
        return len(set(inside)), len(inside)

    scored = [(score(b), -i, b) for i, b in enumerate(sentences)]
    chosen = sorted((b for sc, _, b in sorted(scored, reverse=True)[:fragments] if sc[1] > 0))
    if not chosen:
        chosen = [sentences[0]]
    out = []
    for start, end in chosen:
        while start < end and text[start].isspace():
            start += 1
        lo, hi = _clip(text, start, end, spans, width)
        piece = _render(text, lo, hi, spans).strip()
        out.append(("…" if lo > start else "") + piece + ("…" if hi < end else ""))
    return " … ".join(out)
