"""A small load test of ``renkei serve``: requests/s of each WSGI server on an index.

Starts ``renkei serve`` on a free loopback port with each server in turn, then drives it with
``--clients`` keep-alive connections (one selector loop, so the client stays cheap) sending a
mix of searches, pages, passages and health checks. Bounded in time and in request count::

    python -m web.loadtest --index var/index --clients 8 --duration 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from web.serve import SERVERS

QUERIES = ["水道", "観光 連携", "消防", "鉄道", "北九州市", "連携協約", "子育て", "環境", '"消防相互応援"',
           "協約 OR 協定", "連携 -観光", "下関市", "医療", "図書館", "人材育成", "経済", "交流", "防災",
           "産業振興", "圏域", "姉妹都市", "大連", "ごみ処理", "救急", "移住", "農業", "港湾", "教育",
           "かんこう", "平成28年"]
MAX_REQUESTS = 200_000


def request_mix(base_ids: list[str], seed: int = 7, count: int = 2000) -> list[bytes]:
    """Request targets: 70% API searches, 15% search pages, 10% passages, 5% health."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        roll = rng.random()
        params = {"q": rng.choice(QUERIES), "page": rng.choice([1, 1, 1, 2, 3]),
                  "size": rng.choice([10, 10, 20])}
        if rng.random() < 0.2:
            params["sort"] = "date"
        if roll < 0.70:
            out.append("/api/search?" + urlencode(params))
        elif roll < 0.85:
            out.append("/?" + urlencode(params))
        elif roll < 0.95 and base_ids:
            out.append(f"/api/passages/{rng.choice(base_ids)}?" + urlencode({"q": params["q"]}))
        else:
            out.append("/api/health")
    return [t.encode() for t in out]


def drive(host: str, port: int, targets: list[bytes], clients: int, duration: float) -> dict:
    """Closed loop: each client sends its next request when the previous answer is complete."""
    sel = selectors.DefaultSelector()
    state = {}
    done = errors = 0
    latencies: list[float] = []
    cursor = 0

    def send(sock):
        nonlocal cursor
        target = targets[cursor % len(targets)]
        cursor += 1
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
        state[sock] = [b"", time.perf_counter()]

    for _ in range(clients):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel.register(sock, selectors.EVENT_READ)
        send(sock)
    started = time.perf_counter()
    while time.perf_counter() - started < duration and done < MAX_REQUESTS:
        for key, _ in sel.select(timeout=1.0):
            sock = key.fileobj
            chunk = sock.recv(262144)
            if not chunk:
                raise RuntimeError("server closed a keep-alive connection")
            state[sock][0] += chunk
            data = state[sock][0]
            head_end = data.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = data[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            if len(data) < head_end + 4 + length:
                continue
            status = int(head.split(" ", 2)[1])
            errors += status >= 500
            done += 1
            latencies.append(time.perf_counter() - state[sock][1])
            send(sock)
    elapsed = time.perf_counter() - started
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    latencies.sort()
    pick = lambda p: round(latencies[int((len(latencies) - 1) * p)] * 1000, 1)  # noqa: E731
    return {"requests": done, "errors": errors, "seconds": round(elapsed, 1), "rps": round(done / elapsed, 1),
            "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants (Linux /proc), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_server(server: str, index: Path, workers: int | None, clients: int, duration: float) -> dict:
    port = free_port()
    cmd = [sys.executable, "-m", "renkei", "serve", "--host", "127.0.0.1", "--port", str(port), "--index",
           str(index)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, RENKEI_SERVER=server)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                url = base + "/api/search?q=%E9%80%A3%E6%90%BA&size=50"  # 連携
                with urllib.request.urlopen(url, timeout=2) as response:
                    ids = [h["id"] for h in json.load(response)["hits"]]
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{server} did not start")
        targets = request_mix(ids)
        drive("127.0.0.1", port, targets, clients, min(2.0, duration))  # warm-up
        cpu_before = cpu_seconds(proc.pid)
        result = drive("127.0.0.1", port, targets, clients, duration)
        cpu = cpu_seconds(proc.pid) - cpu_before
        result["server_cpu_ms_per_req"] = round(cpu * 1000 / max(result["requests"], 1), 2)
        result["load_avg"] = round(os.getloadavg()[0], 1)
        return {"server": server, "workers": workers, **result}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=Path(os.environ.get("RENKEI_INDEX", "var/index")))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--server", action="append", choices=SERVERS)
    ap.add_argument("--workers", type=int, action="append", help="workers to try (repeatable)")
    ap.add_argument("--rounds", type=int, default=1, help="times to run each configuration")
    args = ap.parse_args(argv)
    for _ in range(args.rounds):  # alternate, so a busy neighbour hurts both alike
        for server, workers in [(s, w) for s in args.server or SERVERS
                                for w in args.workers or [None]]:
            result = run_server(server, args.index, workers, args.clients, args.duration)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
