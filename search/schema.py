"""The index schema: which passage fields are searched, stored, filtered and faceted.

Indexing cost in Whoosh grows with the number of postings and of analyzed fields, so only
the body text gets every analysis (surface, base form, reading, bigrams, all with character
offsets for highlighting); titles and sections get surface and base forms with positions;
sorting keys and facet values live in columns, which cost no postings.
"""

from __future__ import annotations

from search.analysis import base_analyzer, bigram_analyzer, reading_analyzer, surface_analyzer
from search.backend import columns, fields

FACET_SEP = "\x1f"
KINDS = ("preamble", "article", "signature", "table_row", "activity", "list_row", "paragraph")
# Bumped whenever fields or analysis change: an index of another version must be rebuilt.
SCHEMA_VERSION = 6
# Field boosts for BM25F: a word in a title or section heading says more about a passage
# than the same word in its body.
FIELD_BOOSTS = {"text": 1.0, "title": 2.0, "section": 1.5}
# What each analyzed text field's analyzer does, for a rebuild's tokens (search.indexterms,
# search.batchterms); tests check every recipe against the field's analyzer.
INDEX_RECIPES = {
    "text": ("surface", 3),
    "text_base": ("base", 3),
    "text_reading": ("reading", 4),
    "text_bigram": ("bigram", 0),
    "title": ("surface", 1),
    "title_base": ("base", 1),
    "section": ("surface", 1),
    "section_base": ("base", 1),
}


def build_schema() -> fields.Schema:
    surface, base = surface_analyzer(), base_analyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        doc_id=fields.ID(stored=True),
        kind=fields.ID(stored=True),
        municipality=fields.KEYWORD(commas=True, scorable=False),
        year=fields.KEYWORD(commas=True, scorable=False),
        month=fields.KEYWORD(commas=True, scorable=False),
        dated_year=fields.KEYWORD(commas=True, scorable=False),
        # Columns: document order (ties, neighbours), date order, and facet values.
        order=fields.COLUMN(columns.NumericColumn("q")),
        date_sort=fields.COLUMN(columns.NumericColumn("q")),
        facets=fields.COLUMN(columns.VarBytesColumn()),
        payload=fields.STORED(),
        text=fields.TEXT(analyzer=surface, stored=True, chars=True),
        text_base=fields.TEXT(analyzer=base, chars=True),
        text_reading=fields.TEXT(analyzer=reading_analyzer(), chars=True),
        text_bigram=fields.TEXT(analyzer=bigram_analyzer(), chars=True),
    )
    # Titles and sections are short: a phrase check there is cheap, so no compound terms.
    plain_surface, plain_base = surface_analyzer(compounds=False), base_analyzer(compounds=False)
    for name in ("title", "section"):
        boost = FIELD_BOOSTS[name]
        schema.add(name, fields.TEXT(analyzer=plain_surface, stored=True, field_boost=boost))
        schema.add(f"{name}_base", fields.TEXT(analyzer=plain_base, field_boost=boost))
    return schema


def facet_bytes(doc_id: str, kind: str, municipalities: list[str], years: list[str]) -> bytes:
    """The facet column value of one passage."""
    return FACET_SEP.join([doc_id, kind, ",".join(municipalities), ",".join(years)]).encode("utf-8")


def facet_values(raw: bytes) -> tuple[str, str, list[str], list[str]]:
    doc_id, kind, munis, years = raw.decode("utf-8").split(FACET_SEP)
    return doc_id, kind, [m for m in munis.split(",") if m], [y for y in years.split(",") if y]


__all__ = ["FIELD_BOOSTS", "INDEX_RECIPES", "SCHEMA_VERSION", "build_schema", "facet_bytes", "facet_values"]
