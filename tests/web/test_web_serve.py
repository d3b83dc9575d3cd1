"""The production servers: access log, both server choices, and a rebuild while serving."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from web_helpers import raw_get, start_server, stop_server

from web.serve import AccessLog, default_server, logged_uri

NEW_DOC = (
    "◎ぽんぽこ狸まつり共同開催事業\n\n"
    "令和6年度から両市でぽんぽこ狸まつりを共同開催し、観光客の周遊を促進している。\n"
)


def get_json(live, target: str) -> tuple[int, dict]:
    status, _, body = raw_get(live.host, live.port, target)
    return status, json.loads(body)


def test_logged_uri_is_bounded_printable_ascii():
    environ = {"PATH_INFO": "/passages/\xe9\x89\x84", "QUERY_STRING": "q=%E9%89%84&x=\x00\n" + "a" * 1000}
    uri = logged_uri(environ)
    assert uri.isascii() and uri.isprintable()
    assert uri.startswith("/passages/%E9%89%84?q=%E9%89%84&x=%00%0A")
    assert len(uri) <= 303


def test_access_log_middleware(app, caplog):
    from werkzeug.test import Client

    client = Client(AccessLog(app))
    with caplog.at_level("INFO", logger="renkei.access"):
        client.get("/api/search?q=%E9%89%84%E9%81%93").close()  # servers close every response
        client.get("/api/nothing").close()
    lines = [r.getMessage() for r in caplog.records if r.name == "renkei.access"]
    assert re.fullmatch(r"GET /api/search\?q=%E9%89%84%E9%81%93 200 \d+\.\dms", lines[0])
    assert re.fullmatch(r"GET /api/nothing 404 \d+\.\dms", lines[1])


def test_default_server_is_overridable(monkeypatch):
    monkeypatch.setenv("RENKEI_SERVER", "waitress")
    assert default_server() == "waitress"
    monkeypatch.setenv("RENKEI_SERVER", "gunicorn")
    assert default_server() == "gunicorn"


@pytest.mark.parametrize("server", ["waitress", "gunicorn"])
def test_each_server_serves_and_logs(server, seed_index, tmp_path):
    live = start_server(seed_index, tmp_path / "server.log", server=server, workers=2)
    try:
        status, body = get_json(live, "/api/search?q=%E9%89%84%E9%81%93")  # 鉄道
        assert status == 200 and body["total"] > 0
        status, body = get_json(live, "/api/search?q=")
        assert status == 400 and body["error"]["code"] == "invalid_parameter"
        status, headers, page = raw_get(live.host, live.port, "/?q=%E9%89%84%E9%81%93")
        assert status == 200 and "<mark>鉄道</mark>".encode() in page
    finally:
        stop_server(live)
    log = live.log()
    assert server in log
    assert re.search(r"GET /api/search\?q=%E9%89%84%E9%81%93 200 \d+\.\dms", log)
    assert re.search(r"GET /api/search\?q= 400 \d+\.\dms", log)


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_rebuild_while_serving_is_picked_up(server, seeds_dir, tmp_path):
    """A rebuild switches the served index under a running server; requests never fail."""
    from indexer.build import build

    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    index = tmp_path / "index"
    build(seeds, index)
    live = start_server(index, tmp_path / "server.log", server=server, workers=2)
    target = "/api/search?q=%E3%81%BD%E3%82%93%E3%81%BD%E3%81%93%E7%8B%B8"  # ぽんぽこ狸
    try:
        _, before = get_json(live, "/api/health")
        status, body = get_json(live, target)
        assert status == 200 and body["total"] == 0

        (seeds / "900_new.txt").write_text(NEW_DOC, encoding="utf-8")
        failures: list[str] = []
        stop = threading.Event()

        def hammer() -> None:  # keep searching while the rebuild runs and switches
            while not stop.is_set():
                status, _, payload = raw_get(live.host, live.port, "/api/search?q=%E8%A6%B3%E5%85%89")
                if status != 200:
                    failures.append(f"{status} {payload[:200]!r}")

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            build(seeds, index)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not failures

        _, after = get_json(live, "/api/health")
        assert after["generation"] != before["generation"]
        assert after["documents"] == before["documents"] + 1
        # Every worker (process or thread) reopens its searcher: ask more times than there are.
        for _ in range(12):
            status, body = get_json(live, target)
            assert status == 200 and body["total"] >= 1
            assert "ぽんぽこ狸" in body["hits"][0]["title"]
    finally:
        stop_server(live)


def test_serve_is_what_the_cli_calls():
    source = (Path(__file__).resolve().parents[2] / "renkei" / "cli.py").read_text(encoding="utf-8")
    assert "from web.serve import serve" in source
