"""Dates and municipalities of passages, and the document date."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from indexer.passage import Document, Passage
from search import places
from search.dates import DateMention, extract_dates
from search.normalize import Normalized, normalize


def date_record(mention: DateMention) -> dict:
    """A date as it appears in passage metadata: as written, as ISO, and the months it covers."""
    first, last = mention.first_month, mention.last_month
    return {
        "text": mention.text,
        "iso": mention.iso,
        "fiscal": mention.fiscal,
        "from": f"{first // 100:04d}-{first % 100:02d}",
        "to": f"{last // 100:04d}-{last % 100:02d}",
    }


class TextAnalysis(Protocol):
    """What enriching a passage asks of its texts (title, text): made for a group of files
    at once by a rebuild (``search.batchterms.TextBatch``)."""

    def municipalities(self, text: str) -> list[str]: ...

    def normalized(self, text: str) -> Normalized: ...


class _EachText:
    """Text by text, for a single parse."""

    municipalities = staticmethod(places.municipalities)
    normalized = staticmethod(normalize)


#: Given passages (a document's, or a group of documents'), the analysis of their texts.
Analyze = Callable[[list[Passage]], TextAnalysis]


def enrich(
    document: Document, passages: list[Passage], *, date_lines: list[str], analyze: Analyze | None = None
) -> None:
    """Fill in each passage's dates and municipalities, and the document's date.

    ``analyze`` lets a rebuild analyze all the passages at once (``search.batchterms``).
    """
    analysis = analyze(passages) if analyze else _EachText()
    municipalities = analysis.municipalities
    for passage in passages:
        mentions = extract_dates(passage.text, analysis.normalized(passage.text))
        passage.dates = [date_record(m) for m in mentions]
        # Title and text apart: no name spans the two.
        names = municipalities(passage.title) + municipalities(passage.text)
        passage.municipalities = list(dict.fromkeys(names))
    if document.date:
        return
    for line in date_lines:
        mentions = extract_dates(line)
        if mentions:
            document.date = mentions[0].iso
            return
    for passage in passages:
        if passage.kind == "signature" and passage.dates:
            document.date = passage.dates[0]["iso"]
            return
