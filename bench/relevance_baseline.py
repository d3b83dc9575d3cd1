"""The "before" column of the relevance table: a straightforward Whoosh + MeCab index.

It indexes the same passages as renkei (renkei's own parser), but the way a first attempt
would: MeCab surface forms with no normalisation, no base forms, readings, bigrams or era
dates, every query word's morphemes ANDed, BM25F over text and title. It then runs the judged
queries of ``tests/relevance/cases.json`` through it and prints success@k and MRR beside
renkei's own figures on the same cases.

    python bench/relevance_baseline.py [-k 5]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import defaultdict
from pathlib import Path

import fugashi
from whoosh import fields, index, qparser, query
from whoosh.analysis import Token, Tokenizer

ROOT = Path(__file__).resolve().parent.parent


class PlainMecab(Tokenizer):
    """MeCab surface forms as they are written; whitespace dropped, nothing else."""

    def __call__(self, value, positions=False, chars=False, mode="", **kwargs):
        tagger = _tagger()
        token = Token(positions, chars, mode=mode, **kwargs)
        for pos, word in enumerate(w for w in tagger(value) if w.surface.strip()):
            token.text = word.surface
            token.boost = 1.0
            if positions:
                token.pos = pos
            yield token


_TAGGER = None


def _tagger():
    global _TAGGER
    if _TAGGER is None:
        _TAGGER = fugashi.Tagger()
    return _TAGGER


def build(passages, where: Path):
    analyzer = PlainMecab()
    schema = fields.Schema(
        id=fields.ID(stored=True),
        text=fields.TEXT(analyzer=analyzer, stored=True),
        title=fields.TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        section=fields.STORED(),
        kind=fields.STORED(),
        doc=fields.STORED(),
    )
    where.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(where), schema)
    writer = ix.writer()
    for p in passages:
        writer.add_document(
            id=p.id, text=p.text, title=p.title, section=p.section, kind=p.kind, doc=p.document.id
        )
    writer.commit()
    return ix


def run_query(searcher, ix, text: str, limit: int):
    words = [w for w in re.split(r"\s+", text.replace("\u3000", " ")) if w]
    parser = qparser.MultifieldParser(["text", "title"], ix.schema, group=qparser.AndGroup)
    try:
        q = parser.parse(" ".join(words))
    except Exception:
        q = query.NullQuery
    results = searcher.search(q, limit=limit)
    return [
        {
            "id": h["id"],
            "title": h["title"],
            "text": h["text"],
            "section": h["section"],
            "kind": h["kind"],
            "document": {"id": h["doc"]},
        }
        for h in results
    ], len(results)


def main() -> None:
    from indexer.build import collect
    from search.evaluation import evaluate, load_cases, matches

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()
    cases = load_cases(ROOT / "tests" / "relevance" / "cases.json")
    passages, _ = collect(ROOT / "seeds")
    with tempfile.TemporaryDirectory() as tmp:
        ix = build(passages, Path(tmp) / "baseline")
        before: dict[str, list[bool]] = defaultdict(list)
        rr = []
        with ix.searcher() as searcher:
            for case in cases:
                hits, total = run_query(searcher, ix, case.query, 20)
                rank = next(
                    (i for i, h in enumerate(hits, 1) if any(matches(h, j) for j in case.relevant)), None
                )
                bad = sum(1 for h in hits if any(matches(h, j) for j in case.irrelevant))
                ok = (rank is not None and rank <= args.k and not bad) if case.relevant else total == 0
                before[case.category].append(ok)
                if case.relevant:
                    rr.append(1 / rank if rank else 0.0)
        tmp_index = Path(tmp) / "renkei"
        from indexer.build import build as build_renkei

        build_renkei(ROOT / "seeds", tmp_index)
        after = evaluate(tmp_index, cases, k=args.k)
    after_by: dict[str, list[bool]] = defaultdict(list)
    for o in after.outcomes:
        after_by[o.case.category].append(o.success)
    print(f"| category | cases | before success@{args.k} | after success@{args.k} |")
    print("|---|---|---|---|")
    for cat, oks in before.items():
        done = after_by[cat]
        print(f"| {cat} | {len(oks)} | {sum(oks) / len(oks):.2f} | {sum(done) / len(done):.2f} |")
    all_before = [ok for oks in before.values() for ok in oks]
    share = sum(all_before) / len(all_before)
    print(f"| **all** | {len(all_before)} | {share:.3f} | {after.success_at_k:.3f} |")
    print(f"\nMRR before {sum(rr) / len(rr):.3f}, after {after.mrr:.3f}")


if __name__ == "__main__":
    main()
