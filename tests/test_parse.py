"""The corpus model: every seed document becomes well-cut passages with the right metadata."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.build import collect, parse_file
from indexer.parse import parse_text
from indexer.reader import SourceFile
from search.errors import DocumentError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ACTIVITY = "000_6935691670d6d904"
KURUME = "001_395c70cf68c5a730"
YAMAGUCHI = "002_30ef04a37049746b"
PARTNERS = "003_42c12b17bb0a7fc9"
ARTICLE = "004_fca281690e5d815a"


@pytest.fixture(scope="module")
def corpus():
    passages, report = collect(SEEDS)
    by_doc: dict[str, list] = {}
    for p in passages:
        by_doc.setdefault(p.document.id, []).append(p)
    return by_doc, report


def of_kind(passages, kind):
    return [p for p in passages if p.kind == kind]


def test_five_documents(corpus):
    by_doc, report = corpus
    assert report.documents == 5 and not report.skipped
    assert sorted(by_doc) == [ACTIVITY, KURUME, YAMAGUCHI, PARTNERS, ARTICLE]


def test_activity_list(corpus):
    items = corpus[0][ACTIVITY]
    assert [p.kind for p in items] == ["activity"] * 24
    sections = [p.section for p in items]
    # The excerpt opens inside a section whose heading is not part of it.
    assert sections[:2] == ["", ""]
    assert Counter(sections[2:]) == {
        "②経済活動における連携": 5,
        "③教育文化活動における連携": 7,
        "④交通環境における連携": 2,
        "⑤行政間における連携": 4,
        "⑥生活関連機能サービスにおける連携": 4,
    }
    library = next(p for p in items if "図書館" in p.title)
    assert library.title == "北九州市、下関市図書館等広域利用"
    assert library.section == "③教育文化活動における連携"
    assert library.text.startswith("平成15年4月より")
    assert items[0].document.title == "北九州市・下関市の連携事業（関門地域）"  # from catalog.toml


def test_partnership_list(corpus):
    rows = corpus[0][PARTNERS]
    assert [p.kind for p in rows] == ["list_row"] * 43
    assert Counter(p.fields["自治体名"] for p in rows) == {
        "北九州市": 8,
        "福岡市": 14,
        "長崎県": 17,
        "佐賀県有田町": 1,
        "佐賀県鹿島市": 1,
        "熊本県御船町": 1,
        "熊本県・熊本市": 1,
    }
    for p in rows:
        assert set(p.fields) >= {"自治体名", "協定名", "協定締結先", "分野", "概要"}
        assert p.title == p.fields["協定名"]
    arita = next(p for p in rows if p.fields["自治体名"] == "佐賀県有田町")
    assert arita.fields["URL"] == "http://www.town.arita.lg.jp/site/kokusai/d_03.html"
    assert rows[0].document.title == "姉妹友好都市以外の提携リスト"
    assert rows[0].document.date == "2016-09"


def test_kurume_agreement(corpus):
    passages = corpus[0][KURUME]
    doc = passages[0].document
    assert doc.title == "久留米広域連携中枢都市圏形成に係る連携協約"
    assert doc.parties == [{"name": "久留米市", "role": "甲"}, {"name": "小郡市", "role": "乙"}]
    assert doc.date == "2016-02-23"
    assert len(of_kind(passages, "preamble")) == 1
    articles = of_kind(passages, "article")
    assert [a.section for a in articles] == [
        "第1条（目的）",
        "第2条（基本方針）",
        "第3条（連携する取組及び役割分担）",
        "第4条（会議）",
        "第5条（協議）",
    ]
    assert articles[0].text.startswith("（目的）\n第1条 この協約は")
    signature = of_kind(passages, "signature")
    assert len(signature) == 1 and "久留米市長 梶原利則" in signature[0].text
    assert signature[0].dates[0]["iso"] == "2016-02-23"
    rows = of_kind(passages, "table_row")
    assert len(rows) == 13
    for row in rows:
        assert row.fields.keys() == {"取組の内容", "甲の役割", "乙の役割"}
        assert all(row.fields.values())
    assert rows[4].section == "別表 > (2) 高次の都市機能の集積・強化に関する取組"
    assert rows[7].section.endswith("> ① 生活機能の強化に係る分野")


def test_yamaguchi_agreement(corpus):
    passages = corpus[0][YAMAGUCHI]
    assert passages[0].document.title == "山口県央連携都市圏域形成に係る連携協約"
    assert len(of_kind(passages, "article")) == 6
    rows = of_kind(passages, "table_row")
    labels = [row.fields["取組"].split()[0] for row in rows]
    assert labels == list("アイウエオ") + list("アイウエ") + list("アイウエオカ") + list("アイウ") + ["ア"]
    for row in rows:
        assert row.fields["両市の役割"]
    # Tails that a page break left on their own lines are joined back to their row.
    other = rows[8]
    assert other.fields["取組"] == "エ その他"
    assert "圏域における高次の都市機能の集積・強化に係る施策に取り組む。" in other.fields["両市の役割"]
    assert rows[4].fields["両市の役割"].endswith("両市が相互に連携・協力して、取組を推進する。")
    assert (
        rows[15].section
        == "別表 > 3 圏域全体の生活関連機能サービスの向上 > (2) 結びつきやネットワークの強化に係る政策分野"
    )


def test_article_kept_once(corpus):
    passages = corpus[0][ARTICLE]
    texts = [re.sub(r"\s", "", p.text) for p in passages]
    assert len(texts) == len(set(texts))
    joined = "\n".join(p.text for p in passages)
    assert joined.count("1979年に友好都市として提携しました") == 1
    assert joined.count("松江拓尚・同副所長(右1)") == 1
    assert passages[0].document.title == "地方自治体国際交流最前線3-北九州市大連事務所-"
    assert passages[0].document.date == "2025-08-27"
    assert {p.kind for p in passages} == {"paragraph"}
    assert any(p.section == "(設立の背景)" for p in passages)


def test_no_markup_or_headers_in_text(corpus):
    headers = {"取組の内容\t甲の役割\t乙の役割", "自治体名\t協定名"}
    for passages in corpus[0].values():
        for p in passages:
            assert p.text.strip()
            for bad in ("<p>", "</p", "<a ", "|---", "###", "\t"):
                assert bad not in p.text, (p.id, bad)
            assert not any(h in p.text for h in headers)


def test_ids_are_stable_and_unique(corpus):
    ids = [p.id for ps in corpus[0].values() for p in ps]
    assert len(ids) == len(set(ids))
    again, _ = collect(SEEDS)
    assert [p.id for p in again] == [p.id for ps in corpus[0].values() for p in ps]


def test_dates_and_municipalities(corpus):
    by_doc = corpus[0]
    library = next(p for p in by_doc[ACTIVITY] if "図書館" in p.title)
    assert library.dates[0]["iso"] == "2003-04"
    newsletter = next(p for p in by_doc[ACTIVITY] if p.title == "広報紙における連携")
    assert newsletter.dates[0]["iso"] == "2002" and newsletter.dates[0]["fiscal"]
    preamble = of_kind(by_doc[KURUME], "preamble")[0]
    assert {"久留米市", "小郡市"} <= set(preamble.municipalities)
    assert "北九州市" in by_doc[PARTNERS][0].municipalities


# Shift_JIS as written by Windows is CP932 (strict JIS X 0208 has no ①); EUC-JP likewise.
@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "euc_jis_2004"])
def test_reencoded_seeds_give_identical_passages(tmp_path, encoding, corpus):
    for path in SEEDS.glob("*.txt"):
        (tmp_path / path.name).write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    shutil.copy(SEEDS / "catalog.toml", tmp_path / "catalog.toml")
    passages, report = collect(tmp_path)
    assert report.documents == 5
    expected = [p for ps in corpus[0].values() for p in ps]
    assert [(p.id, p.text, p.section, p.title) for p in passages] == [
        (p.id, p.text, p.section, p.title) for p in expected
    ]


def test_bad_file_is_skipped_and_named(tmp_path):
    shutil.copy(SEEDS / f"{ACTIVITY}.txt", tmp_path)
    (tmp_path / "broken.txt").write_bytes(bytes(range(0x80, 0x100)) * 20)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("隠しファイル", encoding="utf-8")
    passages, report = collect(tmp_path)
    assert report.documents == 1 and len(passages) == 24
    assert [s.path.name for s in report.skipped] == ["broken.txt"]
    assert "decoded" in report.skipped[0].reason
    assert [s.path.name for s in report.ignored] == ["image.png"]
    with pytest.raises(DocumentError, match="broken.txt"):
        collect(tmp_path, strict=True)


def test_csv_partnership_list(tmp_path, corpus):
    import csv

    src = (SEEDS / f"{PARTNERS}.txt").read_text(encoding="utf-8")
    with open(tmp_path / "list.csv", "w", encoding="cp932", newline="", errors="replace") as fh:
        writer = csv.writer(fh)
        for line in src.split("\n"):
            writer.writerow(line.split("\t") if line else [])
    _, passages = parse_file(SourceFile(tmp_path / "list.csv", "list"))
    assert len(passages) == 43
    assert [p.fields.get("協定名") for p in passages] == [p.fields["協定名"] for p in corpus[0][PARTNERS]]


def test_markdown_pipe_table(tmp_path):
    md = (
        "# 連携協約書\n\n甲市（以下「甲」という。）と乙町（以下「乙」という。）は協約を締結する。\n\n"
        "（目的）\n第1条 目的を定める。\n\n別表（第1条関係）\n\n## 1 観光\n\n| 取組 | 役割 |\n|---|---|\n"
        "| ア 観光振興 | 観光の振興に取り組む。 |\n"
    )
    (tmp_path / "a.md").write_text(md, encoding="utf-8")
    _, passages = parse_file(SourceFile(tmp_path / "a.md", "a"))
    rows = of_kind(passages, "table_row")
    assert [r.fields for r in rows] == [{"取組": "ア 観光振興", "役割": "観光の振興に取り組む。"}]
    assert rows[0].section == "別表 > 1 観光"


def _drawn_from(source: str, passage) -> bool:
    squashed = re.sub(r"\s", "", source)
    # A page-break fragment adds a piece, and so does each row that continues a table cell
    # (a first cell left empty), wherever it stands.
    allowed = 2 + sum(1 for line in source.split("\n") if line.startswith("\t"))
    for line in passage.text.split("\n"):
        for name in passage.fields:
            if line.startswith(f"{name}："):
                line = line[len(name) + 1 :]
                if name == "自治体名":
                    line = "自治体名：" + line
                break
        # A list's 自治体名 may name several municipalities, joined with ・ (熊本県・熊本市).
        parts = line[5:].split("・") if line.startswith("自治体名：") else [line]
        if any(_pieces(re.sub(r"\s", "", part), squashed) > allowed for part in parts):
            return False
    return True


def _pieces(line: str, source: str) -> int:
    """How many source substrings the line is made of (a page-break fragment adds one)."""
    count, i = 0, 0
    while i < len(line):
        j = len(line)
        while j > i and line[i:j] not in source:
            j -= 1
        if j == i:
            return 99
        count, i = count + 1, j
    return count


def test_seed_passages_are_drawn_from_their_source(corpus):
    import html

    for doc_id, passages in corpus[0].items():
        source = html.unescape(
            re.sub(r"</?p>?|<[^>]+>", "", (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8"))
        )
        source = re.sub(r"(?m)^#+\s*|^- ", "", source)
        for p in passages:
            assert _drawn_from(source, p), p.id


_japanese = st.text(
    alphabet=st.sampled_from(
        list("第1条（目的）◎①②別表取組甲乙の役割\t\n 。、市町村平成28年<p>|-#アイウ\u3000ａ１")
    )
    | st.characters(),
    max_size=400,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_japanese)
def test_parsing_arbitrary_text_never_raises(text):
    _, passages = parse_text(text, doc_id="x", source="x.txt", enrich=False)
    for p in passages:
        assert p.text.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "第1条 目的を定める。",
                "（目的）",
                "◎観光の連携",
                "②経済活動における連携",
                "別表（第3条関係）",
                "取組\t両市の役割",
                "ア 観光\t観光に取り組む。",
                "\tおける施策に取り組む。",
                "自治体名\t協定名\t分野",
                "北九州市\t覚書\t環境",
                "",
                "平成28年2月23日",
                "この協約の締結を証するため、本書を作成する。",
                "<p>地域の振興を図る。</p>",
                "| 取組 | 役割 |",
                "|---|---|",
                "### 見出し",
                "本文の段落です。",
            ]
        ),
        max_size=30,
    )
)
def test_passages_are_drawn_from_source(lines):
    text = "\n".join(lines)
    _, passages = parse_text(text, doc_id="x", source="x.txt", enrich=False)
    source = re.sub(r"<[^>]*>?|#|\|", "", text)
    for p in passages:
        assert _drawn_from(source, p), (p.kind, p.text)


def test_a_block_s_key_drops_what_re_calls_whitespace():
    """Repeated blocks are found by their text without whitespace, cut by ``str.split``:
    the same characters as ``\\s`` (a space of any width, tabs, line and paragraph breaks)."""
    from indexer.parse import _line_key

    spaces = "".join(chr(c) for c in range(0x110000) if re.match(r"\s", chr(c)))
    assert all(c.isspace() for c in spaces) and len(spaces) > 20
    others = "".join(chr(c) for c in range(0x3100) if not re.match(r"\s", chr(c)) and chr(c).isprintable())
    assert _line_key(f"{spaces}連携{spaces}協約{spaces}") == "連携協約"
    assert _line_key(others) == others
