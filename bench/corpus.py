"""Deterministic corpus generator for the benchmark.

    python bench/corpus.py --passages 100000 --out bench/work/corpus-100000

writes ``OUT/seeds/*.txt`` (the four seed formats, UTF-8, readable by ``renkei index --seeds``),
``OUT/passages.jsonl`` (the same passages as renkei's own parser cuts them, for Groonga) and
``OUT/manifest.json`` (file counts, bytes, vocabulary growth, the emitted-word counts used to
choose the benchmark queries).

How the text is made: the sentences of the seed files (``/work/main/seeds``) are cut into
templates. Every noun MeCab finds in them becomes a slot (place, person, organisation, country,
general or verbal noun) and every date a date slot. A generated file recombines templates of its
format and fills the slots: place and person names are always swapped, organisations and
countries mostly, and common nouns a quarter of the time, with words drawn Zipf-like from
mecab-ipadic's lexicon (see ``lexicon.py``). Inside one file a swapped proper noun stays the same
(a file about 下関市 and 北九州市 becomes a file about two other towns, all through), so every
file reads like one document. Each file has its own RNG seeded with ``(seed, format, number)``:
the first files of a 100k corpus are the files of the 10k corpus, and the vocabulary grows with
N because more files draw further down the Zipf tail.

Formats and the knobs that set how many passages a file yields:
* activity list (``act_*.txt``): ①… section headings, ``--items-per-activity`` ◎ items;
* agreement (``agr_*.txt``): 第N条 articles with （見出し） headings and a 別表 of
  ``--rows-per-agreement`` tab-separated rows;
* partnership list (``lst_*.txt``): 自治体名 協定名 協定締結先 分野 概要 URL header and
  ``--rows-per-list`` tab-separated rows;
* prose article (``prs_*.txt``): title, date, (見出し) headings and ``--paras-per-prose``
  paragraphs.
The number of files of each format is chosen so the passages add up to ≈ N. How many passages
a file really yields is renkei's parser's business, so when ``indexer.parse`` is importable the
generator first parses a few sample files of each format and sizes the corpus from that.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import glob
import json
import math
import multiprocessing as mp
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from lexicon import Lexicon, kata_to_hira  # noqa: E402

DEFAULT_SEEDS = os.path.join(REPO, "seeds")
FORMATS = ("act", "agr", "lst", "prs")
# share of the passages that each format contributes
MIX = {"act": 0.35, "agr": 0.20, "lst": 0.30, "prs": 0.15}

# probability that a slot of each class is filled with a lexicon word instead of the seed's word
P_SWAP = {"place": 0.9, "country": 0.7, "sei": 1.0, "mei": 1.0, "org": 0.8, "noun": 0.25, "verbal": 0.2}
# classes whose choice is kept for the whole file
STICKY = {"place", "country", "sei", "mei", "org"}
ERAS = {"平成", "令和", "昭和", "大正", "明治"}

DATE_RE = re.compile(r"(平成|令和|昭和)(\d{1,2}|元)年|(\d{4})年|(\d{1,2})月|(\d{1,2})日")
CIRCLED = [chr(c) for c in range(0x2460, 0x2474)] + [chr(c) for c in range(0x3251, 0x3260)]
HEAD_RE = re.compile(r"^(?:#+\s*)?[（(]([^）)]{1,20})[）)]\s*$")
ARTICLE_RE = re.compile(r"^第(\d+)条[\s　]+(.*)$")
SECTION_RE = re.compile(r"^[①-⑳㉑-㉟]\s*(.+)$")
LIST_HEADER = "自治体名\t協定名\t協定締結先(国・地域名/都市名)\t分野\t概要(骨子、締結年等)\tURL"


# --------------------------------------------------------------------------------------------
# templates


class Templater:
    """Turns seed text into templates: lists of literal strings and (class, original) slots."""

    def __init__(self) -> None:
        import fugashi

        self.tagger = fugashi.Tagger()

    def _slot_class(self, w) -> str | None:
        f = w.feature
        if f.pos1 != "名詞":
            return None
        if f.pos2 == "固有名詞":
            if f.pos3 == "地名":
                return "country" if f.pos4 == "国" else "place"
            if f.pos3 == "人名":
                return "sei" if f.pos4 == "姓" else "mei"
            if w.surface in ERAS:
                return None
            return "org"
        if f.pos2 == "普通名詞" and len(w.surface) >= 2:
            if f.pos3 == "サ変可能":
                return "verbal"
            if f.pos3 == "一般":
                return "noun"
        return None

    def template(self, text: str) -> tuple:
        segs: list = []
        pos = 0
        for m in DATE_RE.finditer(text):
            self._words(text[pos : m.start()], segs)
            if m.group(1):
                segs.append(("era", m.group(1)))
            elif m.group(3):
                segs.append(("year", m.group(3)))
            elif m.group(4):
                segs.append(("month", m.group(4)))
            else:
                segs.append(("day", m.group(5)))
            pos = m.end()
        self._words(text[pos:], segs)
        out: list = []
        for s in segs:  # merge adjacent literals
            if isinstance(s, str) and out and isinstance(out[-1], str):
                out[-1] += s
            elif s != "":
                out.append(s)
        return tuple(out)

    def _words(self, text: str, segs: list) -> None:
        if not text:
            return
        # MeCab drops newlines and tabs; template line by line and cell by cell
        for i, line in enumerate(text.split("\n")):
            if i:
                segs.append("\n")
            for j, cell in enumerate(line.split("\t")):
                if j:
                    segs.append("\t")
                rebuilt = ""
                for w in self.tagger(cell):
                    cls = self._slot_class(w)
                    rebuilt += w.white_space + w.surface
                    if cls:
                        segs.append(w.white_space)
                        segs.append((cls, w.surface))
                    else:
                        segs.append(w.white_space + w.surface)
                if rebuilt != cell:  # tokenizer lost something: keep the cell verbatim
                    while segs and (segs[-1] != "\t" and segs[-1] != "\n"):
                        segs.pop()
                    segs.append(cell)


def _sentences(par: str) -> list[str]:
    parts = [p for p in re.split(r"(?<=。)", par) if p.strip()]
    return parts


@dataclasses.dataclass
class Pools:
    act_sections: list = dataclasses.field(default_factory=list)
    act_heads: list = dataclasses.field(default_factory=list)
    act_sents: list = dataclasses.field(default_factory=list)
    agr_titles: list = dataclasses.field(default_factory=list)
    agr_preambles: list = dataclasses.field(default_factory=list)
    agr_articles: list = dataclasses.field(default_factory=list)  # (heading, body) templates
    agr_closings: list = dataclasses.field(default_factory=list)
    agr_sections: list = dataclasses.field(default_factory=list)
    agr_table_headers: list = dataclasses.field(default_factory=list)
    agr_rows: list = dataclasses.field(default_factory=list)
    lst_rows: list = dataclasses.field(default_factory=list)
    prs_titles: list = dataclasses.field(default_factory=list)
    prs_heads: list = dataclasses.field(default_factory=list)
    prs_sents: list = dataclasses.field(default_factory=list)
    prs_captions: list = dataclasses.field(default_factory=list)


def build_pools(seed_dir: str) -> Pools:
    t = Templater()
    raw: dict[str, list[str]] = collections.defaultdict(list)

    def add(pool: str, text: str) -> None:
        text = text.strip(" \u3000")
        if text and text not in raw[pool]:
            raw[pool].append(text)

    for path in sorted(
        glob.glob(os.path.join(seed_dir, "*.txt")) + glob.glob(os.path.join(seed_dir, "*.tsv"))
    ):
        lines = [ln.rstrip("\r") for ln in open(path, encoding="utf-8").read().split("\n")]
        nonblank = [ln.strip() for ln in lines if ln.strip()]
        is_list = any(ln.startswith("自治体名\t") for ln in lines)
        is_activity = sum(ln.startswith("◎") for ln in nonblank) >= 3
        is_agreement = sum(bool(ARTICLE_RE.match(ln)) for ln in nonblank) >= 2
        if is_list:
            for ln in lines:
                cells = ln.split("\t")
                if len(cells) >= 5 and not ln.startswith("自治体名") and cells[0].strip():
                    add("lst_rows", "\t".join((cells + [""] * 6)[:6]))
        elif is_activity:
            in_item = False
            for ln in nonblank:
                m = SECTION_RE.match(ln)
                if m:
                    add("act_sections", m.group(1))
                    in_item = False
                elif ln.startswith("◎"):
                    add("act_heads", ln[1:])
                    in_item = True
                elif in_item:
                    for s in _sentences(ln):
                        add("act_sents", s)
        elif is_agreement:
            in_table = False
            prev_head = None
            for i, ln in enumerate(nonblank):
                if ln.startswith("別表"):
                    in_table = True
                    continue
                if in_table:
                    if "\t" in ln:
                        cells = [c.strip() for c in ln.split("\t")]
                        if all(set(c) <= set("-") for c in cells):
                            continue
                        if len(ln) < 40 and "取組" in cells[0]:
                            add("agr_table_headers", ln)
                        elif sum(bool(c) for c in cells) >= 2:
                            add("agr_rows", "\t".join(cells))
                    elif len(ln) < 50 and not ln.endswith("。"):
                        add("agr_sections", re.sub(r"^[#\s]*", "", ln))
                    continue
                h = HEAD_RE.match(ln)
                if h:
                    prev_head = h.group(1)
                    continue
                a = ARTICLE_RE.match(ln)
                if a:
                    body = a.group(2)
                    j = i + 1
                    while j < len(nonblank) and nonblank[j].startswith("- ("):
                        body += "\n" + nonblank[j]
                        j += 1
                    add("agr_articles", (prev_head or "趣旨") + "\x00" + body)
                    prev_head = None
                elif "締結する" in ln and ln.endswith("。"):
                    add("agr_preambles", ln)
                elif "証するため" in ln:
                    add("agr_closings", ln)
                elif ln.endswith("連携協約") or ln.endswith("都市圏"):
                    add("agr_titles", re.sub(r"^[#\s]*", "", ln))
        else:
            for k, ln in enumerate(nonblank):
                h = HEAD_RE.match(ln)
                if k == 0:
                    add("prs_titles", ln)
                elif h:
                    add("prs_heads", h.group(1))
                elif "。" in ln:
                    for s in _sentences(ln):
                        add("prs_sents", s)
                elif len(ln) <= 40 and not DATE_RE.search(ln):
                    add("prs_captions", ln)

    pools = Pools()
    for name, items in raw.items():
        if name == "agr_articles":
            pools.agr_articles = [tuple(t.template(x) for x in it.split("\x00")) for it in items]
        else:
            setattr(pools, name, [t.template(x) for x in items])
    # a pool a seed set lacks falls back on a neighbour, so any seed directory works
    fallbacks = {
        "act_sents": "prs_sents",
        "prs_sents": "act_sents",
        "act_heads": "prs_heads",
        "prs_heads": "act_sections",
        "agr_rows": "act_sents",
        "agr_sections": "act_sections",
        "prs_captions": "prs_heads",
    }
    for name, other in fallbacks.items():
        if not getattr(pools, name):
            setattr(pools, name, list(getattr(pools, other)))
    return pools


# --------------------------------------------------------------------------------------------
# rendering


class Renderer:
    """Fills templates for one file; remembers its proper-noun swaps and counts emitted words."""

    def __init__(self, lex: Lexicon, rng: random.Random, counts: collections.Counter) -> None:
        self.lex = lex
        self.rng = rng
        self.memo: dict[tuple[str, str], str] = {}
        self.counts = counts

    def word(self, cls: str, orig: str | None = None) -> str:
        rng = self.rng
        if cls in STICKY and orig is not None:
            key = (cls, orig)
            w = self.memo.get(key)
            if w is None:
                w = self.lex.sample(cls, rng) if rng.random() < P_SWAP[cls] else orig
                self.memo[key] = w
        elif orig is None or rng.random() < P_SWAP.get(cls, 0.0):
            w = self.lex.sample(cls, rng)
        else:
            w = orig
        self.counts[(cls, w)] += 1
        return w

    def era_year(self) -> str:
        rng = self.rng
        era = rng.choices(("平成", "令和", "昭和"), (0.7, 0.15, 0.15))[0]
        top = {"平成": 31, "令和": 7, "昭和": 64}[era]
        n = min(top, 1 + int(rng.betavariate(2, 2) * top))
        return f"{era}{n}年"

    def render(self, tpl) -> str:
        rng = self.rng
        out = []
        for s in tpl:
            if isinstance(s, str):
                out.append(s)
                continue
            cls, orig = s
            if cls == "era":
                out.append(self.era_year())
            elif cls == "year":
                out.append(f"{rng.randint(1975, 2024)}年")
            elif cls == "month":
                out.append(f"{rng.randint(1, 12)}月")
            elif cls == "day":
                out.append(f"{rng.randint(1, 28)}日")
            else:
                out.append(self.word(cls, orig))
        return "".join(out)

    def city(self) -> str:
        return self.word("place") + self.rng.choice(("市", "市", "市", "町", "村"))


def _pick(rng: random.Random, pool: list):
    return pool[rng.randrange(len(pool))]


def _paragraph(r: Renderer, pool: list, lo: int, hi: int) -> str:
    return "".join(r.render(_pick(r.rng, pool)) for _ in range(r.rng.randint(lo, hi)))


def gen_activity(r: Renderer, p: Pools, items: int) -> str:
    rng = r.rng
    a, b = r.city(), r.city()
    out = [f"\n\n{a}と{b}の連携事業一覧\n"]
    n = 0
    sec = 0
    while n < items:
        k = min(items - n, rng.randint(3, 9))
        out.append(f"\n{CIRCLED[sec % len(CIRCLED)]}{r.render(_pick(rng, p.act_sections))}\n")
        sec += 1
        for _ in range(k):
            out.append(f"\n◎{r.render(_pick(rng, p.act_heads))}\n")
            out.append("\n" + _paragraph(r, p.act_sents, 1, 3) + "\n")
            if rng.random() < 0.15:
                out.append("\n" + _paragraph(r, p.act_sents, 1, 2) + "\n")
            n += 1
    return "".join(out)


def gen_agreement(r: Renderer, p: Pools, rows: int) -> str:
    rng = r.rng
    md = rng.random() < 0.5
    title = r.render(_pick(rng, p.agr_titles)) if p.agr_titles else r.city() + "連携中枢都市圏"
    out = []
    if md:
        out.append(f"\n\n# 連携協約書\n\n{r.city()} {r.city()}\n\n## {title}\n\n")
    else:
        out.append(f"\n\n{title}\n連携協約書\n\n{title}\n\n")
    if p.agr_preambles:
        out.append(r.render(_pick(rng, p.agr_preambles)) + "\n\n")
    arts = list(p.agr_articles)
    rng.shuffle(arts)
    n_art = min(len(arts), rng.randint(5, 8))
    for i, (head, body) in enumerate(arts[:n_art], 1):
        h = r.render(head)
        out.append(f"{'### ' if md else ''}（{h}）\n\n第{i}条 {r.render(body)}\n\n")
    if p.agr_closings:
        out.append(r.render(_pick(rng, p.agr_closings)) + "\n\n")
    out.append(r.era_year() + f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日\n\n")
    for party in ("甲", "乙"):
        city = r.city()
        addr = f"{r.word('place')}町{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
        out.append(f"{party} {city}{addr}\n{city}\n{city}長 {r.word('sei')}{r.word('mei')}\n\n\n\n")
    out.append("別表（第3条関係）\n\n")
    n = 0
    sec = 1
    while n < rows:
        k = min(rows - n, rng.randint(3, 8))
        out.append(f"（{sec}）{r.render(_pick(rng, p.agr_sections))}\n\n")
        sec += 1
        if p.agr_table_headers:
            out.append(r.render(_pick(rng, p.agr_table_headers)) + "\n")
        for _ in range(k):
            out.append(r.render(_pick(rng, p.agr_rows)) + "\n")
            n += 1
        out.append("\n")
    return "".join(out)


def gen_list(r: Renderer, p: Pools, rows: int) -> str:
    rng = r.rng
    out = [
        f"\n\n姉妹友好都市以外の提携リスト\n\n{r.era_year()}{rng.randint(1, 12)}月現在 (地方自治体からの提供)\n\n"
    ]
    out.append(LIST_HEADER + "\n")
    for _ in range(rows):
        line = r.render(_pick(rng, p.lst_rows))
        cells = line.split("\t")
        if len(cells) == 6 and not cells[5] and rng.random() < 0.2:
            cells[5] = f"https://www.city.example.lg.jp/kokusai/{rng.randrange(16**6):06x}.html"
        out.append("\t".join(cells) + "\n")
    return "".join(out)


def gen_prose(r: Renderer, p: Pools, paras: int) -> str:
    rng = r.rng
    office = r.city() + r.word("place") + "事務所"
    out = [f"地方自治体国際交流最前線{rng.randint(1, 12)}-{office}-\n"]
    out.append(f"{r.era_year()}{rng.randint(1, 12)}月{rng.randint(1, 28)}日\n")
    out.append(_paragraph(r, p.prs_sents, 2, 3) + "\n")
    out.append(f"{office} -{r.word('sei')}{r.word('mei')}所長インタビュー-\n\n")
    for _ in range(paras - 1):
        out.append(f"({r.render(_pick(rng, p.prs_heads))})\n")
        out.append(_paragraph(r, p.prs_sents, 2, 4) + "\n")
    out.append(f"\n{r.word('sei')}{r.word('mei')}・{office}所長\n")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# the corpus


@dataclasses.dataclass
class Config:
    passages: int
    out: str
    seed: int = 20240601
    seeds_dir: str = DEFAULT_SEEDS
    items_per_activity: int = 50
    rows_per_agreement: int = 20
    rows_per_list: int = 100
    paras_per_prose: int = 10
    workers: int = 2
    jsonl: bool = True


_W: dict = {}


def _init_worker(seeds_dir: str, seed: int) -> None:
    _W["lex"] = Lexicon(seed=seed)
    _W["pools"] = build_pools(seeds_dir)


def _file_text(fmt: str, i: int, seed: int, cfg_sizes: dict, counts) -> str:
    rng = random.Random(f"{seed}:{fmt}:{i}")
    r = Renderer(_W["lex"], rng, counts)
    p = _W["pools"]
    if fmt == "act":
        return gen_activity(r, p, cfg_sizes["act"])
    if fmt == "agr":
        return gen_agreement(r, p, cfg_sizes["agr"])
    if fmt == "lst":
        return gen_list(r, p, cfg_sizes["lst"])
    return gen_prose(r, p, cfg_sizes["prs"])


def _write_chunk(args) -> tuple[collections.Counter, int, list[str]]:
    jobs, seed, sizes, dest = args
    counts: collections.Counter = collections.Counter()
    nbytes = 0
    names = []
    for fmt, i in jobs:
        text = _file_text(fmt, i, seed, sizes, counts)
        name = f"{fmt}_{i:06d}.txt"
        data = text.encode("utf-8")
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)
        nbytes += len(data)
        names.append(name)
    return counts, nbytes, names


def renkei_parser():
    """renkei's own parser as ``path -> list of passages``, or None while it is not importable.

    ``indexer.parse.parse_file`` when it exists; else the same pieces ``renkei index`` uses,
    ``indexer.reader.read`` and ``indexer.parse.parse_text`` with the file stem as document id.
    """
    try:
        from indexer.parse import parse_file  # type: ignore

        return parse_file
    except Exception:
        pass
    try:
        from pathlib import Path

        from indexer.parse import parse_text  # type: ignore
        from indexer.reader import read  # type: ignore
    except Exception:
        return None
    try:
        import indexer.metadata  # noqa: F401

        enrich = True
    except Exception:
        enrich = False

    def parse(path):
        path = Path(path)
        _doc, passages = parse_text(read(path), doc_id=path.stem, source=str(path), enrich=enrich)
        return passages

    return parse


def passage_record(p) -> dict:
    """A flat JSON record of a passage: id, title, text, kind, document, municipalities, year."""
    if hasattr(p, "to_dict"):
        d = p.to_dict()
    elif dataclasses.is_dataclass(p):
        d = dataclasses.asdict(p)
    elif isinstance(p, dict):
        d = dict(p)
    else:
        d = {k: v for k, v in vars(p).items() if not k.startswith("_")}
    doc = d.get("document")
    out = {"id": str(d.get("id")), "title": d.get("title") or "", "text": d.get("text") or ""}
    out["kind"] = d.get("kind") or ""
    out["section"] = d.get("section") or ""
    out["document"] = doc.get("id", "") if isinstance(doc, dict) else str(doc or "")
    munis = d.get("municipalities") or []
    out["municipalities"] = [str(m) for m in munis] if isinstance(munis, list | tuple) else [str(munis)]
    years = []
    for date in d.get("dates") or []:
        iso = date.get("iso") or date.get("from") if isinstance(date, dict) else None
        if iso and str(iso)[:4].isdigit():
            years.append(int(str(iso)[:4]))
    out["year"] = min(years) if years else 0
    return out


def _parse_chunk(paths: list[str]) -> list[str]:
    parse_file = renkei_parser()
    lines = []
    for path in paths:
        for p in parse_file(path):
            lines.append(json.dumps(passage_record(p), ensure_ascii=False))
    return lines


def calibrate(cfg: Config, tmp: str) -> dict[str, float]:
    """Passages per file for each format: parse a few sample files if renkei's parser is there."""
    sizes = {
        "act": cfg.items_per_activity,
        "agr": cfg.rows_per_agreement,
        "lst": cfg.rows_per_list,
        "prs": cfg.paras_per_prose,
    }
    structural = {"act": sizes["act"], "agr": sizes["agr"] + 6.5, "lst": sizes["lst"], "prs": sizes["prs"]}
    parse_file = renkei_parser()
    if parse_file is None:
        return {"source": "structural estimate", **structural}
    os.makedirs(tmp, exist_ok=True)
    counts: collections.Counter = collections.Counter()
    per = {}
    for fmt in FORMATS:
        n = 0
        k = 4
        for i in range(k):
            text = _file_text(fmt, 10_000_000 + i, cfg.seed, sizes, counts)  # outside the corpus
            path = os.path.join(tmp, f"{fmt}_calib_{i}.txt")
            open(path, "w", encoding="utf-8").write(text)
            n += len(parse_file(path))
            os.unlink(path)
        per[fmt] = max(1.0, n / k)
    return {"source": "renkei parser on sample files", **per}


def plan(cfg: Config, per_file: dict[str, float]) -> dict[str, int]:
    return {fmt: max(1, math.ceil(cfg.passages * MIX[fmt] / per_file[fmt])) for fmt in FORMATS}


def generate(cfg: Config, log=print) -> dict:
    t0 = time.perf_counter()
    seeds_out = os.path.join(cfg.out, "seeds")
    manifest_path = os.path.join(cfg.out, "manifest.json")
    if os.path.exists(manifest_path):
        m = json.load(open(manifest_path))
        if m.get("config") == dataclasses.asdict(cfg) | {"out": m["config"]["out"]}:
            if m.get("parser_fingerprint") != parser_fingerprint() or m.get("passages") is None:
                names = sorted(os.listdir(seeds_out))
                m["passages"], m["jsonl_parser"] = write_jsonl(cfg, names, log)
                m["parser_fingerprint"] = parser_fingerprint()
                with open(manifest_path, "w", encoding="utf-8") as f:
                    json.dump(m, f, ensure_ascii=False)
            log(f"corpus {cfg.out}: up to date ({m['files']} files, {m.get('passages')} passages)")
            return m
    os.makedirs(seeds_out, exist_ok=True)
    for old in glob.glob(os.path.join(seeds_out, "*")):
        os.unlink(old)
    _init_worker(cfg.seeds_dir, cfg.seed)
    per_file = calibrate(cfg, os.path.join(cfg.out, "calib"))
    files = plan(cfg, per_file)
    log(f"corpus {cfg.out}: {sum(files.values())} files {files} (passages/file: {per_file})")
    sizes = {
        "act": cfg.items_per_activity,
        "agr": cfg.rows_per_agreement,
        "lst": cfg.rows_per_list,
        "prs": cfg.paras_per_prose,
    }
    jobs = [(fmt, i) for fmt in FORMATS for i in range(files[fmt])]
    chunk = max(1, len(jobs) // (cfg.workers * 8) or 1)
    chunks = [(jobs[k : k + chunk], cfg.seed, sizes, seeds_out) for k in range(0, len(jobs), chunk)]
    counts: collections.Counter = collections.Counter()
    nbytes = 0
    names: list[str] = []
    if cfg.workers > 1:
        with mp.get_context("fork").Pool(cfg.workers, _init_worker, (cfg.seeds_dir, cfg.seed)) as pool:
            for c, b, n in pool.imap(_write_chunk, chunks):
                counts.update(c)
                nbytes += b
                names += n
    else:
        for args in chunks:
            c, b, n = _write_chunk(args)
            counts.update(c)
            nbytes += b
            names += n
    t_gen = time.perf_counter() - t0
    log(f"  wrote {len(names)} files, {nbytes / 1e6:.1f} MB in {t_gen:.1f}s")

    n_passages, parser = write_jsonl(cfg, names, log)

    # vocabulary growth and the emitted words (for choosing queries)
    by_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (cls, w), c in counts.items():
        by_class[cls][w] += c
    lex = _W["lex"]
    emitted = {}
    for cls, ctr in by_class.items():
        rows = []
        for w, c in sorted(ctr.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append([w, c, kata_to_hira(lex.reading(cls, w)) if cls in ("place", "country") else ""])
        emitted[cls] = rows
    m = {
        "config": dataclasses.asdict(cfg),
        "files": len(names),
        "files_by_format": files,
        "passages_per_file": per_file,
        "bytes": nbytes,
        "passages": n_passages,
        "jsonl_parser": parser,
        "parser_fingerprint": parser_fingerprint(),
        "distinct_words_by_class": {cls: len(v) for cls, v in by_class.items()},
        "distinct_words": sum(len(v) for v in by_class.values()),
        "lexicon": lex.sizes(),
        "seconds": round(time.perf_counter() - t0, 2),
        "emitted": emitted,
    }
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(m, f, ensure_ascii=False)
    log(f"  {m['distinct_words']} distinct slot words; done in {m['seconds']}s")
    return m


def parser_fingerprint() -> str:
    """A hash of renkei's parser sources: passages.jsonl is re-cut when they change."""
    import hashlib

    h = hashlib.sha1()
    for pkg in ("indexer", "search"):
        for path in sorted(glob.glob(os.path.join(REPO, pkg, "*.py"))):
            h.update(path.encode())
            h.update(open(path, "rb").read())
    return h.hexdigest()[:16]


def write_jsonl(cfg: Config, names: list[str], log=print) -> tuple[int | None, str]:
    """OUT/passages.jsonl: the passages as renkei's own parser cuts them (if importable)."""
    seeds_out = os.path.join(cfg.out, "seeds")
    jsonl = os.path.join(cfg.out, "passages.jsonl")
    if not (cfg.jsonl and renkei_parser() is not None):
        if os.path.exists(jsonl):
            os.unlink(jsonl)
        return None, "none"
    t0 = time.perf_counter()
    paths = [os.path.join(seeds_out, n) for n in sorted(names)]
    step = max(1, len(paths) // (cfg.workers * 8) or 1)
    parts = [paths[k : k + step] for k in range(0, len(paths), step)]
    n_passages = 0
    with open(jsonl + ".tmp", "w", encoding="utf-8") as f:
        if cfg.workers > 1:
            with mp.get_context("fork").Pool(cfg.workers) as pool:
                for lines in pool.imap(_parse_chunk, parts):
                    f.write("\n".join(lines) + ("\n" if lines else ""))
                    n_passages += len(lines)
        else:
            for part in parts:
                lines = _parse_chunk(part)
                f.write("\n".join(lines) + ("\n" if lines else ""))
                n_passages += len(lines)
    os.replace(jsonl + ".tmp", jsonl)
    log(f"  parsed with renkei's parser: {n_passages} passages -> {jsonl} ({time.perf_counter() - t0:.1f}s)")
    return n_passages, "renkei indexer.parse"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", "-n", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--seeds-dir", default=DEFAULT_SEEDS)
    ap.add_argument("--items-per-activity", type=int, default=Config.items_per_activity)
    ap.add_argument("--rows-per-agreement", type=int, default=Config.rows_per_agreement)
    ap.add_argument("--rows-per-list", type=int, default=Config.rows_per_list)
    ap.add_argument("--paras-per-prose", type=int, default=Config.paras_per_prose)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-jsonl", action="store_true")
    a = ap.parse_args(argv)
    cfg = Config(
        a.passages,
        os.path.abspath(a.out),
        a.seed,
        a.seeds_dir,
        a.items_per_activity,
        a.rows_per_agreement,
        a.rows_per_list,
        a.paras_per_prose,
        a.workers,
        not a.no_jsonl,
    )
    generate(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
