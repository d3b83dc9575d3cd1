"""Tables in source text: header rows, repeated headers, rows split by page breaks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.layout import href, strip_tags

_PREFECTURE_RE = re.compile(r"^.+?[都道府県]$")


def looks_like_header(cells: list[str]) -> bool:
    """Column names: at least two short cells, no sentences, numbers or brackets of data.

    >>> looks_like_header(["取組の内容", "甲の役割", "乙の役割"])
    True
    >>> looks_like_header(["福岡市", "覚書", "中国/大連市", "経済", "[2003年締結]"])
    False
    """
    named = [c for c in cells if c]
    return len(named) >= 2 and all(
        len(c) <= 25 and "。" not in c and not re.search(r"[0-9０-９\[\]]", c) for c in named
    )


@dataclass
class Row:
    header: tuple[str, ...]
    cells: list[str]
    raw: list[str] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        """Cells under their column names; an unnamed or extra cell joins the next named column."""
        names = [n for n in self.header if n] or [f"列{i + 1}" for i in range(len(self.cells))]
        out: dict[str, list[str]] = {name: [] for name in names}
        for idx, cell in enumerate(self.cells):
            if not cell:
                continue
            if idx < len(self.header) and self.header[idx]:
                name = self.header[idx]
            else:
                later = [n for n in self.header[idx + 1 :] if n]
                name = later[0] if later else names[-1]
            out[name].append(cell)
        return {name: "\n".join(parts) for name, parts in out.items() if parts}

    def label(self) -> str:
        first = next((c for c in self.cells if c), "")
        return first if len(first) <= 40 else first[:30] + "…"


class TableState:
    """Reads the rows of the tables in one document, one line at a time."""

    def __init__(self) -> None:
        self.header: tuple[str, ...] | None = None
        self.last_header: tuple[str, ...] | None = None
        self.headers_seen: set[tuple[str, ...]] = set()
        self.last: Row | None = None

    def feed(self, raw_cells: tuple[str, ...] | list[str]) -> Row | None:
        """The new row this line starts, or None for a header, a repeated header or a fragment."""
        cells = [strip_tags(c).replace("\u3000", " ").strip() for c in raw_cells]
        named = tuple(c for c in cells if c)
        if not named:
            return None
        if named in self.headers_seen or (self.header is None and looks_like_header(cells)):
            self.header = self.last_header = tuple(cells)
            self.headers_seen.add(named)
            self.last = None
            return None
        if not cells[0] and self.last is not None:
            # A page break left the tail of the previous row on a line of its own.
            for idx, cell in enumerate(cells):
                if not cell:
                    continue
                if idx < len(self.last.cells):
                    self.last.cells[idx] += cell
                else:
                    self.last.cells.append(cell)
            return None
        header = self.header or self.last_header or ()
        self.last = Row(header, cells, list(raw_cells))
        return self.last

    def end(self) -> None:
        """A line of text ends the table; a blank line (a page break) does not."""
        self.header = None
        self.last = None


def municipality_name(value: str) -> str:
    """One display name for a list's 自治体名 cell, without a repeated prefecture.

    >>> municipality_name("熊本県 熊本県熊本市")
    '熊本県・熊本市'
    >>> municipality_name("佐賀県有田町")
    '佐賀県有田町'
    >>> municipality_name("ア 観光")
    'ア 観光'
    """
    names = [n for n in re.split(r"[\s、,，・]+", value.strip()) if n]
    if len(names) < 2 or not all(re.search(r"[都道府県市区町村]$", n) for n in names):
        return value.strip()
    out: list[str] = []
    for name in names:
        for earlier in out:
            if _PREFECTURE_RE.match(earlier) and name.startswith(earlier) and len(name) > len(earlier):
                name = name[len(earlier) :]
        out.append(name)
    return "・".join(out)


def list_fields(row: Row) -> dict[str, str]:
    """A partnership-list row as fields, column names without their explanations in brackets."""
    out: dict[str, str] = {}
    for name, value in row.values().items():
        key = re.sub(r"[（(].*[）)]$", "", name).strip() or name
        out[key] = value
    if "自治体名" in out:
        out["自治体名"] = municipality_name(out["自治体名"])
    for idx, name in enumerate(row.header):
        if name.upper() == "URL" and idx < len(row.raw):
            link = href(row.raw[idx]) or strip_tags(row.raw[idx]).strip()
            if link:
                out["URL"] = link
            else:
                out.pop("URL", None)
    return out
