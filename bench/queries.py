"""The benchmark's query mix, chosen deterministically from a generated corpus.

Seven query types, each with ``per_type`` variants (100 by default, about 660 distinct queries):

* ``rare``    a lexicon word the generator emitted only 2–4 times;
* ``common``  the most frequent emitted nouns (連携, 地域, 事業 …);
* ``and``     two mid-frequency words that occur together in at least one passage;
* ``phrase``  a quoted run of 3–4 morphemes cut from a passage ("観光資源の活用");
* ``reading`` a frequent place name written in hiragana (ふくおか); unidic must agree on the
              reading, so an engine that indexes readings can find it;
* ``era``     an era year, 平成17年 first;
* ``facet``   a common word restricted to one kind, ``観光 kind:activity``; with facets.

Why so many variants: renkei's Engine keeps an LRU cache of the last 256 answers per worker,
Groonga a query cache. Sent round-robin, ~660 distinct queries never hit an LRU of 256 (even
split over two workers), so every request is really searched. (Groonga's cache is also switched off with ``cache=no``.)

Each query carries the renkei form (``q``) and the Groonga form (``gq`` for ``query``, ``kind``
for a ``filter``).
"""

from __future__ import annotations

import json
import os
import random
import re

KANJI_KATA = re.compile(r"^[\u30a1-\u30fa\u30fc\u4e00-\u9fff々ヶ]+$")
TYPES = ("rare", "common", "and", "phrase", "reading", "era", "facet")


def _texts(corpus_dir: str) -> list[str]:
    out = []
    with open(os.path.join(corpus_dir, "passages.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(r.get("title", "") + "\n" + r.get("text", ""))
    return out


def _kinds(corpus_dir: str) -> list[str]:
    with open(os.path.join(corpus_dir, "passages.jsonl"), encoding="utf-8") as f:
        return [json.loads(line).get("kind", "") for line in f]


def pick(corpus_dir: str, per_type: int = 40, seed: int = 7) -> list[dict]:
    import fugashi

    tagger = fugashi.Tagger()
    m = json.load(open(os.path.join(corpus_dir, "manifest.json"), encoding="utf-8"))
    emitted = m["emitted"]
    texts = _texts(corpus_dir)
    kinds = _kinds(corpus_dir)
    n = len(texts)
    big = "\x00".join(texts)
    rng = random.Random(seed)

    cache: dict[str, int] = {}

    def df(word: str) -> int:
        if word not in cache:
            cache[word] = big.count(word)
        return cache[word]

    def single_token(word: str) -> bool:
        return len(list(tagger(word))) == 1

    queries: list[dict] = []

    def add(qtype: str, q: str, gq: str, kind: str | None = None, note: str = "") -> None:
        queries.append({"type": qtype, "q": q, "gq": gq, "kind": kind, "note": note})

    # rare: emitted 2-4 times, at least 3 characters, spread evenly over the sorted candidates
    rare = sorted(
        w
        for cls in ("noun", "verbal", "place", "org")
        for w, c, _r in emitted.get(cls, [])
        if 2 <= c <= 4 and len(w) >= 3 and KANJI_KATA.match(w)
    )
    step = max(1, len(rare) // (per_type * 3))
    chosen = []
    for w in rare[::step]:
        if 1 <= df(w) <= 10:
            chosen.append(w)
        if len(chosen) == per_type:
            break
    for w in chosen:
        add("rare", w, w, note=f"occurrences={df(w)}")

    # common: the most emitted nouns that MeCab keeps as one token
    pool = sorted(
        (
            (c, w)
            for cls in ("noun", "verbal")
            for w, c, _r in emitted.get(cls, [])
            if len(w) >= 2 and KANJI_KATA.match(w)
        ),
        reverse=True,
    )
    common = []
    for _c, w in pool[: per_type * 4]:
        if single_token(w):
            common.append(w)
        if len(common) == per_type:
            break
    for w in common:
        add("common", w, w, note=f"occurrences={df(w)}")

    # and: pairs of mid-frequency words that co-occur
    mids = []
    for c, w in pool:
        if c > n * 0.05 or c < n * 0.002:  # emitted counts pre-filter; the text decides
            continue
        if n * 0.003 <= df(w) <= n * 0.05 and single_token(w):
            mids.append(w)
            if len(mids) == per_type * 4:
                break
    pairs = []
    for i in range(0, len(mids) - 1):
        a, b = mids[i], mids[(i * 7 + 3) % len(mids)]
        if a == b:
            continue
        both = sum(1 for t in texts if a in t and b in t) if n <= 200_000 else None
        if both is None or both >= 1:
            pairs.append((a, b, both))
        if len(pairs) == per_type:
            break
    for a, b, both in pairs:
        add("and", f"{a} {b}", f"{a} {b}", note=f"both={both}")

    # phrase: 3-4 morphemes cut from random passages, noun first and last, no punctuation
    phrases: list[str] = []
    tries = 0
    while len(phrases) < per_type and tries < per_type * 200:
        tries += 1
        t = texts[rng.randrange(n)]
        words = list(tagger(t))
        if len(words) < 6:
            continue
        k = rng.choice((3, 4))
        i = rng.randrange(0, len(words) - k)
        span = words[i : i + k]
        if span[0].feature.pos1 != "名詞" or span[-1].feature.pos1 != "名詞":
            continue
        if any(w.white_space for w in span[1:]):
            continue
        s = "".join(w.surface for w in span)
        if not 4 <= len(s) <= 14 or re.search(r"[\s、。，．・「」『』（）()\[\]<>/:：\"'０-９0-9]", s):
            continue
        if s not in phrases:
            phrases.append(s)
    for s in phrases:
        add("phrase", f'"{s}"', f'"{s}"', note=f"occurrences={df(s)}")

    # reading: frequent place names in hiragana, when unidic reads them the same way
    readings = []
    for w, _c, hira in emitted.get("place", []):
        if not hira or len(hira) < 3 or len(w) < 2:
            continue
        toks = list(tagger(w))
        if len(toks) != 1 or not toks[0].feature.kana:
            continue
        uni = "".join(
            chr(ord(ch) - 0x60) if "\u30a1" <= ch <= "\u30f6" else ch for ch in toks[0].feature.kana
        )
        if uni == hira and hira not in [r for r, _ in readings]:
            readings.append((hira, w))
        if len(readings) == per_type:
            break
    for hira, w in readings:
        add("reading", hira, hira, note=f"{w} occurrences={df(w)}")

    # era years: 平成17年 first, then the others by how often they occur
    eras = (
        [f"平成{i}年" for i in range(1, 32)]
        + [f"令和{i}年" for i in range(1, 8)]
        + [f"昭和{i}年" for i in range(40, 65)]
    )
    eras = ["平成17年"] + sorted((e for e in eras if e != "平成17年"), key=lambda e: (-df(e), e))
    for e in eras[:per_type]:
        add("era", e, e, note=f"occurrences={df(e)}")

    # facet: a common word restricted to activity passages; 観光 first when the corpus has it
    act_texts = "\x00".join(t for t, k in zip(texts, kinds, strict=False) if k == "activity")
    words = (["観光"] if "観光" in act_texts else []) + [w for w in common if w != "観光"]
    words += [w for _c, w in pool if w not in words]
    kind = "activity" if act_texts else None
    facet = []
    for w in words:
        if not act_texts or w in act_texts:
            facet.append(w)
        if len(facet) == per_type:
            break
    for w in facet:
        add("facet", f"{w} kind:{kind}" if kind else w, w, kind=kind, note=f"occurrences={df(w)}")
    return queries


def load_or_pick(corpus_dir: str, per_type: int = 40) -> list[dict]:
    path = os.path.join(corpus_dir, f"queries-{per_type}.json")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(
        os.path.join(corpus_dir, "passages.jsonl")
    ):
        return json.load(open(path, encoding="utf-8"))
    qs = pick(corpus_dir, per_type)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(qs, f, ensure_ascii=False, indent=1)
    return qs


def interleave(queries: list[dict]) -> list[dict]:
    """Round-robin over the types: rare, common, and, … , rare, common, …"""
    by: dict[str, list[dict]] = {}
    for q in queries:
        by.setdefault(q["type"], []).append(q)
    out = []
    for i in range(max((len(v) for v in by.values()), default=0)):
        for t in TYPES:
            if i < len(by.get(t, [])):
                out.append(by[t][i])
    return out


if __name__ == "__main__":
    import sys

    qs = pick(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
    for q in qs:
        print(q["type"], q["q"], q["note"], sep="\t")
