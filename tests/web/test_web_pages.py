"""The server-rendered pages, through Flask's test client (no JavaScript involved)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from web import create_app


class Links(HTMLParser):
    """Collects the hrefs of <a> elements, with the class and text of each."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = dict(attrs) | {"text": ""}
            self.links.append(self._open)

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data


def links(html: str) -> list[dict]:
    parser = Links()
    parser.feed(html)
    return parser.links


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def test_home_has_a_labelled_autofocused_search_box(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert re.search(r'<label for="q"[^>]*>', html)
    assert re.search(r'<input type="search" id="q" name="q" value="" autofocus', html)
    assert '<label for="sort">' in html
    assert 'name="viewport"' in html
    assert "style.css" in html


def test_stylesheet_has_a_japanese_font_stack(client):
    css = client.get("/static/style.css").get_data(as_text=True)
    fonts = ('"Hiragino Sans"', '"Noto Sans JP"', '"IPAexGothic"', '"IPAGothic"', '"Yu Gothic"', "Meiryo")
    for font in fonts:
        assert font in css
    assert "@media" in css


def test_tetsudo_finds_the_kanmon_city_train(client):
    html = client.get("/?q=鉄道").get_data(as_text=True)
    assert "関門シティ電車運行実現期成同盟会" in html
    assert "<mark>鉄道</mark>" in html
    hit = next(a for a in links(html) if "関門シティ電車" in a["text"])
    assert hit["href"].startswith("/passages/")
    assert query_of(hit["href"]) == {"q": "鉄道"}


def test_results_show_count_time_meta_and_analysis(client):
    html = client.get("/?q=消防").get_data(as_text=True)
    assert re.search(r'<strong class="total">\d+</strong> 件', html)
    assert "ms）" in html
    assert '<details class="analysis">' in html
    assert "<th scope=\"col\">読み</th>" in html
    assert 'class="doc"' in html and 'class="kind"' in html
    assert '<ol class="hits"' in html


def test_facet_links_refine_and_chips_remove(client):
    html = client.get("/?q=連携").get_data(as_text=True)
    total = int(re.search(r'<strong class="total">([\d,]+)</strong>', html).group(1).replace(",", ""))
    facet = next(a for a in links(html) if "municipality=" in a.get("href", "") and "page=" not in a["href"])
    params = query_of(facet["href"])
    assert params["q"] == "連携"
    refined = client.get(facet["href"]).get_data(as_text=True)
    count = int(re.search(r'<strong class="total">([\d,]+)</strong>', refined).group(1).replace(",", ""))
    assert count < total
    chip = next(a for a in links(refined) if "chip" in (a.get("class") or ""))
    assert params["municipality"] in chip["text"]
    assert "municipality" not in query_of(chip["href"])
    assert f'name="municipality" value="{params["municipality"]}"' in refined  # kept by a new search


def test_year_facet_sets_a_range_and_its_chip_clears_it(client):
    html = client.get("/?q=連携").get_data(as_text=True)
    year_links = [a for a in links(html) if "year_from=" in a.get("href", "")]
    if not year_links:
        pytest.skip("the seeds index has no years for this query")
    params = query_of(year_links[0]["href"])
    assert params["year_from"] == params["year_to"]
    refined = client.get(year_links[0]["href"]).get_data(as_text=True)
    chip = next(a for a in links(refined) if "chip" in (a.get("class") or ""))
    assert "year_from" not in query_of(chip["href"]) and "year_to" not in query_of(chip["href"])


def test_pagination(client):
    html = client.get("/?q=連携&size=5").get_data(as_text=True)
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S).group(0)
    assert 'aria-current="page"' in nav
    nxt = next(a for a in links(nav) if a.get("rel") == "next")
    assert query_of(nxt["href"]) == {"q": "連携", "size": "5", "page": "2"}
    second = client.get(nxt["href"]).get_data(as_text=True)
    assert 'rel="prev"' in second
    assert '<ol class="hits" start="6">' in second


def test_page_past_the_end_says_so(client):
    response = client.get("/?q=連携&page=999")
    assert response.status_code == 200
    assert "このページには結果がありません" in response.get_data(as_text=True)


def test_empty_state_echoes_the_query_escaped(client):
    q = "ぬぬぬぬぬ<b>ぽ</b>"
    html = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert "見つかりませんでした" in html
    assert "ぬぬぬぬぬ&lt;b&gt;ぽ&lt;/b&gt;" in html
    assert "<b>ぽ</b>" not in html


@pytest.mark.parametrize("q", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'\"&<>"])
def test_query_markup_is_escaped_everywhere(client, q):
    html = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert "<script" not in html and "<img" not in html
    assert q not in html


def test_passage_page_marks_terms_and_lists_neighbours(client):
    hit = client.get("/api/search?q=消防").get_json()["hits"][0]
    html = client.get(f"/passages/{hit['id']}?q=消防").get_data(as_text=True)
    assert "<mark>消防</mark>" in html
    assert 'class="neighbours"' in html
    assert "検索結果" in html  # the way back
    assert hit["document"]["title"] in html
    own = f"/passages/{hit['id']}"
    others = [a for a in links(html) if a["href"].startswith("/passages/") and not a["href"].startswith(own)]
    neighbour = others[0]
    assert client.get(neighbour["href"]).status_code == 200


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    """An index of a document full of markup, to check that document text is escaped."""
    from indexer.build import build

    seeds = tmp_path_factory.mktemp("hostile-seeds")
    (seeds / "evil.txt").write_text(
        "悪意<script>alert('x')</script>の文書\n\n"
        "◎観光<b>連携</b>事業\n\n"
        "平成28年4月から<img src=x onerror=alert(1)>観光の連携を&amp;進めている。\"引用\"と'引用'。\n",
        encoding="utf-8",
    )
    root = tmp_path_factory.mktemp("hostile-index")
    build(seeds, root)
    return create_app({"TESTING": True, "INDEX_DIR": str(root)}).test_client()


def test_document_markup_is_escaped(hostile_client):
    html = hostile_client.get("/?q=観光").get_data(as_text=True)
    assert "<mark>観光</mark>" in html
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img" in html
    pid = hostile_client.get("/api/search?q=観光").get_json()["hits"][0]["id"]
    page = hostile_client.get(f"/passages/{pid}?q=観光").get_data(as_text=True)
    assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "&amp;進めている" in page  # a bare & in the text is escaped
    assert "悪意&lt;script&gt;" in page  # and so is the document title
