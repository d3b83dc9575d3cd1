"""Relevance evaluation: success@k and MRR over judged queries."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from search.api import Engine
from search.errors import InvalidParameter


@dataclass
class Case:
    query: str
    category: str
    relevant: list[dict]
    irrelevant: list[dict] = field(default_factory=list)


@dataclass
class Outcome:
    case: Case
    rank: int | None  # 1-based rank of the first relevant hit; None when none in the results
    total: int
    success: bool
    violations: int = 0


@dataclass
class Evaluation:
    k: int
    outcomes: list[Outcome]

    @property
    def success_at_k(self) -> float:
        return sum(o.success for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def mrr(self) -> float:
        scored = [o for o in self.outcomes if o.case.relevant]
        return sum(1 / o.rank for o in scored if o.rank) / len(scored) if scored else 0.0

    def table(self, verbose: bool = False) -> str:
        lines = []
        if verbose:
            lines += ["| query | category | rank | total | ok |", "|---|---|---|---|---|"]
            for o in self.outcomes:
                lines.append(
                    f"| {o.case.query} | {o.case.category} | {o.rank or '-'} | {o.total} | "
                    f"{'yes' if o.success else 'NO'} |"
                )
            lines.append("")
        by_cat: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            by_cat[o.case.category].append(o)
        lines += [f"| category | cases | success@{self.k} |", "|---|---|---|"]
        for cat, outs in by_cat.items():
            lines.append(f"| {cat} | {len(outs)} | {sum(o.success for o in outs) / len(outs):.2f} |")
        lines.append(f"| **all** | {len(self.outcomes)} | {self.success_at_k:.3f} |")
        lines.append("")
        lines.append(f"success@{self.k} = {self.success_at_k:.3f}   MRR = {self.mrr:.3f}")
        failed = [o.case.query for o in self.outcomes if not o.success]
        if failed:
            lines.append("failed: " + ", ".join(failed))
        return "\n".join(lines)


def load_cases(path: Path) -> list[Case]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [
            Case(c["query"], c["category"], c["relevant"], c.get("irrelevant", [])) for c in data["cases"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidParameter(f"{path}: not a valid cases file ({exc})") from exc


def matches(hit: dict, judgement: dict) -> bool:
    """Whether a hit is the passage a judgement names (document, kind, title, section, text)."""
    checks = {
        "doc": lambda v: hit["document"]["id"] == v,
        "kind": lambda v: hit["kind"] == v,
        "title": lambda v: v in hit["title"],
        "section": lambda v: v in hit["section"],
        "text": lambda v: v in hit["text"],
    }
    return all(checks[key](value) for key, value in judgement.items())


def evaluate(index: Path | Engine, cases: list[Case], *, k: int = 5) -> Evaluation:
    engine = index if isinstance(index, Engine) else Engine(index)
    outcomes = []
    for case in cases:
        body = engine.search(case.query, size=max(k, 20))
        hits = body["hits"]
        rank = next((i for i, h in enumerate(hits, 1) if any(matches(h, j) for j in case.relevant)), None)
        violations = sum(1 for h in hits if any(matches(h, j) for j in case.irrelevant))
        if case.relevant:
            success = rank is not None and rank <= k and violations == 0
        else:
            success = body["total"] == 0
        outcomes.append(Outcome(case, rank, body["total"], success, violations))
    return Evaluation(k, outcomes)
