"""The JSON endpoints: bodies, UTF-8, parameters passed through to the engine."""

from __future__ import annotations

import html
import json
import re

import pytest

from search.api import Engine


def test_search_returns_the_engine_body(client, engine: Engine):
    response = client.get("/api/search?q=水道&size=5")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "charset=utf-8" in response.content_type
    raw = response.get_data()
    assert "水道".encode() in raw  # ensure_ascii=False: no \\u escapes
    assert b"\\u6c34" not in raw
    body = response.get_json()
    expected = engine.search("水道", size="5")
    body.pop("took_ms"), expected.pop("took_ms")
    assert body == expected
    assert body["ok"] is True and body["size"] == 5 and len(body["hits"]) <= 5


def test_search_keys_and_hit_shape(client):
    body = client.get("/api/search?q=観光").get_json()
    for key in ("ok", "query", "parsed", "analysis", "filters", "notes", "total", "page", "size", "pages",
                "sort", "took_ms", "hits", "facets"):
        assert key in body
    assert body["total"] > 0
    hit = body["hits"][0]
    for key in ("id", "score", "title", "section", "kind", "text", "snippet", "highlights", "dates",
                "municipalities", "fields", "document"):
        assert key in hit
    assert set(body["facets"]) == {"municipality", "kind", "document", "year"}


def test_filters_and_paging_are_passed_through(client):
    base = client.get("/api/search?q=連携&size=3").get_json()
    assert base["pages"] >= 2
    second = client.get("/api/search?q=連携&size=3&page=2").get_json()
    assert second["page"] == 2
    assert {h["id"] for h in second["hits"]}.isdisjoint(h["id"] for h in base["hits"])
    kind = base["facets"]["kind"][0]
    narrowed = client.get(f"/api/search?q=連携&kind={kind['value']}").get_json()
    assert narrowed["total"] == kind["count"]
    assert all(h["kind"] == kind["value"] for h in narrowed["hits"])
    by_date = client.get("/api/search?q=連携&sort=date").get_json()
    assert by_date["sort"] == "date"


def test_snippets_hold_only_escaped_text_and_mark_tags(client):
    """The claim the search page relies on to render snippets with |safe."""
    queries = ["水道", "観光 連携", "北九州市", "<script>", '"消防相互応援"', "協約 OR 協定", "連携 -観光",
               "a&b"]
    seen = 0
    for q in queries:
        for page in (1, 2):
            body = client.get("/api/search", query_string={"q": q, "page": page, "size": 100}).get_json()
            for hit in body.get("hits", []):
                seen += 1
                bare = re.sub(r"</?mark>", "", hit["snippet"])
                assert "<" not in bare and ">" not in bare, hit["snippet"]
                flat = re.sub(r"\s+", "", hit["text"])
                for piece in html.unescape(bare).split("…"):
                    assert re.sub(r"\s+", "", piece) in flat, (piece, hit["text"])
    assert seen > 50


def test_passage_with_neighbours_and_highlights(client):
    hit = client.get("/api/search?q=消防").get_json()["hits"][0]
    body = client.get(f"/api/passages/{hit['id']}?q=消防").get_json()
    assert body["ok"] is True
    passage = body["passage"]
    assert passage["id"] == hit["id"]
    assert passage["highlights"], "q should mark the passage's terms"
    for start, end in passage["highlights"]:
        assert "消防" in passage["text"][start:end]
    assert body["before"] or body["after"]
    plain = client.get(f"/api/passages/{hit['id']}").get_json()
    assert plain["passage"]["highlights"] == []


def test_passage_neighbours_parameter(client):
    hit = client.get("/api/search?q=消防").get_json()["hits"][0]
    none = client.get(f"/api/passages/{hit['id']}?neighbours=0").get_json()
    assert none["before"] == [] and none["after"] == []
    wide = client.get(f"/api/passages/{hit['id']}?neighbours=10").get_json()
    assert len(wide["before"]) + len(wide["after"]) > 4


def test_api_doctests():
    import doctest

    import web.api

    failures, tested = doctest.testmod(web.api)
    assert tested > 0 and failures == 0


def test_health(client, engine):
    body = client.get("/api/health").get_json()
    assert body["ok"] is True and body["passages"] > 0
    assert body == json.loads(json.dumps(engine.health()))


@pytest.mark.parametrize("url", ["/api/search?q=水道", "/api/health", "/"])
def test_security_headers(client, url):
    headers = client.get(url).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_head_and_options_work(client):
    assert client.head("/api/search?q=水道").status_code == 200
    assert client.options("/api/search").status_code == 200


def test_render_doctests():
    import doctest

    import web.render

    failures, tested = doctest.testmod(web.render)
    assert tested > 0 and failures == 0


def test_cli_health(runner):
    result = runner.invoke(args=["health"])
    assert result.exit_code == 0
    assert json.loads(result.output)["ok"] is True
