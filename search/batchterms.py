"""A rebuild's MeCab fields for many texts at once, as numpy arrays of term numbers.

``search.indexterms`` gives one text's tokens as lists of strings, a few microseconds of
Python per morpheme. A rebuild analyzes a group of files' passages here instead:

* every distinct morpheme (a MeCab output line, or a dictionary entry and surface read from
  MeCab's nodes) is analyzed once per process (``_LineTable``), and what the analyzers
  make of it (stop or kept, compound part, its part in a municipality's name, the term
  numbers of its surface, base form and reading, its length) becomes a row of numpy
  columns;
* a batch's morphemes are numbered in one pass (a ``map`` over a dict of output lines, or
  a compiled probe of their keys, ``search.mecabnodes``: a large rebuild's way), and from
  then on offsets, stop filtering, positions and compound terms are whole-array operations;
* a compound's term is numbered from the numbers of its parts (``search.keytable``, keyed
  by the pair), so its string is built only the first time the pair is seen.

The tables live as long as the process (a rebuild's worker process, or the one that builds
a small index itself) and are shared by its threads under one lock.

The rules are those of ``search.indexterms`` (which follows the analyzers);
``tests/test_batchterms.py`` checks every field of every text against it. A text whose MeCab
output does not add up to the text (never seen) goes through ``indexterms`` instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from search.analysis import STOP_BASES, STOP_TAGS, _compound_part, _is_stop, _raw_reading
from search.bigramarrays import _one_to_one, bigram_arrays
from search.indexterms import _base_forms, _form, _surface_forms, field_tokens
from search.keytable import KeyTable, numba_started, number_terms
from search.normalize import fold_long_vowel, normalize
from search.places import _SUFFIXES, _WITH_SUFFIX, is_name, municipalities
from search.schema import INDEX_RECIPES
from search.tokenizer import Morph, _line_info, _tagger, mecab_input
from search.vocab import Vocab

__all__ = ["RECIPES", "TextBatch", "VOCABS"]

#: One vocabulary per kind of term; fields of the same kind share it. Surface forms and base
#: forms share one too: a compound part's base form is mostly its surface, so the base
#: field's compounds are then mostly pairs the surface field has already numbered.
_WORDS = Vocab()
VOCABS: dict[str, Vocab] = {"surface": _WORDS, "base": _WORDS, "reading": Vocab(), "bigram": Vocab()}
_RAW = Vocab()  # unfolded readings and their concatenations (a compound's reading folds whole)
RECIPES = (("surface", 3), ("base", 3), ("reading", 4), ("surface", 1), ("base", 1))


class _LineTable:
    """Every morpheme this process has seen, numbered: by its MeCab output line (with the
    spaces before it) or by its key from MeCab's nodes."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.size = 0
        capacity = 1024
        # Spaces MeCab skipped before the morpheme (its output line's; 0 for a node's).
        self.lead = np.zeros(capacity, np.int32)
        self.full = np.zeros(capacity, np.int32)  # lead + surface length
        self.kept = np.zeros(capacity, bool)
        self.joinable = np.zeros(capacity, bool)
        self.place = np.zeros(capacity, np.uint16)  # _NAME, _PERSON, …: its part in a municipality
        self.terms = {kind: np.zeros(capacity, np.int32) for kind in ("surface", "base")}
        self.raw = np.zeros(capacity, np.int32)  # unfolded reading, in _RAW
        self.surfaces: list[str] = []  # the morphemes' normalized surfaces (for names)
        # Read from MeCab's nodes instead (search.mecabnodes): keyed by surface and feature
        # address, with that address kept to check each morpheme's row against.
        self.nodes = KeyTable()
        self.feature = np.zeros(capacity, np.uint64)

    def add(self, lines: set[str]) -> None:
        """Number MeCab output lines (surface, tab, feature CSV, after any spaces skipped)."""
        lines = list(lines)
        stripped = [line.lstrip(" ") for line in lines]
        leads = [len(line) - len(s) for line, s in zip(lines, stripped, strict=True)]
        first = self._store(stripped, leads, np.zeros(len(lines), np.uint64))
        self.ids.update(zip(lines, range(first, self.size), strict=True))

    def add_nodes(self, keys: np.ndarray, lines: list[str], features: np.ndarray) -> None:
        """Number morphemes read from MeCab's nodes (``search.mecabnodes``) by their keys."""
        first = self._store(lines, [0] * len(lines), features)
        self.nodes.add(keys, np.arange(first, self.size, dtype=np.int32))

    def _store(self, lines: list[str], leads: list[int], features: np.ndarray) -> int:
        # Collected in lists and stored a column at a time: a numpy item set costs ~100 ns.
        # Numbered only once stored: a line that failed to analyze leaves the table as it was.
        rows: list[tuple] = []
        surfaces: list[str] = []
        for line, lead in zip(lines, leads, strict=True):
            surface, base, reading, pos = _line_info(line)
            m = Morph(surface, surface, base, reading, pos, 0, len(surface))
            rows.append(
                (
                    lead,
                    lead + len(surface),
                    not _is_stop(m, STOP_TAGS, STOP_BASES),
                    _compound_part(m),
                    _place_flags(m),
                    VOCABS["surface"].id(_form(_surface_forms, surface, True)),
                    VOCABS["base"].id(_form(_base_forms, base, True)),
                    _RAW.id(_raw_reading(m)),  # its reading term: _reading_terms
                )
            )
            surfaces.append(surface)
        first = self.size
        if not rows:
            return first
        while self.size + len(rows) > len(self.lead):
            self._grow()
        at = slice(self.size, self.size + len(rows))
        columns = list(zip(*rows, strict=True))
        targets = (self.lead, self.full, self.kept, self.joinable, self.place)
        for target, column in zip(targets, columns, strict=False):
            target[at] = column
        self.terms["surface"][at], self.terms["base"][at], self.raw[at] = columns[5:]
        self.feature[at] = features
        self.surfaces.extend(surfaces)
        self.size += len(rows)
        return first

    def _grow(self) -> None:
        for name in ("lead", "full", "kept", "joinable", "place", "raw", "feature"):
            old = getattr(self, name)
            setattr(self, name, np.concatenate((old, np.zeros_like(old))))
        self.terms = {k: np.concatenate((v, np.zeros_like(v))) for k, v in self.terms.items()}


# What a morpheme can be in a municipality's name (the rules of ``places.names_in``).
_NAME, _PERSON, _WHOLE = 1, 2, 4  # a name's start; a person's name; a whole name (東京都)
_SUFFIX, _PREFECTURE, _TOWN, _CITY = 8, 16, 32, 64  # 県市町村区; 県; 町村; 市区
_HEAD, _TAIL = 128, 256  # the start (東京) or the rest (都) of a whole name, split in two
_HEADS = frozenset(name[:i] for name in _WITH_SUFFIX for i in range(1, len(name)))
_TAILS = frozenset(name[i:] for name in _WITH_SUFFIX for i in range(1, len(name)))


def _place_flags(m: Morph) -> int:
    surface, flags = m.surface_norm, 0
    if is_name(m):
        flags |= _NAME | (_PERSON if m.pos[2] == "人名" else 0) | (_WHOLE if surface in _WITH_SUFFIX else 0)
    if surface in _SUFFIXES:
        flags |= _SUFFIX | {"県": _PREFECTURE, "町": _TOWN, "村": _TOWN, "市": _CITY, "区": _CITY}[surface]
    if surface in _HEADS:
        flags |= _HEAD
    if surface in _TAILS:
        flags |= _TAIL
    return flags


_LINES = _LineTable()
# Compound terms by (left term, right part) numbers, per vocabulary; readings chain in _RAW.
_WORD_PAIRS = KeyTable()
_PAIRS = {"surface": _WORD_PAIRS, "base": _WORD_PAIRS, "reading": KeyTable()}
_RAW_TERM = np.zeros(0, np.int32)  # _RAW number -> VOCABS["reading"] number
_LOCK = threading.RLock()  # the tables above grow in place
# Characters a process analyzes the text way before it reads MeCab's nodes (None: never).
NODES_AFTER: int | None = 1_000_000
_ANALYZED = 0


@dataclass
class FieldArrays:
    """One recipe's tokens of every text of a batch, text after text."""

    terms: np.ndarray
    positions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    first: np.ndarray  # per text: index of its first token
    count: np.ndarray  # per text: how many tokens it gave

    def gather(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(counts, terms, positions, starts, ends) of the texts numbered ``texts``, in turn."""
        counts = self.count[texts]
        total = int(counts.sum())
        before = np.cumsum(counts) - counts
        index = np.repeat(self.first[texts] - before, counts) + np.arange(total)
        return counts, self.terms[index], self.positions[index], self.starts[index], self.ends[index]


class _Spans(NamedTuple):
    """Which kept morphemes each token of a part limit spans (``first`` to ``last``, the
    ``extra`` parts beyond the first), with its position, characters and count per text."""

    ids: np.ndarray  # the kept morphemes' line numbers
    first: np.ndarray
    extra: np.ndarray
    last: np.ndarray
    positions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    count: np.ndarray


def _pair_ids(kind: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Numbers of the compounds ``left`` + ``right`` (a term and the next part's term)."""
    keys = (left.astype(np.int64) << 32) | right.astype(np.int64)
    vocab = _RAW if kind == "reading" else VOCABS[kind]
    strings = vocab.strings

    def spell(new: np.ndarray) -> list[str]:
        lefts, rights = (new >> 32).tolist(), (new & 0xFFFFFFFF).tolist()
        return [strings[a] + strings[b] for a, b in zip(lefts, rights, strict=True)]

    return number_terms(_PAIRS[kind], keys, vocab, spell)


def _reading_terms(raw_ids: np.ndarray) -> np.ndarray:
    """Reading term numbers of _RAW numbers: each folds as a whole."""
    global _RAW_TERM
    if len(_RAW_TERM) < len(_RAW):
        vocab = VOCABS["reading"]
        # A reading folds as a whole (the same as _form(_readings, s, False), uncached).
        # (Not looked up either: two readings that fold alike are merged by their string.)
        new = vocab.numbered(list(map(fold_long_vowel, _RAW.strings[len(_RAW_TERM) :])))
        _RAW_TERM = np.concatenate((_RAW_TERM, new))
    return _RAW_TERM[raw_ids]


def _from_lines(inputs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, set[int]]:
    """(line numbers, text, first and past-last characters) of every morpheme of MeCab's
    output text for ``inputs``, and the texts whose output does not add up to them."""
    tagger = _tagger()
    lines: list[str] = []
    counts = np.zeros(len(inputs), np.int64)
    lengths = np.zeros(len(inputs), np.int64)
    for i, text in enumerate(inputs):
        raw = tagger.parse(text) if text else ""
        found = raw.split("\n")
        if found and not found[-1]:
            found.pop()
        lines.extend(found)
        counts[i] = len(found)
        lengths[i] = len(text.rstrip(" "))
    table = _LINES
    with _LOCK:
        get = table.ids.get
        ids = np.fromiter(map(get, lines, repeat(-1)), np.int32, count=len(lines))
        unseen = np.flatnonzero(ids < 0)
        if len(unseen):
            table.add({lines[i] for i in unseen.tolist()})
            ids[unseen] = [get(lines[i]) for i in unseen.tolist()]
        full, lead = table.full[ids], table.lead[ids]
    text_of = np.repeat(np.arange(len(inputs)), counts)
    ends = np.cumsum(full)
    before = np.concatenate(([0], ends))[np.cumsum(counts) - counts]  # per text
    ends -= before[text_of]
    starts = ends - (full - lead)
    # MeCab gives every character but skipped spaces back, in order: check the sum.
    totals = np.bincount(text_of, weights=full, minlength=len(inputs))
    return ids, text_of, starts, ends, set(np.flatnonzero(totals != lengths).tolist())


def _from_nodes(
    inputs: list[str], at_once: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, set[int]] | None:
    """As ``_from_lines``, from MeCab's nodes (``search.mecabnodes``); None where that way
    is off: in a process that has not started numba (its start costs more than it saves
    on little text), until ``NODES_AFTER`` characters were analyzed, unless ``at_once``
    (a caller with much text ahead); and where libmecab cannot be read so."""
    global _ANALYZED
    _ANALYZED += sum(map(len, inputs))
    if NODES_AFTER is None or not (at_once or _ANALYZED >= NODES_AFTER or numba_started()):
        return None
    from search import mecabnodes  # (a rebuild's only: numba is slow to import)

    parser = mecabnodes.parser()
    if parser is None:
        return None
    nodes = parser.parse(inputs)
    keys, text_of, first, last = nodes.keys, nodes.text_of, nodes.first, nodes.last
    table = _LINES
    with _LOCK:
        ids = table.nodes.find(keys)
        unseen = np.flatnonzero(ids < 0)
        if len(unseen):
            new, at = np.unique(keys[unseen], return_index=True)
            at = unseen[at]
            spans = zip(text_of[at].tolist(), first[at].tolist(), last[at].tolist(), strict=True)
            lines = [
                f"{inputs[t][a:b]}\t{nodes.feature(k)}"
                for (t, a, b), k in zip(spans, at.tolist(), strict=True)
            ]
            table.add_nodes(new, lines, nodes.features[at])
            ids[unseen] = table.nodes.find(keys[unseen])
        # Two morphemes with one key (63 bits of hash) would share a row: never seen, and
        # caught here unless both have one feature string (unknown words of one class do)
        # and one length; the texts holding a clash are done the text way.
        clash = (table.feature[ids] != nodes.features) | (table.full[ids] != last - first)
    slow = set(nodes.bad) | set(text_of[clash].tolist())
    return ids, text_of, first.astype(np.int64), last.astype(np.int64), slow


class TextBatch:
    """The MeCab analysis of distinct texts, numbered in order of ``texts``."""

    def __init__(self, texts: list[str], nodes: bool = False) -> None:
        """``nodes``: read MeCab's nodes from the first text (see ``_from_nodes``)."""
        self.texts = texts
        self.norms = [normalize(t) for t in texts]
        self._fields: dict[tuple[str, int], FieldArrays] = {}
        self._span_cache: dict[int, _Spans] = {}
        self._names: dict[int, list[str]] | None = None
        inputs = [mecab_input(norm.text) for norm in self.norms]
        found = _from_nodes(inputs, nodes)
        ids, text_of, starts, ends, self.slow = found if found is not None else _from_lines(inputs)
        if self.slow:  # keep indexes in range; these texts are done the slow way
            bad = np.isin(text_of, list(self.slow))
            starts[bad] = ends[bad] = 0
        self.ids, self.text_of = ids, text_of
        self.ostart, self.oend = self._original(starts, ends)

    def _original(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalized offsets to original ones, through each text's offset map: only texts
        whose normalization moved characters (㈱ -> (株), 二十三 -> 23; under 1% of a corpus'
        texts) need one."""
        ostart, oend = starts.copy(), ends.copy()
        with _LOCK:  # (_one_to_one grows a shared list)
            moved = [t for t, norm in enumerate(self.norms) if not _one_to_one(norm.offsets)]
        if not moved:
            return ostart, oend
        k = np.flatnonzero(np.isin(self.text_of, moved))
        text_of, starts, ends = self.text_of[k], starts[k], ends[k]
        sizes = np.array([len(self.norms[t].offsets) for t in moved], np.int64)
        first = np.zeros(len(self.norms), np.int64)
        first[moved] = np.cumsum(sizes) - sizes
        offsets = np.fromiter(
            chain.from_iterable(self.norms[t].offsets for t in moved), np.int64, count=int(sizes.sum())
        )
        base = first[text_of]
        ostart[k] = offsets[base + starts]
        oend[k] = offsets[base + ends]
        inside = (oend[k] <= offsets[base + np.maximum(ends - 1, 0)]) & (ends > starts)
        for i in np.flatnonzero(inside).tolist():  # ends inside an expansion such as ㈱ -> (株)
            ostart[k[i]], oend[k[i]] = self.norms[int(text_of[i])].span(int(starts[i]), int(ends[i]))
        return ostart, oend

    def field(self, recipe: tuple[str, int]) -> FieldArrays:
        """The tokens ``recipe`` gives for every text (see ``search.indexterms``)."""
        with _LOCK:
            found = self._fields.get(recipe)
            if found is None:
                found = self._fields[recipe] = self._field(*recipe)
            return found

    def _spans(self, max_parts: int) -> _Spans:
        """The tokens' spans for a part limit: shared by the surface, base and reading
        fields, whose tokens differ only in their terms (as ``indexterms._Plan.spans``)."""
        found = self._span_cache.get(max_parts)
        if found is not None:
            return found
        kept = _LINES.kept[self.ids]
        if self.slow:
            kept &= ~np.isin(self.text_of, list(self.slow))
        keep = np.flatnonzero(kept)
        ids, text_of = self.ids[keep], self.text_of[keep]
        starts, ends = self.ostart[keep], self.oend[keep]
        if numba_started():  # (a large rebuild's: one compiled pass)
            from search.kernels import compound_spans

            joinable = _LINES.joinable[ids]
            first, extra, positions, token_starts, token_ends, count = compound_spans(
                text_of, starts, ends, joinable, max_parts, len(self.texts)
            )
            found = _Spans(ids, first, extra, first + extra, positions, token_starts, token_ends, count)
            self._span_cache[max_parts] = found
            return found
        n = len(ids)
        per_text = np.bincount(text_of, minlength=len(self.texts))
        positions = np.arange(n) - (np.cumsum(per_text) - per_text)[text_of]
        # How many tokens each kept morpheme starts: 1, or up to max_parts along a run of
        # contiguous compound parts.
        link = np.zeros(n, bool)
        if max_parts > 1 and n > 1:
            joinable = _LINES.joinable[ids]
            link[:-1] = (
                joinable[:-1] & joinable[1:] & (text_of[:-1] == text_of[1:]) & (ends[:-1] == starts[1:])
            )
        run_start = np.ones(n, bool)
        run_start[1:] = ~link[:-1]
        run_id = np.cumsum(run_start) - 1
        run_end = np.append(np.flatnonzero(run_start)[1:], n)[run_id]
        made = np.minimum(run_end - np.arange(n), max_parts)
        first = np.repeat(np.arange(n), made)
        extra = np.arange(len(first)) - np.repeat(np.cumsum(made) - made, made)
        last = first + extra
        count = np.bincount(text_of[first], minlength=len(self.texts)).astype(np.int64)
        found = self._span_cache[max_parts] = _Spans(
            ids,
            first,
            extra,
            last,
            positions[first].astype(np.int32),
            starts[first].astype(np.int32),
            ends[last].astype(np.int32),
            count,
        )
        return found

    def _field(self, kind: str, max_parts: int) -> FieldArrays:
        spans = self._spans(max_parts)
        ids, first, extra, last = spans.ids, spans.first, spans.extra, spans.last
        column = _LINES.raw if kind == "reading" else _LINES.terms[kind]
        numbers = column[ids][first]
        # Level by level: the compound ending at ``last`` is the one ending before, plus it.
        for level in range(1, max_parts):
            at = np.flatnonzero(extra == level)
            if not len(at):
                break
            numbers[at] = _pair_ids(kind, numbers[at - 1], column[ids[last[at]]])
        terms = _reading_terms(numbers) if kind == "reading" else numbers
        count = spans.count
        result = FieldArrays(
            terms.astype(np.int32), spans.positions, spans.starts, spans.ends, np.cumsum(count) - count, count
        )
        return self._with_slow(result, kind, max_parts) if self.slow else result

    def _with_slow(self, result: FieldArrays, kind: str, max_parts: int) -> FieldArrays:
        """Splice in the texts done the one-text way (``slow``: MeCab's output or nodes did
        not add up to the text, or a key clashed), from ``field_tokens``."""
        pieces: list[list[np.ndarray]] = [[], [], [], []]
        count = result.count.copy()
        for t in range(len(self.texts)):
            if t in self.slow:
                terms, positions, starts, ends = field_tokens(self.texts[t], (kind, max_parts))
                columns = [VOCABS[kind].ids_of(terms), positions, starts, ends]
                count[t] = len(terms)
            else:
                s = slice(result.first[t], result.first[t] + result.count[t])
                columns = [result.terms[s], result.positions[s], result.starts[s], result.ends[s]]
            for piece, column in zip(pieces, columns, strict=True):
                piece.append(np.asarray(column, dtype=np.int32))
        joined = [np.concatenate(p) if p else np.empty(0, np.int32) for p in pieces]
        return FieldArrays(*joined, np.cumsum(count) - count, count)

    def numbered(self, values: list[dict], index: dict[str, int]) -> dict:
        """The analyzed fields of documents ``values`` (``INDEX_RECIPES``; their values are
        texts of this batch, which ``index`` numbers) as ``ArraySegmentWriter.add_documents``
        takes them."""
        out = {}
        for name, recipe in INDEX_RECIPES.items():
            texts = np.fromiter(map(index.__getitem__, map(itemgetter(name), values)), np.int64, len(values))
            if recipe in RECIPES:
                out[name] = (VOCABS[recipe[0]], *self.field(recipe).gather(texts))
            elif recipe[0] == "bigram":
                norms = [self.norms[t] for t in texts.tolist()]
                with _LOCK:
                    terms, positions, starts, ends, counts = bigram_arrays(norms, VOCABS["bigram"])
                out[name] = (VOCABS["bigram"], counts, terms, positions, starts, ends)
            else:
                raise ValueError(f"field {name}: no batch analysis for the recipe {recipe}")
        return out

    def municipalities(self, t: int) -> list[str]:
        """``search.places.municipalities`` of text ``t``."""
        if t in self.slow:
            return municipalities(self.texts[t])
        if self._names is None:
            self._names = self._all_names()
        return list(self._names.get(t, ()))

    def _all_names(self) -> dict[int, list[str]]:
        """Municipalities of every text, as ``places.names_in`` finds them: a morpheme that
        may start a name, the one after it and the one before it decide, so whole arrays of
        candidates are judged at once and only the names found are made into strings."""
        with _LOCK:
            place = _LINES.place[self.ids]
            surfaces = _LINES.surfaces
        start = np.flatnonzero(place & _NAME)
        if not len(start):
            return {}
        text_of, ostart, oend, n = self.text_of, self.ostart, self.oend, len(self.ids)
        t = text_of[start]
        nxt = np.minimum(start + 1, n - 1)
        prv = np.maximum(start - 1, 0)
        flags, after, before = place[start], place[nxt], place[prv]
        whole = (flags & _WHOLE) != 0
        joined = ~whole & (start + 1 < n) & (text_of[nxt] == t) & (ostart[nxt] == oend[start])
        after_city = (
            (start > 0) & (text_of[prv] == t) & (oend[prv] == ostart[start]) & ((before & _CITY) != 0)
        )
        suffixed = (
            joined
            & ((after & _SUFFIX) != 0)
            & ~(((flags & _PERSON) != 0) & ((after & _PREFECTURE) != 0))  # 人名+県: a misreading
            & ~(((after & _TOWN) != 0) & after_city)  # 山口市亀山町: a district of the city
        )
        # 東京+都, or any other split of a whole name
        capital = joined & ((after & _SUFFIX) == 0) & ((flags & _HEAD) != 0) & ((after & _TAIL) != 0)
        names: dict[int, dict[str, None]] = {}
        ids = self.ids
        for k in np.flatnonzero(whole | suffixed | capital).tolist():
            name = surfaces[ids[start[k]]]
            if not whole[k]:
                name += surfaces[ids[nxt[k]]]
                if capital[k] and name not in _WITH_SUFFIX:
                    continue
            names.setdefault(int(t[k]), {}).setdefault(name, None)
        return {text: list(found) for text, found in names.items()}
