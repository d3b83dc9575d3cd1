"""Splitting a decoded document into passages, from its content alone.

One document may mix kinds: an agreement (preamble, articles 第N条, signature block and
別表 rows), an activity list (◎ items under ①–⑥ headings), a tab-separated partnership
list, and prose paragraphs. Structure is read from the lines, never from the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from indexer import tables
from indexer.catalog import CatalogEntry
from indexer.layout import Line, lines_of
from indexer.passage import Document, Passage, passage_id

ARTICLE_RE = re.compile(r"^第\s*[0-9０-９一二三四五六七八九十百]+\s*条(?:の[0-9０-９一二三四五六七八九十]+)?")
PAREN_HEADING_RE = re.compile(r"^[（(]([^（）()]{1,30})[）)]$")
APPENDIX_RE = re.compile(r"^別表[0-9０-９一二三四五六七八九十]*")
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
SIGNATURE_RE = re.compile(r"証する|証として")
DATE_LINE_RE = re.compile(
    r"^(?:(?:明治|大正|昭和|平成|令和)(?:[0-9０-９]+|元|[一二三四五六七八九十]+)|[0-9０-９]{4})年"
    r"(?:[0-9０-９一二三四五六七八九十]+月(?:[0-9０-９一二三四五六七八九十]+日)?)?$"
)
SENTENCE_END = tuple("。．.！？!?」』）)：:")
TITLE_WORD_RE = re.compile(r"協約|協定|覚書|規約|計画|リスト|一覧")

SHORT = 40  # a line this short without a full stop reads as a heading, caption or banner


@dataclass
class _Draft:
    kind: str
    section: str = ""
    title: str = ""
    chunks: list[list[str]] = field(default_factory=lambda: [[]])
    fields: dict[str, str] = field(default_factory=dict)
    row: tables.Row | None = None  # a table row may still grow by a fragment after a page break

    def finish(self) -> None:
        if self.row is None:
            return
        if self.kind == "list_row":
            self.fields = tables.list_fields(self.row)
            self.section = self.fields.get("自治体名", "")
            self.title = self.fields.get("協定名") or self.row.label()
        else:
            self.fields = self.row.values()
            self.title = self.row.label()
        self.chunks = [[f"{name}：{value}"] for name, value in self.fields.items() if value and name != "URL"]

    def add(self, text: str) -> None:
        self.chunks[-1].append(text)

    def gap(self) -> None:
        if self.chunks[-1]:
            self.chunks.append([])

    def text(self) -> str:
        return "\n".join(_join_wrapped(chunk) for chunk in self.chunks if chunk)


def _join_wrapped(lines: list[str]) -> str:
    """Join lines of one block, undoing hard wraps inside a sentence.

    >>> _join_wrapped(["本協約書2通を作成し、甲と乙が署名押印の上、各自1通を保有するため署名", "押印の上"])
    '本協約書2通を作成し、甲と乙が署名押印の上、各自1通を保有するため署名押印の上'
    >>> _join_wrapped(["山口所長(右)", "松江副所長(中)"])
    '山口所長(右)\\n松江副所長(中)'
    """
    out = ""
    for line in lines:
        if out and (len(out.rsplit("\n", 1)[-1]) < 25 or out.endswith(SENTENCE_END)):
            out += "\n"
        out += line
    return out


def _is_short(text: str) -> bool:
    return len(text) <= SHORT and "。" not in text


def _heading_style(text: str) -> str:
    if text[0] in CIRCLED:
        return "circled"
    if re.match(r"^[（(][0-9０-９]+[）)]", text):
        return "paren"
    if re.match(r"^[0-9０-９]+(?:[\s.．、]|$)", text):
        return "number"
    if re.match(r"^[ア-ン][\s　]", text):
        return "kana"
    return "other"


class _Parser:
    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.title_lines: list[str] = []
        self.date_lines: list[str] = []
        self.pending: list[list[str]] = []  # short lines waiting to be read as captions or banners
        self.activity_section = ""
        self.pending_heading = ""  # an article heading （目的） waiting for its 第N条
        self.prose_section = ""
        self.in_agreement = any(ARTICLE_RE.match(line.text) for line in lines if line.cells is None)
        self.seen_article = False
        self.appendix: list[tuple[str, str]] | None = None
        self.table = tables.TableState()

    # -- helpers ---------------------------------------------------------------------------
    def _close(self) -> None:
        if self.current is not None:
            self.drafts.append(self.current)
            self.current = None

    def _start(self, draft: _Draft) -> None:
        self._close()
        self.current = draft

    def _next_text(self, i: int) -> str:
        for line in self.lines[i + 1 :]:
            if line.cells is not None:
                return ""
            if line.text:
                return line.text
        return ""

    def _flush_pending(self, as_banners: bool = False) -> None:
        groups, self.pending = [g for g in self.pending if g], []
        for group in groups:
            front_matter = self.in_agreement and not self.seen_article
            if (
                as_banners
                or front_matter
                or (not self.drafts and self.current is None and not self.title_lines)
            ):
                # Before any content: a document title, or a list's banner lines.
                for text in group:
                    (
                        self.date_lines if DATE_LINE_RE.search(text) or "現在" in text else self.title_lines
                    ).append(text)
                continue
            draft = _Draft("paragraph", section=self.prose_section)
            for text in group:
                draft.add(text)
            self.drafts.append(draft)

    def _appendix_section(self) -> str:
        assert self.appendix is not None
        return " > ".join(["別表", *(text for _, text in self.appendix)])

    # -- the walk --------------------------------------------------------------------------
    def run(self) -> None:
        for i, line in enumerate(self.lines):
            if line.cells is not None:
                self._table_row(line)
            elif not line.text:
                self._blank()
            else:
                self._text(i, line)
        self.table.end()
        self._close()
        self._flush_pending()

    def _blank(self) -> None:
        if self.current is not None:
            if self.current.kind in ("paragraph", "preamble"):
                self._close()
            else:
                self.current.gap()
        if self.pending and self.pending[-1]:
            self.pending.append([])

    def _table_row(self, line: Line) -> None:
        self._close()
        if self.pending:
            self._flush_pending(as_banners=True)
        row = self.table.feed(line.cells or ())
        if row is None:
            return
        # Inside a 別表 a table row belongs to the agreement; elsewhere it is a list row.
        self.drafts.append(self._table_draft(row) if self.appendix is not None else self._list_draft(row))

    def _table_draft(self, row: tables.Row) -> _Draft:
        section = self._appendix_section() if self.appendix is not None else ""
        return _Draft("table_row", section=section, row=row)

    def _list_draft(self, row: tables.Row) -> _Draft:
        return _Draft("list_row", row=row)

    def _text(self, i: int, line: Line) -> None:
        text = line.text
        self.table.end()

        if APPENDIX_RE.match(text) and self.in_agreement:
            self._close()
            self._flush_pending()
            self.appendix = []
            return
        if self.appendix is not None:
            self._close()
            style = _heading_style(text)
            styles = [s for s, _ in self.appendix]
            if style in styles and style != "other":
                del self.appendix[styles.index(style) :]
            self.appendix.append((style, text))
            return
        if text.startswith("◎"):
            self._flush_pending()
            self._start(_Draft("activity", section=self.activity_section, title=text[1:].strip()))
            return
        if text[0] in CIRCLED and _is_short(text):
            self._close()
            self._flush_pending()
            self.activity_section = text
            return
        if self.in_agreement and PAREN_HEADING_RE.match(text) and ARTICLE_RE.match(self._next_text(i)):
            self._close()
            self._front_matter_done()
            self.pending_heading = text
            return
        if self.in_agreement and ARTICLE_RE.match(text):
            self._close()
            self._front_matter_done()
            heading = self.pending_heading
            self.pending_heading = ""
            number = ARTICLE_RE.match(text).group(0).replace(" ", "")
            label = PAREN_HEADING_RE.match(heading)
            section = f"{number}（{label.group(1)}）" if label else number
            draft = _Draft("article", section=section, title=section)
            if heading:
                draft.add(heading)
                draft.gap()
            draft.add(text)
            self.current = draft
            self.seen_article = True
            return
        if self.seen_article and (SIGNATURE_RE.search(text) or DATE_LINE_RE.match(text)):
            if self.current is None or self.current.kind != "signature":
                self._start(_Draft("signature", section="署名", title="署名"))
            self.current.add(text)
            return
        if self.current is not None and self.current.kind in ("article", "activity", "signature"):
            self.current.add(text)
            return
        self._prose(text, line)

    def _front_matter_done(self) -> None:
        """Before the first article: short lines are the title block, sentences the preamble."""
        if self.seen_article:
            return
        groups, self.pending = [g for g in self.pending if g], []
        for group in groups:
            self.title_lines.extend(group)
        for draft in [d for d in self.drafts if d.kind == "paragraph"]:
            draft.kind, draft.section, draft.title = "preamble", "前文", "前文"
        preambles = [d for d in self.drafts if d.kind == "preamble"]
        if len(preambles) > 1:
            merged = preambles[0]
            for extra in preambles[1:]:
                merged.chunks.extend(extra.chunks)
                self.drafts.remove(extra)

    def _prose(self, text: str, line: Line) -> None:
        is_heading = line.heading_mark or PAREN_HEADING_RE.match(text) or text.startswith(("【", "■", "●"))
        if is_heading and _is_short(text) and (self.drafts or self.current or self.title_lines):
            self._close()
            self._flush_pending()
            self.prose_section = text
            return
        if DATE_LINE_RE.match(text) and not self.drafts and self.current is None:
            self._flush_pending()
            self.date_lines.append(text)
            return
        if _is_short(text) and (self.current is None or self.current.kind != "paragraph"):
            if not self.pending:
                self.pending.append([])
            self.pending[-1].append(text)
            return
        last = self.current.chunks[-1][-1] if self.current is not None and self.current.chunks[-1] else ""
        if self.current is None or self.current.kind != "paragraph" or last.endswith(SENTENCE_END):
            # In prose a line that ends a sentence ends its paragraph; others were hard-wrapped.
            self._flush_pending()
            self._start(_Draft("paragraph", section=self.prose_section))
        self.current.add(text)

    # -- results ---------------------------------------------------------------------------
    def title(self) -> str:
        for text in reversed(self.title_lines):
            if TITLE_WORD_RE.search(text):
                return text
        return self.title_lines[0] if self.title_lines else ""


def parse_text(
    text: str,
    *,
    doc_id: str,
    source: str,
    csv_format: bool = False,
    catalog: CatalogEntry | None = None,
    enrich: bool = True,
    analyze=None,
) -> tuple[Document, list[Passage]]:
    """Split a decoded document into passages with their metadata (``analyze``: see
    ``indexer.metadata.enrich``)."""
    document, passages, date_lines = split_text(
        text, doc_id=doc_id, source=source, csv_format=csv_format, catalog=catalog
    )
    if enrich:
        from indexer.metadata import enrich as add_metadata

        add_metadata(document, passages, date_lines=date_lines, analyze=analyze)
    return document, passages


def split_text(
    text: str,
    *,
    doc_id: str,
    source: str,
    csv_format: bool = False,
    catalog: CatalogEntry | None = None,
) -> tuple[Document, list[Passage], list[str]]:
    """Split a decoded document into passages, without their metadata; also returns the
    lines the document's date may be read from (``indexer.metadata.enrich`` fills both in)."""
    parser = _Parser(lines_of(text, csv_format=csv_format))
    parser.run()
    document = Document(id=doc_id, title=parser.title(), source=source)
    if catalog is not None:
        document.title = catalog.title or document.title
        document.source = catalog.source or document.source
        document.date = catalog.date
    if not document.title:
        document.title = Path(source).stem
    document.parties = _parties(parser.drafts)

    passages: list[Passage] = []
    seen: set[tuple[str, str]] = set()
    seen_lines: set[str] = set()
    for draft in parser.drafts:
        draft.finish()
        if draft.kind == "paragraph":
            # Prose repeated verbatim (a page pasted twice) is kept once, line by line, so a
            # copy that starts inside a caption group still goes.
            draft.chunks = [[t for t in chunk if _line_key(t) not in seen_lines] for chunk in draft.chunks]
            seen_lines.update(_line_key(t) for chunk in draft.chunks for t in chunk)
        body = draft.text().strip()
        if not body and draft.kind == "activity":
            body = draft.title
        if not body:
            continue
        key = (draft.kind, _line_key(body))
        if key in seen:  # a block repeated verbatim is kept once
            continue
        seen.add(key)
        passages.append(
            Passage(
                id=passage_id(doc_id, draft.kind, draft.section, body),
                document=document,
                kind=draft.kind,
                section=draft.section,
                title=draft.title or document.title,
                text=body,
                ordinal=len(passages),
                fields=dict(draft.fields),
            )
        )
    return document, passages, parser.date_lines


MUNICIPALITY_END_RE = re.compile(r"^[^\s]{1,10}[都道府県市区町村]$")


def _line_key(text: str) -> str:
    """``text`` without its whitespace (str.split's is re's ``\\s``, checked over all code points)."""
    return "".join(text.split())


PARTY_RE = re.compile(r"([^、。「」（）()\s]+?)（以下「([^」]{1,6})」という。?）")


def _parties(drafts: list[_Draft]) -> list[dict[str, str]]:
    """Parties named in the preamble: 久留米市（以下「甲」という。） gives 久留米市 as 甲."""
    for draft in drafts:
        if draft.kind != "preamble":
            continue
        parties = []
        for names, role in PARTY_RE.findall(draft.text()):
            names = re.sub(r"^(?:と|及び|並びに|、)", "", names)
            for name in re.split(r"及び|並びに|と|、", names):
                if MUNICIPALITY_END_RE.search(name):
                    parties.append({"name": name, "role": role})
        return parties
    return []
