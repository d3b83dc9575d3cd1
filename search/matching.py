"""Evaluating a lowered query over whole posting lists held as arrays.

Whoosh's matchers advance one posting at a time in Python, and a page of results needs the
total and the facet counts, so every match used to be visited that way: most of a common
word's search time. Here a term's posting list is two arrays (document numbers, weights),
sliced from the arrays mapped beside each segment (or, for a segment without them, read once
from Whoosh's blocks); its scores are kept in a bounded cache shared by the threads of a
process. And, Or and Not become sorted-array intersections, unions and differences, scored
with Whoosh's own BM25F formula and statistics, so the ranking is the one Whoosh would give.
A phrase is the intersection of its words, kept where their positions follow each other;
any query type not listed here is still matched by Whoosh, then cached alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from search.backend import field_lengths, leaf_characters, leaf_positions, leaf_postings, segment_arrays
from search.backend import query as wq

# Whoosh's BM25F defaults, which the index's searchers use.
K1 = 1.2
B = 0.75
CACHE_POSTINGS = 8_000_000  # postings kept per process (16 bytes each) before the oldest go

Matches = tuple[np.ndarray, np.ndarray]  # ascending document numbers, their scores
_EMPTY: Matches = (np.empty(0, np.int64), np.empty(0, np.float64))


class Postings:
    """One index generation's posting arrays and field lengths, shared by a process's threads.

    Reads go through the calling thread's own searcher (Whoosh readers are not shared
    between threads); only the finished arrays are shared.
    """

    def __init__(self, doc_count: int, budget: int = CACHE_POSTINGS) -> None:
        self.doc_count = doc_count
        self.budget = budget
        self.held = 0
        self._lock = threading.Lock()
        self._lengths: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[tuple, Matches] = OrderedDict()

    def lengths(self, searcher, fieldname: str) -> np.ndarray:
        found = self._lengths.get(fieldname)
        if found is None:
            parts = [field_lengths(leaf, fieldname) for leaf, _ in searcher.reader().leaf_readers()]
            found = self._lengths[fieldname] = np.concatenate(parts) if parts else np.zeros(0)
        return found

    def cached(self, key: tuple, compute) -> Matches:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = compute()
        size = len(found[0])
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self.held += size
                while self.held > self.budget and len(self._cache) > 1:
                    _, old = self._cache.popitem(last=False)
                    self.held -= len(old[0])
        return found

    def raw(self, searcher, fieldname: str, text: str) -> Matches:
        """Document numbers and weights of one term across every segment."""

        def read() -> Matches:
            ids, weights = [], []
            for leaf, base in searcher.reader().leaf_readers():
                i, w = leaf_postings(leaf, fieldname, text)
                ids.append(i + base)
                weights.append(w)
            if not ids:
                return _EMPTY
            return np.concatenate(ids), np.concatenate(weights)

        if all(segment_arrays(leaf) is not None for leaf, _ in searcher.reader().leaf_readers()):
            return read()  # sliced from mapped arrays: cheaper to read again than to keep
        return self.cached(("raw", fieldname, text), read)


def evaluate(q, searcher, postings: Postings) -> Matches:
    """Every document matching ``q`` with the score Whoosh's BM25F would give it."""
    if q is None or q is wq.NullQuery:
        return _EMPTY
    if isinstance(q, wq.Term):
        return _term(q, searcher, postings)
    if isinstance(q, wq.Not):
        docs, _ = evaluate(q.query, searcher, postings)
        every = np.arange(postings.doc_count, dtype=np.int64)
        rest = every[~np.isin(every, docs, assume_unique=True)]
        return rest, np.ones(len(rest))  # Whoosh's InverseMatcher scores 1, boost or not
    if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
        return np.arange(postings.doc_count, dtype=np.int64), np.full(postings.doc_count, float(q.boost))
    if isinstance(q, wq.Prefix):
        return _prefix(q, searcher, postings)
    if type(q) is wq.Phrase and q.slop == 1 and q.fieldname in searcher.schema:
        return _phrase(q, searcher, postings)
    if isinstance(q, wq.And):
        return _boosted(_intersect(q.subqueries, searcher, postings), q.boost)
    if type(q) is wq.Or and not q.minmatch and q.scale is None:
        # A written word is an Or of its clauses; the same words recur across queries.
        def unite() -> Matches:
            return _boosted(union([evaluate(s, searcher, postings) for s in q.subqueries]), q.boost)

        return postings.cached(("or", repr(q)), unite)
    return postings.cached(("query", repr(q)), lambda: _by_matcher(q, searcher))


def union(parts: list[Matches]) -> Matches:
    """Documents in any part, each scored with the sum of its parts' scores."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([d for d, _ in parts])
    scores = np.concatenate([s for _, s in parts])
    # Each part is ascending: a stable sort (timsort) merges the runs, where np.unique sorts
    # from scratch. Equal documents keep the parts' order, so their scores add up in it.
    order = np.argsort(docs, kind="stable")
    docs = docs[order]
    first = _firsts(docs)
    return docs[first], np.bincount(np.cumsum(first) - 1, weights=scores[order])


def _firsts(ascending: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in an ascending array."""
    first = np.ones(len(ascending), dtype=bool)
    np.not_equal(ascending[1:], ascending[:-1], out=first[1:])
    return first


def common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values in both ascending unique arrays, and their indices in ``a`` and in ``b``
    (``np.intersect1d(a, b, assume_unique=True, return_indices=True)`` without its sort).

    >>> [x.tolist() for x in common(np.array([1, 3, 5, 9]), np.array([3, 4, 9]))]
    [[3, 9], [1, 3], [0, 2]]
    """
    if not len(a) or not len(b):
        empty = np.empty(0, np.int64)
        return a[:0], empty, empty
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    hit = np.flatnonzero(b[at] == a)
    return a[hit], hit, at[hit]


def _intersect(subqueries, searcher, postings: Postings) -> Matches:
    positive = [s for s in subqueries if not isinstance(s, wq.Not)]
    negative = [s.query for s in subqueries if isinstance(s, wq.Not)]
    if not positive:
        # Whoosh matches nothing for an And of negations alone; the lowering adds Every().
        return _EMPTY
    parts = sorted((evaluate(s, searcher, postings) for s in positive), key=lambda p: len(p[0]))
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        if not len(docs):
            break
        docs, mine, theirs = common(docs, other_docs)
        scores = scores[mine] + other_scores[theirs]
    for s in negative:
        if not len(docs):
            break
        excluded, _ = evaluate(s, searcher, postings)
        keep = ~np.isin(docs, excluded, assume_unique=True)
        # Whoosh intersects with the negation's inverse matcher, which scores 1.
        docs, scores = docs[keep], scores[keep] + 1.0
    return docs, scores


def _term(q, searcher, postings: Postings) -> Matches:
    fieldname, text = q.fieldname, q.text
    schema = searcher.schema
    if fieldname not in schema:
        return _EMPTY

    def score() -> Matches:
        docs, weights = postings.raw(searcher, fieldname, text)
        if not len(docs):
            return _EMPTY
        if not schema[fieldname].scorable:
            return docs, weights  # Whoosh's WeightScorer: the weight is the score
        idf = searcher.idf(fieldname, text)
        avgfl = searcher.avg_field_length(fieldname) or 1
        fl = postings.lengths(searcher, fieldname)[docs]
        return docs, idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * fl / avgfl)))

    return _boosted(postings.cached(("term", fieldname, text), score), q.boost)


def _prefix(q, searcher, postings: Postings) -> Matches:
    def read() -> Matches:
        terms = list(searcher.reader().expand_prefix(q.fieldname, q.text))
        docs = union([postings.raw(searcher, q.fieldname, t) for t in terms])[0]
        # Whoosh scores a prefix match with a constant (its boost), not per term.
        return docs, np.ones(len(docs))

    return _boosted(postings.cached(("prefix", q.fieldname, q.text), read), q.boost)


def _phrase(q, searcher, postings: Postings) -> Matches:
    """Whoosh scores a phrase as the And of its words (the sum of their scores), kept where
    the words stand at consecutive positions."""

    def read() -> Matches:
        words = [wq.Term(q.fieldname, w) for w in q.words]
        docs, scores = _intersect(words, searcher, postings)
        if len(q.words) < 2 or not len(docs):
            return docs, scores
        keep = np.zeros(len(docs), dtype=bool)
        for leaf, base in searcher.reader().leaf_readers():
            lo, hi = np.searchsorted(docs, [base, base + leaf.doc_count_all()])
            if lo < hi:
                keep[lo:hi] = _in_phrase(leaf, q.fieldname, q.words, docs[lo:hi] - base)
        return docs[keep], scores[keep]

    return _boosted(postings.cached(("phrase", repr(q)), read), q.boost)


def _in_phrase(leaf, fieldname: str, words: list[str], docs: np.ndarray) -> np.ndarray:
    """Which of one segment's ``docs`` (each holding every word) hold the words in a row."""
    flat = [leaf_positions(leaf, fieldname, w, docs) for w in words]
    if all(f is not None for f in flat):
        # A start is (document, position of the first word); word k must sit at start + k.
        starts = None
        for k, (where, positions) in enumerate(flat):
            fits = positions >= k
            keys = (where[fits] << 32) | (positions[fits] - k)
            # Ascending already (documents ascending, positions ascending within each).
            keys = keys[_firsts(keys)] if _ascending(keys) else np.unique(keys)
            starts = keys if starts is None else common(starts, keys)[0]
        held = starts >> 32
        return np.isin(docs, held[_firsts(held)], assume_unique=True)
    local = docs.tolist()
    found = [leaf_characters(leaf, fieldname, w, local, "positions") for w in words]
    keep = np.zeros(len(local), dtype=bool)
    for i, docnum in enumerate(local):
        first, *rest = (set(f.get(docnum, ())) for f in found)
        keep[i] = any(all(p + k in s for k, s in enumerate(rest, 1)) for p in first)
    return keep


def _ascending(a: np.ndarray) -> bool:
    return bool((a[1:] >= a[:-1]).all())


def _by_matcher(q, searcher) -> Matches:
    """Whoosh's own matcher, segment by segment: phrases and anything not handled above."""
    ids: list[int] = []
    scores: list[float] = []
    context = searcher.context()
    for sub, base in searcher.leaf_searchers():
        m = q.matcher(sub, context)
        while m.is_active():
            ids.append(m.id() + base)
            scores.append(m.score())
            m.next()
    if not ids:
        return _EMPTY
    docs = np.array(ids, dtype=np.int64)
    order = np.argsort(docs, kind="stable")
    return docs[order], np.array(scores, dtype=np.float64)[order]


def _boosted(found: Matches, boost: float) -> Matches:
    return found if boost == 1.0 else (found[0], found[1] * boost)


def top(docs: np.ndarray, keys: list[np.ndarray], k: int) -> np.ndarray:
    """Positions in ``docs`` of the first ``k`` by ``keys`` (ascending; first key decides first).

    Only the candidates that can reach the top ``k`` by the first key are sorted in full.
    """
    if len(docs) > k > 0:
        first = keys[0]
        bound = np.partition(first, k - 1)[k - 1]
        candidates = np.flatnonzero(first <= bound)
    else:
        candidates = np.arange(len(docs))
    ranked = np.lexsort([key[candidates] for key in reversed(keys)])
    return candidates[ranked][:k]


__all__ = ["Matches", "Postings", "common", "evaluate", "top", "union"]
