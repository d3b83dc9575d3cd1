"""The passage: the unit renkei indexes, ranks and shows."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


@dataclass
class Document:
    id: str
    title: str
    source: str
    date: str | None = None
    parties: list[dict[str, str]] = field(default_factory=list)

    def ref(self) -> dict[str, str | None]:
        return {"id": self.id, "title": self.title, "source": self.source}


@dataclass
class Passage:
    id: str
    document: Document
    kind: str
    section: str
    title: str
    text: str
    ordinal: int
    dates: list[dict] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["document"] = self.document.ref()
        return out


def passage_id(doc_id: str, kind: str, section: str, text: str) -> str:
    """An id that depends only on where the passage lives and what it says.

    >>> args = ("001", "article", "第1条（目的）", "本文")
    >>> passage_id(*args) == passage_id(*args) != passage_id("001", "article", "第2条", "本文")
    True
    """
    digest = hashlib.sha1(f"{kind}\x1f{section}\x1f{text}".encode()).hexdigest()[:12]
    return f"{doc_id}-{digest}"
