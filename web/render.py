"""Helpers for the HTML pages: marking terms, trusting snippets, building refine links."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence

from markupsafe import Markup, escape

log = logging.getLogger("renkei.web")

# The only markup a snippet may hold: <mark> and </mark>. Anything else means the claim
# that snippets are escaped text is broken, and the snippet is escaped whole.
_FOREIGN_TAG_RE = re.compile(r"<(?!/?mark>)")
_STRAY_GT_RE = re.compile(r"(?<!<mark)(?<!</mark)>")

FILTER_PARAMS = ("municipality", "kind", "document", "year_from", "year_to")
KEPT_PARAMS = ("q", *FILTER_PARAMS, "sort", "size")


def safe_snippet(snippet: str) -> Markup:
    """The engine's snippet as markup, if it is escaped text with only <mark> tags.

    >>> str(safe_snippet("a <mark>b</mark> &amp; c"))
    'a <mark>b</mark> &amp; c'
    >>> str(safe_snippet("<b>x</b>"))
    '&lt;b&gt;x&lt;/b&gt;'
    """
    if _FOREIGN_TAG_RE.search(snippet) or _STRAY_GT_RE.search(snippet):
        log.warning("snippet holds markup other than <mark>; escaping it whole")
        return escape(snippet)
    return Markup(snippet)


def mark_text(text: str, highlights: Iterable[Sequence[int]]) -> Markup:
    """Escaped ``text`` with ``<mark>`` around each ``[start, end)`` character span.

    Spans out of range, empty or overlapping a previous one are clipped or ignored.

    >>> str(mark_text("<a>水道の整備", [[3, 5]]))
    '&lt;a&gt;<mark>水道</mark>の整備'
    """
    parts: list[str] = []
    cursor = 0
    for span in sorted((int(s), int(e)) for s, e in highlights):
        start, end = max(span[0], cursor), min(span[1], len(text))
        if start >= end:
            continue
        parts.append(str(escape(text[cursor:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    parts.append(str(escape(text[cursor:])))
    return Markup("".join(parts))


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link around ``page``; None stands for a gap.

    >>> page_window(6, 12)
    [1, None, 4, 5, 6, 7, 8, None, 12]
    >>> page_window(1, 3)
    [1, 2, 3]
    """
    if pages <= 0:
        return []
    shown = {1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)}
    out: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            out.append(None)
        out.append(number)
        previous = number
    return out


def kept(args: Mapping[str, str]) -> dict[str, str]:
    """The search parameters of a request worth carrying into the next link."""
    return {name: args[name] for name in KEPT_PARAMS if args.get(name)}


def refine(params: Mapping[str, str], **changes: str | None) -> dict[str, str]:
    """``params`` with ``changes`` applied (None removes a parameter); always back to page 1."""
    out = {k: v for k, v in params.items() if k != "page"}
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def basename(path: str) -> str:
    """The last component of a path written with / or \\ separators.

    >>> basename("/srv/seeds/001_abc.txt"), basename("C:/seeds/a.tsv"), basename("")
    ('001_abc.txt', 'a.tsv', '')
    """
    return re.split(r"[\\/]", path or "")[-1]


def extra_fields(item: Mapping) -> dict[str, str]:
    """A passage's named fields whose values its text does not already show.

    >>> extra_fields({"text": "分野：水道", "fields": {"分野": "水道", "URL": "http://x"}})
    {'URL': 'http://x'}
    """
    flat = re.sub(r"\s+", "", item.get("text") or "")
    fields = item.get("fields") or {}
    return {k: str(v) for k, v in fields.items() if v and re.sub(r"\s+", "", str(v)) not in flat}


def display_date(item: Mapping) -> str:
    """A passage's date for display: the document's date, else the first date it mentions."""
    document = item.get("document") or {}
    if document.get("date"):
        return str(document["date"])
    for mention in item.get("dates") or []:
        if isinstance(mention, Mapping) and mention.get("text"):
            return str(mention["text"])
    return ""
