"""A real Japanese lexicon with Zipf-like sampling, read from mecab-ipadic's source CSVs.

Debian's ``mecab-ipadic`` package ships the dictionary sources under
``/usr/share/mecab/dic/ipadic`` (most of them EUC-JP, a few re-encoded to UTF-8). Each row is
``surface,left_id,right_id,cost,pos,pos1,pos2,pos3,conj,form,base,reading,pronunciation``.

Words are grouped in classes (place names, organisations, family and given names, general and
verbal nouns, countries). Inside a class they are ranked by the dictionary's word cost — a
lower cost means MeCab thinks the word is more common — with ties broken by a seeded hash, and
drawn with Zipf–Mandelbrot weights ``1 / (rank + q) ** s``. A corpus sampled this way has a
vocabulary that keeps growing with its size (Heaps' law), as real text does.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import random
import re
from dataclasses import dataclass, field

IPADIC_DIRS = ("/usr/share/mecab/dic/ipadic", "/usr/share/mecab/dic/ipadic-utf8")

_KANJI = re.compile(r"^[\u4e00-\u9fff々ヶ]+$")  # domestic place and person names
_NOUN = re.compile(r"^(?![\u3041-\u3096]+$)[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff々〆ヶ]+$")

# class -> (file, predicate on the POS columns, minimum surface length, accepted surfaces)
CLASSES: dict[str, tuple[str, tuple[str, ...], int, re.Pattern]] = {
    "place": ("Noun.place.csv", ("名詞", "固有名詞", "地域", "一般"), 2, _KANJI),
    "country": ("Noun.place.csv", ("名詞", "固有名詞", "地域", "国"), 2, _NOUN),
    "org": ("Noun.org.csv", ("名詞", "固有名詞", "組織"), 2, _NOUN),
    "sei": ("Noun.name.csv", ("名詞", "固有名詞", "人名", "姓"), 1, _KANJI),
    "mei": ("Noun.name.csv", ("名詞", "固有名詞", "人名", "名"), 1, _KANJI),
    "noun": ("Noun.csv", ("名詞", "一般"), 2, _NOUN),
    "verbal": ("Noun.verbal.csv", ("名詞", "サ変接続"), 2, _NOUN),
    "proper": ("Noun.proper.csv", ("名詞", "固有名詞", "一般"), 2, _NOUN),
}


def find_ipadic() -> str:
    for d in IPADIC_DIRS:
        if os.path.exists(os.path.join(d, "Noun.place.csv")):
            return d
    raise FileNotFoundError(
        f"mecab-ipadic source CSVs not found (looked in {', '.join(IPADIC_DIRS)}); "
        "apt-get install -y mecab-ipadic"
    )


def _read_rows(path: str):
    raw = open(path, "rb").read()
    for enc in ("euc_jp", "utf-8"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("euc_jp", errors="replace")
    for line in text.splitlines():
        cols = line.split(",")
        if len(cols) >= 12:
            yield cols


def kata_to_hira(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in s)


@dataclass
class WordClass:
    name: str
    words: list[str]
    readings: list[str]
    cum: list[float] = field(default_factory=list)

    def sample(self, rng: random.Random) -> int:
        """Index of a word drawn with Zipf-like weights."""
        return bisect.bisect_right(self.cum, rng.random() * self.cum[-1])


class Lexicon:
    def __init__(self, directory: str | None = None, seed: int = 0, s: float = 1.05, q: float = 2.7):
        directory = directory or find_ipadic()
        self.directory = directory
        self.classes: dict[str, WordClass] = {}
        cache: dict[str, list[list[str]]] = {}
        for name, (fname, pos, minlen, accept) in CLASSES.items():
            path = os.path.join(directory, fname)
            if not os.path.exists(path):
                continue
            if fname not in cache:
                cache[fname] = list(_read_rows(path))
            seen: dict[str, tuple[int, str]] = {}
            for cols in cache[fname]:
                surface, cost = cols[0], cols[3]
                if tuple(cols[4 : 4 + len(pos)]) != pos:
                    continue
                if len(surface) < minlen or not accept.match(surface) or surface in seen:
                    continue
                reading = cols[11] if len(cols) > 11 and cols[11] != "*" else ""
                try:
                    c = int(cost)
                except ValueError:
                    c = 10000
                seen[surface] = (c, reading)

            def key(item, name=name):
                surface, (c, _r) = item
                h = hashlib.blake2b(f"{seed}:{name}:{surface}".encode(), digest_size=8).digest()
                return (c // 400, h)

            ranked = sorted(seen.items(), key=key)
            words = [w for w, _ in ranked]
            readings = [r for _, (_c, r) in ranked]
            weights = (1.0 / (r + q) ** s for r in range(1, len(words) + 1))
            wc = WordClass(name, words, readings, list(itertools.accumulate(weights)))
            self.classes[name] = wc

    def sizes(self) -> dict[str, int]:
        return {k: len(v.words) for k, v in self.classes.items()}

    def sample(self, cls: str, rng: random.Random) -> str:
        wc = self.classes[cls]
        return wc.words[wc.sample(rng)]

    def reading(self, cls: str, word: str) -> str:
        wc = self.classes[cls]
        if not hasattr(wc, "_pos"):
            wc._pos = {w: i for i, w in enumerate(wc.words)}
        i = wc._pos.get(word)
        return wc.readings[i] if i is not None else ""


if __name__ == "__main__":  # a quick look: python bench/lexicon.py
    lex = Lexicon()
    rng = random.Random(1)
    print(lex.directory, lex.sizes())
    for c in lex.classes:
        print(c, [lex.sample(c, rng) for _ in range(12)])
