"""The index-time bigram tokens of many texts at once, as numpy arrays of term numbers.

``search.indexterms._bigram_tokens`` walks one text's runs in Python, about 0.5 µs a
character. A rebuild gives a whole batch here instead:

* the batch's normalized texts are joined with a newline before, between and after them
  (never in a run and never a digit, so no bigram and no ``2.5`` rule reaches from one
  text into the next) and read as code points;
* a class table (word character, digit, '.' or ',') built with the tokenizer's own regexes
  gives the run mask; a token starts at each run character that is followed by another (a
  bigram) or that is a whole run (a unigram), so tokens come out in text order;
* a token's term is the integer ``first << 21 | second`` (``second`` 0 for a unigram: NUL
  is never in a run), looked up in a numpy hash table per vocabulary; a term's string is
  built only the first time its key is seen.

Character offsets are the tokens' own indexes for a text whose normalization kept its
characters one to one (nearly all); the others map them through ``Normalized.offsets`` and,
like ``BigramTokenizer``, widen a token that ends inside a many-to-one expansion
(㈱ -> (株)) with ``Normalized.span``. ``tests/test_bigramarrays.py`` checks every text
against ``_bigram_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from search.keytable import KeyTable, number_terms
from search.normalize import Normalized
from search.vocab import Vocab

__all__ = ["bigram_arrays"]

# Character classes; a digit is a word character too (\d is a subset of \w).
_WORD, _DIGIT, _POINT = 1, 3, 4
_SHIFT = 21  # code points are below 2**21
_LOW = (1 << _SHIFT) - 1


@lru_cache(maxsize=4096)
def _class(ch: str) -> int:
    """The class of one character (used beyond the BMP), by the tokenizer's regexes themselves."""
    if re.match(r"\d", ch):
        return _DIGIT
    return _WORD if re.match(r"[^\W_]", ch) else _POINT if ch in ".," else 0


def _bmp_table() -> np.ndarray:
    # A few substitutions over the whole BMP (~30 ms at import) instead of 65,536 matches.
    bmp = "".join(map(chr, range(0x10000)))
    word = re.sub(r"[^\x00]", "\x01", re.sub(r"[\W_]", "\x00", bmp))
    digit = re.sub(r"[^\x00]", "\x02", re.sub(r"\D", "\x00", bmp))
    table = np.frombuffer(word.encode("latin-1"), np.uint8) | np.frombuffer(digit.encode("latin-1"), np.uint8)
    table[[ord("."), ord(",")]] = _POINT
    return table


_CLASSES = _bmp_table()
_IDENTITY = list(range(1024))  # grown on demand; offsets equal to a prefix need no mapping


# One table per vocabulary, holding the vocabulary so its id() cannot be reused meanwhile.
_TABLES: dict[int, tuple[Vocab, KeyTable]] = {}


def _terms(keys: np.ndarray, vocab: Vocab) -> np.ndarray:
    """The numbers in ``vocab`` of ``keys``, naming only keys this table has not seen."""
    entry = _TABLES.get(id(vocab))
    if entry is None:
        if len(_TABLES) >= 8:  # a rebuild has one bigram vocabulary; old ones may go
            del _TABLES[next(iter(_TABLES))]
        entry = _TABLES[id(vocab)] = (vocab, KeyTable())
    return number_terms(entry[1], keys, vocab, _spell)


def _spell(keys: np.ndarray) -> list[str]:
    """The bigrams (or unigrams) of ``keys``: a key is one string, so no lookup is needed."""
    return [chr(k >> _SHIFT) + chr(k & _LOW) if k & _LOW else chr(k >> _SHIFT) for k in keys.tolist()]


def bigram_arrays(
    norms: list[Normalized], vocab: Vocab
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(terms, positions, starts, ends, counts): the bigram tokens of every text, concatenated
    in order; terms are numbers in ``vocab`` (int32), positions/starts/ends int32, counts
    (int64, one per text) how many tokens each text gave.

    >>> from search.normalize import normalize
    >>> v = Vocab()
    >>> norms = [normalize("ＰＭ２．５"), normalize("㈱北九州")]
    >>> terms, positions, starts, ends, counts = bigram_arrays(norms, v)
    >>> [v.strings[t] for t in terms], positions.tolist(), counts.tolist()
    (['pm', 'm2', '2.', '.5', '株', '北九', '九州'], [0, 1, 2, 3, 0, 1, 2], [4, 3])
    >>> starts.tolist(), ends.tolist()
    ([0, 1, 2, 3, 0, 1, 2], [2, 3, 4, 5, 1, 3, 4])
    """
    texts = [n.text for n in norms]
    joined = "\n" + "\n".join(texts) + "\n"
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    first = np.cumsum(lengths + 1) - lengths  # where each text starts in ``joined``
    classes = _CLASSES.take(cp, mode="clip")  # beyond the BMP: U+FFFF's class (none), then fixed
    if cp.max(initial=0) > 0xFFFF:
        astral = np.flatnonzero(cp > 0xFFFF)
        classes[astral] = [_class(chr(c)) for c in cp[astral].tolist()]
    run = (classes & _WORD).view(bool)
    points = np.flatnonzero(classes == _POINT)
    if len(points):  # (?<=\d)[.,](?=\d); the newlines keep both neighbours inside the array
        run[points] = (classes[points - 1] == _DIGIT) & (classes[points + 1] == _DIGIT)
    # A token starts at a run character that is followed by one, or that has none on either side.
    token = np.zeros_like(run)
    token[1:-1] = run[1:-1] & (run[2:] | ~run[:-2])
    at = np.flatnonzero(token)
    pair = run[at + 1]
    keys = cp[at].astype(np.int64) << _SHIFT | cp[at + 1] * pair

    counts = np.diff(np.searchsorted(at, np.append(first, len(cp))))
    before = np.cumsum(counts) - counts  # tokens of the earlier texts
    positions = (np.arange(len(at)) - np.repeat(before, counts)).astype(np.int32)
    starts = (at - np.repeat(first, counts)).astype(np.int32)
    ends = starts + 1 + pair
    for k, norm in enumerate(norms):
        if not _one_to_one(norm.offsets):
            _map_offsets(norm, starts, ends, slice(before[k], before[k] + counts[k]))
    return _terms(keys, vocab), positions, starts, ends, counts


def _one_to_one(offsets: Sequence[int]) -> bool:
    """Whether ``offsets`` is 0, 1, 2, …: normalization kept every character in place."""
    if type(offsets) is range:
        return offsets.start == 0 and offsets.step == 1
    n = len(offsets) - 1
    if offsets[n] != n or offsets[n // 2] != n // 2:  # most moved texts fail here, before any copy
        return False
    if n >= len(_IDENTITY):
        _IDENTITY.extend(range(len(_IDENTITY), 2 * n))
    return offsets == _IDENTITY[: n + 1]  # small ints are shared objects: ~1 ns a character


def _map_offsets(norm: Normalized, starts: np.ndarray, ends: np.ndarray, tokens: slice) -> None:
    """Turn one text's tokens' normalized indexes into original characters, in place."""
    offsets = np.array(norm.offsets, dtype=np.int32)
    first, last = starts[tokens].copy(), ends[tokens].copy()
    starts[tokens] = offsets[first]
    ends[tokens] = mapped = offsets[last]
    # BigramTokenizer: a token ending inside a many-to-one expansion ends where it ends.
    for t in np.flatnonzero(mapped <= offsets[last - 1]).tolist():
        ends[tokens.start + t] = norm.span(int(first[t]), int(last[t]))[1]
