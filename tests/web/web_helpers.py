"""A raw HTTP/1.1 client for the web tests: sends any bytes as the request target."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def raw_get(host: str, port: int, target: str | bytes, *, method: str = "GET",
            timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Send one request with ``target`` as written (no encoding, no checks); return status, headers, body."""
    if isinstance(target, str):
        target = target.encode("utf-8", "surrogateescape")
    request = (method.encode() + b" " + target + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
               + b"\r\nConnection: close\r\nAccept: */*\r\n\r\n")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    host: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(index_dir: Path, log_path: Path, server: str | None = None, workers: int | None = None,
                 timeout: float = 60.0) -> LiveServer:
    """``renkei serve`` in a subprocess on a free loopback port, once /api/health answers."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if server:
        env["RENKEI_SERVER"] = server
    cmd = [sys.executable, "-m", "renkei", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index", str(index_dir)]
    if workers:
        cmd += ["--workers", str(workers)]
    handle = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    live = LiveServer(f"http://127.0.0.1:{port}", "127.0.0.1", port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{live.log()}")
        try:
            status, _, body = raw_get("127.0.0.1", port, "/api/health", timeout=2)
            if status == 200 and json.loads(body)["ok"]:
                return live
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(live)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{live.log()}")


def stop_server(live: LiveServer) -> None:
    live.process.terminate()
    try:
        live.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        live.process.kill()
        live.process.wait(timeout=5)
