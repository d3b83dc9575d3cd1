"""Line-level clean-up of source text: markup out, table cells split, rules dropped."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import NamedTuple

# Only real HTML tag names are stripped, so a literal "<" in text survives; a tag cut off
# at a cell end ("...。</p") is stripped too.
_TAG_RE = re.compile(
    r"</?(?:p|br|a|span|div|b|i|u|em|strong|font|td|tr|th|table|tbody|thead|sup|sub|li|ul|ol|h[1-6])"
    r"(?:\s[^<>]*)?(?:>|$)",
    re.IGNORECASE,
)
_HREF_RE = re.compile(r"""<a\s[^>]*href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_MD_HEADING_RE = re.compile(r"^#{1,6}\s*")
_MD_BULLET_RE = re.compile(r"^[-*+・]\s+(?=\S)")
_RULE_RE = re.compile(r"^[\s|:+=\-–—─━]*$")


class Line(NamedTuple):
    """One source line: its cleaned text, and its cells when it is a table row. (A tuple:
    a file has thousands of lines, and a frozen dataclass is several times slower to make.)"""

    no: int
    text: str
    cells: tuple[str, ...] | None = None
    heading_mark: bool = False


def strip_tags(text: str) -> str:
    """Remove HTML tags and decode entities.

    >>> strip_tags("<p>圏域の振興を図る。</p")
    '圏域の振興を図る。'
    >>> strip_tags("a < b")
    'a < b'
    """
    if "<" in text:
        text = _TAG_RE.sub("", text)
    return html.unescape(text).strip()


def href(cell: str) -> str | None:
    """The link target of an ``<a>`` tag in a cell, if any.

    >>> href('<a href="http://example.jp/x.html">x</a>')
    'http://example.jp/x.html'
    """
    match = _HREF_RE.search(cell)
    return match.group(1) if match else None


def is_rule(text: str) -> bool:
    """A markdown or ASCII table rule such as ``|---|---|`` or ``-----\\t--``.

    >>> is_rule("-------\\t--\\t----"), is_rule("| --- | :-- |"), is_rule("ア その他")
    (True, True, False)
    """
    return bool(_RULE_RE.match(text)) and len(re.findall(r"[-=–—─━]", text)) >= 2


def _split_cells(raw: str) -> list[str] | None:
    stripped = raw.strip()
    if "\t" in raw:
        cells = raw.split("\t")
    elif stripped.startswith("|") and stripped.count("|") >= 2:
        cells = stripped.strip("|").split("|")
    else:
        return None
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def clean(raw: str) -> tuple[str, bool]:
    """Text of a non-table line without markdown heading or bullet marks or tags."""
    text = raw.strip().replace("\u3000", " ").strip()
    heading = text.startswith("#") and _MD_HEADING_RE.match(text) is not None
    if heading:
        text = _MD_HEADING_RE.sub("", text)
    if text.startswith(("-", "*", "+", "・")):
        text = _MD_BULLET_RE.sub("", text)
    return strip_tags(text), heading


def lines_of(text: str, *, csv_format: bool = False) -> list[Line]:
    """Split decoded text into :class:`Line` objects; rules are dropped, cells split."""
    rows = (
        _csv_rows(text)
        if csv_format
        else [(i, raw, _split_cells(raw)) for i, raw in enumerate(text.split("\n"))]
    )
    out: list[Line] = []
    for no, raw, cells in rows:
        if is_rule(raw) and raw.strip():
            continue
        if cells is not None and sum(1 for c in cells if c.strip()) >= 1 and len(cells) >= 2:
            out.append(Line(no, raw.strip(), tuple(cells)))
            continue
        first = cells[0] if cells else raw
        cleaned, heading = clean(first)
        out.append(Line(no, cleaned, None, heading))
    return out


def _csv_rows(text: str) -> list[tuple[int, str, list[str] | None]]:
    rows: list[tuple[int, str, list[str] | None]] = []
    reader = csv.reader(io.StringIO(text))
    for no, cells in enumerate(reader):
        cells = [c.replace("\n", " ").replace("\t", " ") for c in cells]
        while cells and not cells[-1].strip():
            cells.pop()
        raw = "\t".join(cells)
        rows.append((no, raw, cells if len(cells) >= 2 else None))
    return rows
