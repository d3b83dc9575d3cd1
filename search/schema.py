"""The index schema: which passage fields are searched, stored, filtered and faceted."""

from __future__ import annotations

from search.analysis import base_analyzer, bigram_analyzer, reading_analyzer, surface_analyzer
from search.backend import fields

# Field boosts for BM25F: a word in a title or section heading says more about a passage
# than the same word in its body.
NONE = "_"  # stands for "no value" in a multi-valued facet field
TEXT_FIELDS = {"text": 1.0, "title": 2.0, "section": 1.5}


def build_schema() -> fields.Schema:
    surface, base, reading, bigram = (
        surface_analyzer(),
        base_analyzer(),
        reading_analyzer(),
        bigram_analyzer(),
    )
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        doc_id=fields.ID(stored=True, sortable=True),
        kind=fields.ID(stored=True, sortable=True),
        order=fields.NUMERIC(stored=True, sortable=True, bits=64),
        date_sort=fields.NUMERIC(stored=True, sortable=True, bits=64),
        municipality=fields.KEYWORD(stored=True, commas=True, scorable=False, vector=True),
        year=fields.KEYWORD(stored=True, commas=True, scorable=False, vector=True),
        month=fields.KEYWORD(commas=True, scorable=False),
        payload=fields.STORED(),
    )
    for name, boost in TEXT_FIELDS.items():
        schema.add(name, fields.TEXT(analyzer=surface, stored=True, chars=True, field_boost=boost))
        schema.add(f"{name}_base", fields.TEXT(analyzer=base, chars=True, field_boost=boost))
    schema.add("text_reading", fields.TEXT(analyzer=reading, chars=True))
    schema.add("title_reading", fields.TEXT(analyzer=reading, chars=True, field_boost=2.0))
    schema.add("text_bigram", fields.TEXT(analyzer=bigram, chars=True))
    schema.add("title_bigram", fields.TEXT(analyzer=bigram, chars=True, field_boost=2.0))
    return schema
