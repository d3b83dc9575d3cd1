"""The query language: words, "phrases", OR, NOT / -word, (groups) and field filters.

Parsing never raises: unbalanced quotes or parentheses and dangling operators degrade to
plain terms. The tree is lowered to Whoosh queries by :mod:`search.lowering`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 1000
MAX_DEPTH = 20  # deeper nesting is flattened, so no input can exhaust the stack
FILTER_FIELDS = ("municipality", "kind", "document", "year")
_QUOTES = {'"', "＂", "“", "”"}
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Filter:
    field: str
    value: str


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Word | Phrase | Filter | Not | And | Or


@dataclass
class _Tok:
    kind: str  # word, phrase, filter, or, not, minus, lparen, rparen
    text: str = ""
    field: str = ""
    glued: bool = False  # a "-" directly before the next token


@dataclass
class ParsedQuery:
    root: Node | None
    notes: list[str] = field(default_factory=list)


def _lex(q: str) -> tuple[list[_Tok], list[str]]:
    toks: list[_Tok] = []
    notes: list[str] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _QUOTES:
            end = next((j for j in range(i + 1, n) if q[j] in _QUOTES), -1)
            if end == -1:
                notes.append("unbalanced quote ignored")
                i += 1
                continue
            text = q[i + 1 : end].strip()
            if text:
                toks.append(_Tok("phrase", text))
            i = end + 1
            continue
        if ch in "(（":
            toks.append(_Tok("lparen"))
            i += 1
            continue
        if ch in ")）":
            toks.append(_Tok("rparen"))
            i += 1
            continue
        if ch in "-－" and i + 1 < n and not q[i + 1].isspace():
            toks.append(_Tok("minus"))
            i += 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in "()（）" and q[j] not in _QUOTES:
            j += 1
        word = q[i:j]
        i = j
        if word in ("OR", "|", "||"):
            toks.append(_Tok("or"))
        elif word in ("NOT", "AND", "&&"):
            toks.append(_Tok("not" if word == "NOT" else "and"))
        else:
            name, sep, value = unicodedata.normalize("NFKC", word).partition(":")
            if sep and name.lower() in FILTER_FIELDS and value:
                toks.append(_Tok("filter", value, field=name.lower()))
            else:
                toks.append(_Tok("word", word))
    return toks, notes


class _Parser:
    def __init__(self, toks: list[_Tok], notes: list[str]) -> None:
        self.toks = toks
        self.i = 0
        self.notes = notes
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def or_expr(self) -> Node | None:
        items = []
        first = self.and_expr()
        if first is not None:
            items.append(first)
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.i += 1
            nxt = self.and_expr()
            if nxt is None or not items:
                self.notes.append("dangling OR ignored")
            if nxt is not None:
                items.append(nxt)
        if not items:
            return None
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node | None:
        items = []
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rparen"):
            item = self.unary()
            if item is not None:
                items.append(item)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("not", "minus"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("or", "rparen", "not", "minus", "and"):
                self.notes.append(f"dangling {'NOT' if tok.kind == 'not' else '-'} ignored")
                return None
            self.depth += 1
            item = self.unary() if self.depth < MAX_DEPTH else self.primary()
            self.depth -= 1
            return Not(item) if item is not None else None
        return self.primary()

    def primary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.kind == "lparen":
            if self.depth >= MAX_DEPTH:
                self.notes.append("nesting too deep: parenthesis ignored")
                return None
            self.depth += 1
            inner = self.or_expr()
            if (close := self.peek()) is not None and close.kind == "rparen":
                self.i += 1
            else:
                self.notes.append("unclosed parenthesis closed")
            self.depth -= 1
            return inner
        if tok.kind == "rparen":
            self.notes.append("unmatched ) ignored")
            return None
        if tok.kind == "and":
            return None
        if tok.kind == "phrase":
            return Phrase(tok.text)
        if tok.kind == "filter":
            return Filter(tok.field, tok.text)
        return Word(tok.text)


def parse_query(q: str) -> ParsedQuery:
    """Parse a query string into a tree; never raises.

    >>> parse_query('観光 誘客').root
    And(items=(Word(text='観光'), Word(text='誘客')))
    >>> parse_query('大学 -長崎').root
    And(items=(Word(text='大学'), Not(item=Word(text='長崎'))))
    >>> parse_query('"関門地域" OR 水道').root
    Or(items=(Phrase(text='関門地域'), Word(text='水道')))
    >>> parse_query('((観光 "港').root
    And(items=(Word(text='観光'), Word(text='港')))
    >>> parse_query('year:2010..2015 kind:activity').root
    And(items=(Filter(field='year', value='2010..2015'), Filter(field='kind', value='activity')))
    """
    toks, notes = _lex(q.replace("\u3000", " "))
    parser = _Parser(toks, notes)
    items = []
    while parser.peek() is not None:
        node = parser.or_expr()
        if node is not None:
            items.append(node)
        if (tok := parser.peek()) is not None and tok.kind == "rparen":
            parser.i += 1
            notes.append("unmatched ) ignored")
    root: Node | None
    if not items:
        root = None
    elif len(items) == 1:
        root = items[0]
    else:
        root = And(tuple(items))
    return ParsedQuery(root, notes)


def describe(node: Node | None) -> str:
    """A readable rendering of the parsed tree, shown in the query analysis."""
    if node is None:
        return ""
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'"{node.text}"'
    if isinstance(node, Filter):
        return f"{node.field}:{node.value}"
    if isinstance(node, Not):
        return f"NOT {describe(node.item)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(describe(i) for i in node.items) + ")"
