"""The production servers: access log, both server choices, and a rebuild while serving."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from web_helpers import raw_get, start_server, stop_server

import web.serve
from web.serve import AccessLog, _Loads, default_server, logged_uri

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
    monkeypatch.setenv("RENKEI_SERVER", "granian")
    assert default_server() == "granian"
    monkeypatch.delenv("RENKEI_SERVER")
    assert default_server() == "granian"  # installed with renkei: measured fastest


@pytest.mark.parametrize("server", ["granian", "waitress", "gunicorn"])
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


def test_a_worker_holds_at_most_one_connection_more_than_the_least_loaded_live_one():
    loads = _Loads(3)
    assert loads.limit(0, 5, 1000) == 1000  # nobody else has beaten yet
    assert loads.limit(1, 2, 1000) == 6
    assert loads.limit(2, 3, 1000) == 3  # the least loaded other holds 2
    assert loads.limit(0, 5, 4) == 3 and loads.limit(1, 2, 2) == 2  # capped by the config
    loads.beats[1] = time.monotonic() - _Loads.STALE - 1  # worker 1 died
    assert loads.limit(0, 5, 1000) == 4


def test_a_replacement_worker_takes_the_slot_of_the_worker_it_replaces(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(web.serve, "_LOADS", _Loads(2))
    arbiter = SimpleNamespace(WORKERS={})
    first, second, third, extra = (SimpleNamespace() for _ in range(4))
    for pid, worker in ((1, first), (2, second)):
        web.serve._pre_fork(arbiter, worker)
        arbiter.WORKERS[pid] = worker
    assert (first.renkei_slot, second.renkei_slot) == (0, 1)
    web.serve._LOADS.limit(0, 7, 1000)
    web.serve._child_exit(arbiter, arbiter.WORKERS.pop(1))
    assert web.serve._LOADS.limit(1, 3, 1000) == 1000  # the dead worker's count is gone
    web.serve._pre_fork(arbiter, third)
    arbiter.WORKERS[3] = third
    assert third.renkei_slot == 0
    web.serve._pre_fork(arbiter, extra)  # more workers than slots (gunicorn's TTIN)
    assert extra.renkei_slot is None


def _socket_count(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:  # closed meanwhile
            pass
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts sockets through /proc")
def test_gunicorn_workers_share_keep_alive_connections(seed_index, tmp_path):
    """Eight keep-alive clients arriving together end up four on each of the two workers
    (with one shared listening socket, whichever worker woke first used to take them all)."""
    live = start_server(seed_index, tmp_path / "server.log", server="gunicorn", workers=2)
    clients = []
    try:
        pid = live.process.pid
        deadline = time.monotonic() + 20
        while True:  # the port answers once the first worker is up; the second may still be forking
            workers = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            if len(workers) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(workers) == 2
        time.sleep(1.5)  # every worker has checked in (its loop beats at least once a second)
        before = {w: _socket_count(w) for w in workers}
        for _ in range(8):
            client = http.client.HTTPConnection(live.host, live.port, timeout=30)
            client.request("GET", "/api/search?q=%E9%89%84%E9%81%93")
            assert client.getresponse().read()
            clients.append(client)
        time.sleep(0.2)
        assert sorted(_socket_count(w) - before[w] for w in workers) == [4, 4]
    finally:
        for client in clients:
            client.close()
        stop_server(live)


@pytest.mark.parametrize("server", ["granian", "gunicorn", "waitress"])
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
