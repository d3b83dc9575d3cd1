"""Search over the seeds through the same function the web layer calls."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.errors import InvalidParameter, NotFound, QueryTooLong
from search.query import parse_query
from search.snippets import snippet


def titles(body):
    return [h["title"] for h in body["hits"]]


def test_library_activity_found(engine):
    body = engine.search("図書館")
    assert body["ok"] and body["total"] >= 1
    assert body["hits"][0]["title"] == "北九州市、下関市図書館等広域利用"
    assert "<mark>図書館</mark>" in body["hits"][0]["snippet"]


def test_compound_word_must_match_as_phrase(engine):
    hits = engine.search("観光振興", size=50)["hits"]
    assert hits and all(re.search(r"観光\s*振興", h["text"] + h["title"]) for h in hits)


def test_and_or_not(engine):
    both = engine.search("観光 誘客", size=100)
    assert both["total"] >= 1
    for hit in both["hits"]:
        assert "観光" in hit["text"] + hit["title"] and "誘客" in hit["text"] + hit["title"]
    either = engine.search("図書館 OR 消防", size=100)
    assert {"北九州市、下関市図書館等広域利用", "消防相互応援協定の締結"} <= set(titles(either))
    without = engine.search("大学 -長崎", size=100)
    assert without["total"] >= 1 and not any("長崎" in h["text"] for h in without["hits"])


def test_phrase_query(engine):
    body = engine.search('"関門地域"', size=100)
    assert body["total"] >= 5
    assert all("関門地域" in h["text"] + h["title"] for h in body["hits"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ｽﾎﾟｰﾂ", "タイ王国スポーツ公社と北九州市のスポーツ連携及び交流に関する覚書"),
        ("asean", "タイ王国工場省工場局との協力協定"),
        ("ＡＳＥＡＮ", "タイ王国工場省工場局との協力協定"),
        ("サポータ", "到津の森公園と海響館との連携"),
        ("取り組んだ", "東アジア経済交流推進機構"),
        ("戰略産業", "イ 戰略産業の育成"),
        ("戦略産業", "イ 戰略産業の育成"),
    ],
)
def test_normalised_matches(engine, query, expected):
    assert expected in titles(engine.search(query, size=20))


def test_pm25_marks_the_full_width_original(engine):
    hit = next(h for h in engine.search("pm2.5")["hits"] if "PM2.5" in h["text"])
    assert "<mark>PM2.5</mark>" in hit["snippet"]


def test_reading_matches_kanji(engine):
    body = engine.search("ふくおか", size=50)
    assert body["total"] >= 10 and any("福岡" in h["text"] for h in body["hits"])
    assert any(h["document"]["id"].startswith("001") for h in engine.search("くるめ")["hits"])


def test_surface_ranks_above_reading(engine):
    kanji = engine.search("福岡", size=5)["hits"][0]
    kana = engine.search("ふくおか", size=5)["hits"][0]
    assert kanji["score"] > kana["score"] > 0


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("2005年", "消防相互応援協定の締結"),  # 平成17年4月1日
        ("平成15年", "福岡市と青島市との経済交流促進に関する覚書"),  # [2003年締結]
        ("平成15年度", "高齢者の公共施設相互利用"),  # 平成15年6月 falls in fiscal 2003
    ],
)
def test_era_dates_cross_calendars(engine, query, title):
    assert title in titles(engine.search(query, size=50))


def test_fiscal_year_is_april_to_march(engine):
    found = titles(engine.search("平成15年度", size=100))
    # 平成15年4月 is in fiscal 2003; 2003年 alone (a whole year) overlaps it too.
    assert "北九州市、下関市図書館等広域利用" in found


def test_year_filter_and_facet(engine):
    body = engine.search("連携 year:2016")
    assert body["total"] >= 1
    assert all(
        "2016" in {d["iso"][:4] for d in h["dates"]} or (h["document"]["date"] or "")[:4] == "2016"
        for h in body["hits"]
    )
    ranged = engine.search("交流 year:2010..2012", size=100)
    assert ranged["total"] >= 1
    years = {f["value"] for f in ranged["facets"]["year"]}
    assert years & {"2010", "2011", "2012"}


def test_field_filters(engine):
    body = engine.search("美術館 municipality:長崎県", size=50)
    assert body["total"] >= 1 and all("長崎県" in h["municipalities"] for h in body["hits"])
    acts = engine.search("観光 kind:activity", size=50)
    assert acts["total"] >= 1 and {h["kind"] for h in acts["hits"]} == {"activity"}
    doc = engine.search("協約 document:001", size=50)
    assert doc["total"] >= 1 and {h["document"]["id"] for h in doc["hits"]} == {"001_395c70cf68c5a730"}


def test_parameter_filters_and_facets_cover_all_results(engine):
    body = engine.search("連携", size=1)
    kinds = {f["value"]: f["count"] for f in body["facets"]["kind"]}
    assert sum(kinds.values()) == body["total"] > 1
    narrowed = engine.search("連携", kind="activity", size=1)
    assert narrowed["total"] == kinds["activity"]
    assert engine.search("連携", year_from=2016, year_to=2016)["total"] <= body["total"]


def test_sort_by_date(engine):
    hits = engine.search("締結", sort="date", size=50)["hits"]
    firsts = [h["dates"][0]["iso"][:4] for h in hits if h["dates"]]
    assert firsts[: len(firsts)] and firsts[0] >= firsts[-1]


def test_ties_are_broken_in_document_order(engine):
    a = engine.search("連携", size=100)
    b = engine.search("連携", size=100)
    assert [h["id"] for h in a["hits"]] == [h["id"] for h in b["hits"]]


def test_pagination(engine):
    first = engine.search("連携", size=5, page=1)
    second = engine.search("連携", size=5, page=2)
    assert first["total"] == second["total"] > 10
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_query_analysis_is_reported(engine):
    body = engine.search("取り組んだ 平成15年 -長崎 kind:activity")
    words = {a["input"]: a for a in body["analysis"]}
    assert words["取り組んだ"]["tokens"][0]["surface"]
    assert words["平成15年"]["date"]["iso"] == "2003"
    assert words["長崎"]["negated"]
    assert {"field": "kind", "value": "activity", "negated": False} in body["filters"]


def test_title_only_match_gets_opening_snippet(engine):
    hit = next(h for h in engine.search("署名", size=50)["hits"] if h["kind"] == "signature")
    assert hit["snippet"]


@pytest.mark.parametrize("query", ['"', "(((", "OR", "NOT", "- -", "a OR", ")", "year:abc 観光", "kind:nope"])
def test_malformed_queries_degrade(engine, query):
    body = engine.search(query)
    assert body["ok"]


def test_errors(engine):
    with pytest.raises(QueryTooLong):
        engine.search("あ" * 1001)
    with pytest.raises(InvalidParameter):
        engine.search("")
    with pytest.raises(InvalidParameter):
        engine.search("観光", size=101)
    with pytest.raises(InvalidParameter):
        engine.search("観光", page="x")
    with pytest.raises(InvalidParameter):
        engine.search("観光", sort="random")
    with pytest.raises(NotFound):
        engine.passage("no-such-id")


def test_passage_with_neighbours(engine):
    hit = engine.search("第3条")["hits"][0]
    body = engine.passage(hit["id"], q="役割")
    assert body["passage"]["id"] == hit["id"]
    assert body["before"] and body["after"]
    assert body["passage"]["highlights"]


def test_health(engine):
    health = engine.health()
    assert health["passages"] > 100 and health["built_at"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_query_parser_never_raises(text):
    parse_query(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(list("観光\"()ORNT -:ａ<>&'年度平成15kindyear") + ["OR", "NOT", " "]), max_size=20
    ).map("".join)
)
def test_engine_never_raises_on_short_queries(engine, text):
    if text.strip():
        assert engine.search(text)["ok"]


class _MarkupChecker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.open = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        assert not attrs
        self.open += 1

    def handle_endtag(self, tag):
        self.tags.append("/" + tag)
        self.open -= 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.lists(st.tuples(st.integers(0, 300), st.integers(0, 40)), max_size=8))
def test_snippets_are_escaped_html_with_only_mark(text, raw_spans):
    spans = [(s, min(len(text), s + n)) for s, n in raw_spans if s < len(text)]
    html = snippet(text, spans)
    checker = _MarkupChecker()
    checker.feed(html)
    checker.close()
    assert set(checker.tags) <= {"mark", "/mark"} and checker.open == 0


@pytest.mark.parametrize("blank", [" ", "\u3000", "\t\n"])
def test_blank_filter_parameters_are_ignored(engine, blank):
    plain = engine.search("鉄道")["total"]
    assert engine.search("鉄道", municipality=blank, document=blank, kind=blank)["total"] == plain


def test_long_and_repeated_queries_are_bounded(engine):
    repeated = engine.search("連携 " * 333)
    assert repeated["total"] == engine.search("連携")["total"]
    many = engine.search(" ".join(f"語{i}" for i in range(200)))
    assert "only the first 32 words of the query are used" in many["notes"]
    phrase = engine.search('"' + "連携 " * 300 + '"')
    assert any("cut to its first" in n for n in phrase["notes"])


def test_law_citations_are_not_dates(engine):
    years = {f["value"] for f in engine.search("連携", size=1)["facets"]["year"]}
    assert "1947" not in years  # 地方自治法（昭和22年法律第67号）


def test_index_of_another_schema_version_is_refused(tmp_path, seeds_dir):
    import json

    from indexer.build import build
    from search import store
    from search.api import Engine
    from search.errors import IndexMissing

    build(seeds_dir, tmp_path)
    info_path = store.current_generation(tmp_path) / store.INFO
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["schema_version"] = -1
    info_path.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(IndexMissing, match="rebuild it"):
        Engine(tmp_path).search("連携")
    assert Engine(tmp_path).warm() is False


def test_an_index_without_passages_answers_with_nothing(tmp_path):
    """Every file of a rebuild may be skipped: the index then has no segment at all."""
    from indexer.build import build
    from search.api import Engine

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "empty.txt").write_text("", encoding="utf-8")
    build(tmp_path / "seeds", tmp_path / "index")
    engine = Engine(tmp_path / "index")
    assert engine.warm() is True
    for q in ["連携", '"連携 協約"', "kind:article 観光", "かんこう*", "-連携"]:
        body = engine.search(q)
        assert body["total"] == 0 and body["hits"] == [] and body["facets"]["kind"] == [], q


def test_warming_loads_what_the_first_search_would(seed_index, tmp_path):
    from search import api

    assert api.Engine(tmp_path / "none").warm() is False
    engine = api.Engine(seed_index)
    assert engine.warm() is True
    assert engine._local.view is None  # the warming thread keeps no searcher open
    shared = api._Generation._current
    assert shared._values is not None
    assert {"text", "text_bigram", "title"} <= set(shared.postings._lengths)
    assert engine.search("連携")["total"] > 0


@pytest.fixture
def two_file_index(tmp_path, seeds_dir):
    """Two seed files in ``tmp_path/seeds``, indexed in ``tmp_path/index``; their folder."""
    import shutil

    from indexer.build import build

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in sorted(p.name for p in seeds_dir.glob("*.txt"))[:2]:
        shutil.copy(seeds_dir / name, seeds / name)
    build(seeds, tmp_path / "index")
    return seeds


def test_a_new_generation_releases_the_old_ones_posting_arrays(tmp_path, two_file_index):
    """The arrays of a generation no longer served are dropped, so their mapped (and, after
    the rebuild, deleted) files are released."""
    from indexer.build import build
    from search import backend
    from search.api import Engine

    seeds = two_file_index
    engine = Engine(tmp_path / "index")
    engine.search("連携")
    old = set(backend._ARRAYS)
    assert old
    build(seeds, tmp_path / "index")
    engine.search("連携")
    assert set(backend._ARRAYS) and not old & set(backend._ARRAYS)


def test_a_search_begun_before_a_switch_still_reads_its_generation(tmp_path, two_file_index):
    """A thread's searcher opened before a rebuild keeps its posting arrays after the rebuild
    deleted the old files and another thread's first search dropped the process's cache."""
    import threading

    from indexer.build import build
    from search import backend, store
    from search.api import Engine

    seeds = two_file_index
    engine = Engine(tmp_path / "index")
    view = engine._view()  # this thread's request has begun
    old = view.gen
    build(seeds, tmp_path / "index")
    assert not old.exists()
    other = threading.Thread(target=engine.search, args=("連携",))
    other.start()
    other.join()
    served = str(store.current_generation(tmp_path / "index"))
    assert backend._ARRAYS and {folder for folder, _ in backend._ARRAYS} == {served}
    for leaf, _ in view.searcher.reader().leaf_readers():
        docs, _weights = backend.leaf_postings(leaf, "text", "連携")
        assert len(docs) > 0


def test_a_generation_deleted_while_it_is_opened_gives_way_to_the_new_one(
    tmp_path, two_file_index, monkeypatch
):
    """Between reading the ``current`` link and opening its generation, a rebuild may switch
    the link and delete that generation: the search opens the one served now."""
    from indexer.build import build
    from search import store
    from search.api import Engine

    seeds = two_file_index
    stale = store.current_generation(tmp_path / "index")
    build(seeds, tmp_path / "index")
    assert not stale.exists()
    real, answers = store.current_generation, [stale]
    monkeypatch.setattr(store, "current_generation", lambda root: answers.pop() if answers else real(root))
    engine = Engine(tmp_path / "index")
    assert engine.search("連携")["total"] > 0
    assert engine._local.view.gen == real(tmp_path / "index")


def test_an_index_missing_its_posting_arrays_is_reported_not_read_as_empty(tmp_path, seeds_dir):
    import shutil

    from indexer.build import build
    from search import segarrays, store
    from search.api import Engine
    from search.errors import IndexMissing

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(seeds_dir / sorted(p.name for p in seeds_dir.glob("*.txt"))[0], seeds)
    build(seeds, tmp_path / "index")
    for arrays in store.current_generation(tmp_path / "index").glob(f"*{segarrays.EXT}"):
        arrays.unlink()
    with pytest.raises(IndexMissing, match="incomplete"):
        Engine(tmp_path / "index").search("連携")


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory):
    """A tiny index of text written the ways the analyzer must see through."""
    from indexer.build import build
    from search.api import Engine

    seeds = tmp_path_factory.mktemp("tiny-seeds")
    (seeds / "news.txt").write_text(
        "大気の話題\n令和元年5月1日\n"
        "市内でＰＭ２．５の濃度が上がり、ｽﾎﾟｰﾂ大会は延期された。\n\n"
        "髙島屋の前で、觀光客が國際交流の催しに参加した。\n\n"
        "観光の振興について、二十三の団体が協議した。\n",
        encoding="utf-8",
    )
    root = tmp_path_factory.mktemp("tiny-index")
    build(seeds, root)
    return Engine(root)


def test_full_width_original_is_marked_whole(tiny_engine):
    for query in ("pm2.5", "PM2.5", "ＰＭ２．５"):
        hit = tiny_engine.search(query)["hits"][0]
        assert "<mark>ＰＭ２．５</mark>" in hit["snippet"], (query, hit["snippet"])
        start, end = hit["highlights"][0]
        assert hit["text"][start:end] == "ＰＭ２．５"


def test_half_width_kana_and_variants_in_the_text(tiny_engine):
    assert "<mark>ｽﾎﾟｰﾂ</mark>" in tiny_engine.search("スポーツ")["hits"][0]["snippet"]
    assert "<mark>髙島屋</mark>" in tiny_engine.search("高島屋")["hits"][0]["snippet"]
    assert tiny_engine.search("国際交流")["total"] == 1
    assert tiny_engine.search("23")["total"] == 1  # 二十三


def test_compound_does_not_match_words_apart(tiny_engine):
    assert tiny_engine.search("観光振興")["total"] == 0
    assert tiny_engine.search("観光 振興")["total"] == 1


def test_prose_paragraphs_carry_the_document_date(tiny_engine):
    body = tiny_engine.search("2019年")
    assert body["total"] == 3  # 令和元年 is 2019, the dateline of every paragraph
    assert {h["document"]["date"] for h in body["hits"]} == {"2019-05-01"}


def test_facets_keep_the_most_frequent_values_and_count_the_rest(engine):
    from collections import Counter

    from search.api import FACET_LIMITS

    body = engine.search("市", size=100)
    assert body["total"] <= 100  # every hit is on this page, so the counts can be checked
    full = Counter(m for hit in body["hits"] for m in hit["municipalities"])
    shown = body["facets"]["municipality"]
    assert len(shown) == min(FACET_LIMITS["municipality"], len(full))
    assert body["facet_values"]["municipality"] == len(full) > len(shown)
    assert [e["count"] for e in shown] == sorted(full.values(), reverse=True)[: len(shown)]
    assert all(full[e["value"]] == e["count"] for e in shown)
    years = [e["value"] for e in body["facets"]["year"]]
    assert years == sorted(years, reverse=True) and len(years) == body["facet_values"]["year"]


def test_a_term_read_for_some_passages_is_still_marked_in_the_others(engine):
    """A term met first as a weaker alternative (read only for passages still unmarked) must
    be read again for the rest when another word asks for it in every passage."""
    from search.lowering import lower
    from search.snippets import spans_in_docs

    searcher = engine._view().searcher
    docs = sorted(searcher.docs_for_query(lower(parse_query("観光 OR 連携").root).query))
    alone = spans_in_docs(searcher, docs, [[("text", ("連携",))]])
    both = spans_in_docs(searcher, docs, [[("text", ("観光",)), ("text", ("連携",))], [("text", ("連携",))]])
    assert any(alone[d] and both[d] != alone[d] for d in docs), "needs a passage with both words"
    for d in docs:
        for s, e in alone[d]:
            assert any(bs <= s and e <= be for bs, be in both[d]), (d, (s, e))


def test_a_segment_with_empty_fields_finds_every_word_after_warm_up(tmp_path):
    """A file without headings or dates leaves whole fields (section, dated_year, ...) without
    terms in its segment; their empty ranges start where the next field's does. Every word
    must still be found, with the lookup samples built at warm-up as in a server."""
    from indexer.build import build
    from search.api import Engine
    from search.backend import segment_arrays

    words = ["図書館", "子育て", "鉄道", "水道", "消防", "観光", "港湾", "農業", "教育", "医療", "防災",
             "環境", "交通", "福祉", "文化", "産業", "人材", "移住", "道路", "河川", "公園", "病院",
             "学校", "空港", "市場", "漁業", "林業", "商店", "温泉", "祭り", "博物館", "美術館",
             "動物園", "水族館", "競技場", "体育館", "図鑑", "辞典", "新聞", "放送"]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "list.txt").write_text(
        "取組一覧\n\n" + "\n\n".join(f"{w}に関する事業を共同で行う。" for w in words) + "\n", encoding="utf-8"
    )
    build(seeds, tmp_path / "index")
    engine = Engine(tmp_path / "index")
    assert engine.warm()
    missing = [w for w in words if engine.search(w)["total"] == 0]
    assert not missing
    searcher = engine._view().searcher
    for leaf, _ in searcher.reader().leaf_readers():
        arrays = segment_arrays(leaf)
        assert any(first == last for f in arrays.fields.values() for first, last in f["ranges"])
        for name, field in arrays.fields.items():
            for first, last in field["ranges"]:
                found = [arrays.term(name, arrays.term_bytes(t)) for t in range(first, last)]
                assert found == list(range(first, last)), name
