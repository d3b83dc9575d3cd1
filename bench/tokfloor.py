"""The tokenization floor: MeCab alone (fugashi + unidic-lite, renkei's tokenizer) over the passages.

Two floors, each over every passage's ``title + "\\n" + text``:

* ``mecab_parse``: ``Tagger.parse(text)``: MeCab's C analysis, one string back (no Python
  objects per token): what any MeCab-based indexer must pay at the least;
* ``fugashi_nodes``: ``[(w.surface, w.feature.lemma, w.feature.kana) for w in tagger(text)]``:
  the C analysis plus one Python node per token with the fields an analyzer reads — close to
  what a Python analyzer spends before it does anything of its own;
* ``best_path``: MeCab's best path read from its node structs in compiled code, a batch of
  passages a call (``search.mecabnodes``, the way a large ``renkei index`` reads MeCab):
  the C analysis with no output text at all, below ``parse``.

Each in one process and in two processes (``multiprocessing``, fork), as the machine has two
cores. An index build can't go faster than the floor it tokenizes with, so build passages/s over
floor passages/s is the share of the build the tokenizer explains.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time

_T: dict = {}


def _tagger():
    if "t" not in _T:
        import fugashi

        _T["t"] = fugashi.Tagger()
    return _T["t"]


def _parse(texts: list[str]) -> int:
    t = _tagger()
    n = 0
    for s in texts:
        n += len(t.parse(s))
    return n


def _nodes(texts: list[str]) -> int:
    t = _tagger()
    n = 0
    for s in texts:
        n += len([(w.surface, w.feature.lemma, w.feature.kana) for w in t(s)])
    return n


def _best_path(texts: list[str]) -> int:
    from search.mecabnodes import parser
    from search.tokenizer import mecab_input

    nodes = 0
    for at in range(0, len(texts), 1000):  # a rebuild's group: about 1,000 passages
        nodes += len(parser().parse([mecab_input(s) for s in texts[at : at + 1000]]).keys)
    return nodes


def load_texts(jsonl: str, limit: int | None = None) -> list[str]:
    out = []
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(r.get("title", "") + "\n" + r.get("text", ""))
            if limit and len(out) >= limit:
                break
    return out


def measure(texts: list[str], procs: int, fn) -> dict:
    nbytes = sum(len(s.encode()) for s in texts)
    if procs == 1:
        fn(texts[:500])  # warm-up: page the dictionary in
        t0 = time.perf_counter()
        fn(texts)
        secs = time.perf_counter() - t0
    else:
        chunk = max(1, len(texts) // (procs * 16))
        parts = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        with mp.get_context("fork").Pool(procs, _tagger) as pool:
            pool.map(_tagger_ready, range(procs))
            t0 = time.perf_counter()
            pool.map(fn, parts, chunksize=1)
            secs = time.perf_counter() - t0
    return {"seconds": secs, "passages_per_s": len(texts) / secs, "mb_per_s": nbytes / 1e6 / secs}


def _tagger_ready(_i: int) -> int:
    _parse(_WARM)  # warm-up in each worker
    return 0


_WARM = [
    "連携協約の締結を証するため、本協約書2通を作成し、両市が記名押印の上、それぞれ各1通を保有する。"
] * 200


def run(jsonl: str, limit: int | None = None) -> dict:
    texts = load_texts(jsonl, limit)
    out = {"passages": len(texts), "bytes": sum(len(s.encode()) for s in texts)}
    for name, fn in (("mecab_parse", _parse), ("fugashi_nodes", _nodes), ("best_path", _best_path)):
        for procs in (1, 2):
            out[f"{name}_{procs}p"] = measure(texts, procs, fn)
    return out


if __name__ == "__main__":
    import sys

    print(json.dumps(run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None), indent=1))
