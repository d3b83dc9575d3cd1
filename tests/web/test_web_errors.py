"""Every error has the one JSON shape under /api, and the right status everywhere."""

from __future__ import annotations

import logging

import pytest

from web import create_app

LONG = "連携" * 501  # 1,002 characters

API_ERRORS = [
    # (method, url, status, code)
    ("GET", "/api/search", 400, "invalid_parameter"),
    ("GET", "/api/search?q=", 400, "invalid_parameter"),
    ("GET", "/api/search?q=%20%E3%80%80", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&page=abc", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&page=0", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&page=-1", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&page=1.5", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&size=abc", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&size=0", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&size=101", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&year_from=x", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&year_from=2020&year_to=2010", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&sort=random", 400, "invalid_parameter"),
    ("GET", "/api/search?q=水道&kind=poem", 400, "invalid_parameter"),
    ("GET", f"/api/search?q={LONG}", 400, "query_too_long"),
    ("GET", "/api/passages/no-such-passage", 404, "not_found"),
    ("GET", "/api/passages/%ff%fe", 404, "not_found"),
    ("GET", "/api/passages/x?neighbours=abc", 400, "invalid_parameter"),
    ("GET", "/api/passages/x?neighbours=11", 400, "invalid_parameter"),
    ("GET", "/api/passages/x?neighbours=-1", 400, "invalid_parameter"),
    ("GET", "/api/nothing-here", 404, "not_found"),
    ("GET", "/api", 404, "not_found"),
    ("GET", "/api/search/", 404, "not_found"),
    ("POST", "/api/search?q=水道", 405, "method_not_allowed"),
    ("PUT", "/api/passages/x", 405, "method_not_allowed"),
    ("DELETE", "/api/health", 405, "method_not_allowed"),
]


def check_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert "charset=utf-8" in response.content_type
    body = response.get_json()
    assert set(body) == {"ok", "error"}
    assert body["ok"] is False
    error = body["error"]
    assert set(error) - {"param"} == {"status", "code", "message"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error


@pytest.mark.parametrize(("method", "url", "status", "code"), API_ERRORS)
def test_api_error_shape(client, method, url, status, code):
    response = client.open(url, method=method)
    error = check_error_shape(response, status, code)
    if status == 405:
        assert "GET" in response.headers["Allow"]
    if code == "query_too_long":
        assert error["param"] == "q"


@pytest.mark.parametrize("url", ["/api/search?q=水道", "/api/health", "/api/passages/anything"])
def test_index_missing_is_503(tmp_path, url):
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none")}).test_client()
    check_error_shape(client.get(url), 503, "index_missing")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/?q=水道&page=abc", 400),
        ("/?q=水道&size=500", 400),
        ("/?q=水道&sort=random", 400),
        (f"/?q={LONG}", 400),
        ("/passages/no-such-passage", 404),
        ("/no/such/page", 404),
    ],
)
def test_page_error_states(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert 'role="alert"' in html
    assert "Traceback" not in html


def test_page_error_keeps_the_query_in_the_form(client):
    html = client.get("/?q=水道&page=abc").get_data(as_text=True)
    assert 'value="水道"' in html
    assert "ページ番号" in html


def test_page_index_missing_is_503(tmp_path):
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none")}).test_client()
    response = client.get("/?q=水道")
    assert response.status_code == 503
    assert "索引" in response.get_data(as_text=True)
    assert client.get("/passages/x").status_code == 503
    assert client.get("/").status_code == 200  # the empty search box needs no index


def test_unexpected_exception_is_a_500_without_traceback(seed_index, caplog):
    app = create_app({"INDEX_DIR": str(seed_index)})

    @app.get("/api/_explode")
    def explode():
        raise RuntimeError("secret internals")

    @app.get("/_explode")
    def explode_page():
        raise RuntimeError("secret internals")

    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="renkei.web"):
        response = client.get("/api/_explode")
    error = check_error_shape(response, 500, "internal_error")
    assert "secret" not in error["message"]
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    page = client.get("/_explode")
    assert page.status_code == 500
    assert "secret internals" not in page.get_data(as_text=True)
