"""The optional ``catalog.toml``: titles, sources and dates the text itself lacks.

Example::

    ["000_6935691670d6d904.txt"]
    title = "関門地域の連携事業"
    source = "https://example.jp/kanmon.html"
    date = "2016-04-01"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from search.errors import DocumentError


@dataclass(frozen=True)
class CatalogEntry:
    title: str | None = None
    source: str | None = None
    date: str | None = None


def load_catalog(seeds: Path) -> dict[str, CatalogEntry]:
    """Entries keyed by file path relative to ``seeds``; an absent catalog is an empty one."""
    path = seeds / "catalog.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: invalid catalog ({exc})") from exc
    entries = {}
    for name, values in data.items():
        if not isinstance(values, dict):
            raise DocumentError(f"{path}: entry {name!r} must be a table")
        unknown = set(values) - {"title", "source", "date"}
        if unknown:
            raise DocumentError(f"{path}: entry {name!r} has unknown keys {sorted(unknown)}")
        entries[name] = CatalogEntry(**{k: str(v) for k, v in values.items()})
    return entries
