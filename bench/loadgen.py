"""A small closed-loop HTTP/1.1 load generator (one epoll loop, raw keep-alive sockets).

Each of C clients holds one keep-alive connection and sends its next request as soon as the
previous answer has been read in full: C requests are in flight at any time. The run is bounded
both in time (``warmup`` + ``duration`` seconds) and in count (``max_requests``), and it only ever
talks to the loopback address it is given.

It reports latency percentiles (p50/p95/p99 of the measured window), requests per second, errors
and its own CPU use: ``client_cpu_us_per_req`` is the client's CPU time per request and
``client_cpu_pct`` the share of one core it used. A client near 100 % of a core is the
bottleneck; ``calibrate`` runs it against a trivial endpoint to show its ceiling.

Standalone use::

    python bench/loadgen.py http://127.0.0.1:8080/api/health -c 8 -d 5
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import time
import urllib.parse
from dataclasses import asdict, dataclass, field


@dataclass
class Result:
    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    max_ms: float = 0.0
    bytes_per_req: float = 0.0
    client_cpu_us_per_req: float = 0.0
    client_cpu_pct: float = 0.0
    server_cpu_pct: float | None = None
    server_cpu_pct_by_process: list = field(default_factory=list)  # busiest first
    system_cpu_pct: float | None = None  # the whole machine, 100 % per core
    reconnects: int = 0
    sent: int = 0  # requests taken from the mix, warm-up included, resends not (to continue the cursor)
    status: dict = field(default_factory=dict)
    by_label: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)  # seconds, of the measured window; not in as_dict

    def as_dict(self) -> dict:
        out = asdict(self)
        del out["latencies"]
        return out


def other_cpu_pct(result: dict) -> float | None:
    """Busy CPU of the machine beyond the server and the client during a run (a
    ``Result.as_dict``), % of a core: what other processes took."""
    if result.get("system_cpu_pct") is None or result.get("server_cpu_pct") is None:
        return None
    return max(0.0, result["system_cpu_pct"] - result["server_cpu_pct"] - result["client_cpu_pct"])


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(lat: list[float]) -> dict:
    s = sorted(lat)
    return {
        "n": len(s),
        "p50_ms": percentile(s, 50) * 1e3,
        "p95_ms": percentile(s, 95) * 1e3,
        "p99_ms": percentile(s, 99) * 1e3,
        "mean_ms": (sum(s) / len(s) * 1e3) if s else float("nan"),
    }


def system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tck = os.sysconf("SC_CLK_TCK")
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / tck, sum(v[:8]) / tck


def hwm_kb(pid: int) -> int:
    """The process's peak resident memory so far (``VmHWM``, KiB; 0 once it is gone).

    Not ``wait4``'s ``ru_maxrss``: that keeps the peak of every memory image the process ran,
    and a child of this benchmark starts as a copy of it (gigabytes of corpus and results), so
    a small program run from here would report the benchmark's own size.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _Proc:
    """CPU seconds of a process and its descendants, from /proc (Linux)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.tck = os.sysconf("SC_CLK_TCK")

    def _tree(self) -> list[int]:
        if self.pid is None:
            return []
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2 :].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                continue
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += children.get(p, [])
        return out

    def by_pid(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for p in self._tree():
            try:
                with open(f"/proc/{p}/stat") as f:
                    st = f.read()
                fields = st[st.rindex(")") + 2 :].split()
                out[p] = (int(fields[11]) + int(fields[12])) / self.tck  # utime, stime
            except (OSError, ValueError, IndexError):
                continue
        return out

    def cpu(self) -> float | None:
        if self.pid is None:
            return None
        self.last = self.by_pid()
        return sum(self.last.values())


class _Client:
    __slots__ = (
        "idx",
        "sock",
        "buf",
        "t0",
        "next",
        "head_end",
        "length",
        "close",
        "status",
        "label",
        "fresh",
    )

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.sock: socket.socket | None = None
        self.next = idx
        self.buf = b""
        self.fresh = True


def _parse_head(head: bytes) -> tuple[int, int | None, bool]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    close = lines[0].startswith(b"HTTP/1.0")
    length = None
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"connection":
            v = v.strip().lower()
            close = v == b"close" or (close and v != b"keep-alive")
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            raise ValueError("chunked responses are not supported by this client")
    return status, length, close


def _run(
    base: str,
    paths: list[tuple[str, str]],
    clients: int,
    warmup: float,
    duration: float,
    max_requests: int,
    server_pid: int | None,
    check=None,
    min_requests: int = 0,
    max_duration: float | None = None,
) -> Result:
    """One thread, one epoll loop, non-blocking sockets: the least client CPU per request."""
    u = urllib.parse.urlsplit(base)
    host, port = u.hostname, u.port or 80
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise ValueError(f"loadgen only talks to loopback addresses, not {host}")
    addr = (socket.gethostbyname(host) if host != "::1" else host, port)
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    reqs = [
        (label, f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: renkei-bench\r\n\r\n".encode())
        for label, path in paths
    ]
    res = Result(clients=clients)
    lat: list[float] = []
    labels: dict[str, list[float]] = {}
    nbytes = 0
    errors = 0
    reconnects = 0
    status: dict[int, int] = {}
    sel = selectors.DefaultSelector()
    perf = time.perf_counter
    t_start = perf()
    t_measure = t_start + warmup
    t_end = t_measure + duration
    t_cap = t_measure + max(duration, max_duration or duration)
    proc = _Proc(server_pid)
    cpu0 = srv0 = None
    srv0_by: dict = {}
    sys0 = (0.0, 0.0)
    w0 = t_measure
    measuring = False

    def start(c: _Client, again: bool = False) -> None:
        """Send ``c`` the next request of the mix (one cursor for every client, so a request
        comes back only after all the others, however unevenly the clients are served), or,
        ``again``, the one it has not been answered yet."""
        nonlocal reconnects
        if not again:
            c.next = sent[0]
            sent[0] += 1
        label, req = reqs[c.next % len(reqs)]
        c.label = label
        c.buf = b""
        c.head_end = -1
        c.t0 = perf()
        if c.sock is None:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
            s.connect_ex(addr)
            c.sock = s
            c.fresh = True
            sel.register(s, selectors.EVENT_WRITE, (c, req))
        else:
            c.fresh = False
            try:
                c.sock.send(req)
            except OSError:
                drop(c)
                reconnects += 1
                start(c, again=True)
                return
            sel.register(c.sock, selectors.EVENT_READ, (c, req))

    def drop(c: _Client) -> None:
        if c.sock is not None:
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
            c.sock = None

    def finish(c: _Client, ok: bool, body: bytes, t1: float) -> None:
        nonlocal nbytes, errors
        if measuring and c.t0 >= w0 and t1 <= end[0]:
            lat.append(t1 - c.t0)
            labels.setdefault(c.label, []).append(t1 - c.t0)
            nbytes += len(body)
            status[c.status] = status.get(c.status, 0) + 1
            if not ok or c.status != 200 or (check is not None and not check(c.label, body)):
                errors += 1

    sent = [0]
    end = [t_end]  # extended up to t_cap while fewer than min_requests were measured
    active = set()
    for k in range(clients):
        c = _Client(k)
        active.add(c)
        start(c)
    while active:
        events = sel.select(timeout=1.0)
        now = perf()
        if not measuring and now >= t_measure:
            measuring = True
            cpu0 = time.process_time()
            srv0 = proc.cpu()
            srv0_by = dict(getattr(proc, "last", {}))
            sys0 = system_cpu()
            w0 = now
        for key, mask in events:
            c, req = key.data
            s = c.sock
            if mask & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    drop(c)
                    reconnects += 1
                    errors += 1 if measuring else 0
                    time.sleep(0.01)
                    start(c, again=True)
                    continue
                s.send(req)
                sel.modify(s, selectors.EVENT_READ, key.data)
                continue
            try:
                data = s.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            t1 = perf()
            done = False
            if data:
                c.buf += data
                if c.head_end < 0:
                    i = c.buf.find(b"\r\n\r\n")
                    if i >= 0:
                        c.head_end = i + 4
                        c.status, c.length, c.close = _parse_head(c.buf[:i])
                if c.head_end >= 0 and c.length is not None and len(c.buf) - c.head_end >= c.length:
                    finish(c, True, c.buf[c.head_end : c.head_end + c.length], t1)
                    done = True
                    sel.unregister(s)
                    if c.close:
                        s.close()
                        c.sock = None
            else:  # closed by the server
                if c.head_end >= 0 and c.length is None:
                    finish(c, True, c.buf[c.head_end :], t1)
                    drop(c)
                    done = True
                elif not c.buf and not c.fresh:  # an idle keep-alive connection the server dropped
                    drop(c)
                    reconnects += 1
                    start(c, again=True)
                    continue
                else:
                    drop(c)
                    c.status = 0
                    finish(c, False, b"", t1)
                    done = True
            if done:
                if t1 >= end[0] and len(lat) < min_requests and t1 < t_cap:
                    end[0] = min(t_cap, t1 + 0.5)
                if t1 >= end[0] or len(lat) >= max_requests:
                    drop(c)
                    active.discard(c)
                else:
                    start(c)
        if now > end[0] + 30:  # a server that stopped answering: give up on what is in flight
            for c in list(active):
                drop(c)
                errors += 1
            active.clear()
    sel.close()
    wall = min(perf(), end[0]) - w0
    cpu = time.process_time() - (cpu0 if cpu0 is not None else 0.0)
    srv1 = proc.cpu()
    sys1 = system_cpu()
    if sys1[1] > sys0[1] and sys0[1]:
        res.system_cpu_pct = 100.0 * (sys1[0] - sys0[0]) / wall
    res.requests = len(lat)
    res.errors = errors
    res.seconds = wall
    res.rps = len(lat) / wall if wall > 0 else 0.0
    summ = summarize(lat)
    res.p50_ms, res.p95_ms, res.p99_ms, res.mean_ms = (
        summ["p50_ms"],
        summ["p95_ms"],
        summ["p99_ms"],
        summ["mean_ms"],
    )
    res.max_ms = max(lat) * 1e3 if lat else float("nan")
    res.bytes_per_req = nbytes / len(lat) if lat else 0.0
    res.client_cpu_us_per_req = cpu / len(lat) * 1e6 if lat else float("nan")
    res.client_cpu_pct = 100.0 * cpu / wall if wall > 0 else 0.0
    if srv1 is not None and srv0 is not None:
        res.server_cpu_pct = 100.0 * (srv1 - srv0) / wall
        per = [100.0 * (v - srv0_by.get(p, 0.0)) / wall for p, v in getattr(proc, "last", {}).items()]
        res.server_cpu_pct_by_process = sorted((round(x, 1) for x in per if x >= 0.5), reverse=True)
    res.reconnects = reconnects
    res.sent = sent[0]
    res.status = {str(k): v for k, v in status.items()}
    res.by_label = {k: summarize(v) for k, v in sorted(labels.items())}
    res.latencies = lat
    return res


def run(
    base: str,
    paths,
    clients: int = 1,
    warmup: float = 1.0,
    duration: float = 5.0,
    max_requests: int = 1_000_000,
    server_pid: int | None = None,
    check=None,
    min_requests: int = 0,
    max_duration: float | None = None,
) -> Result:
    """``paths``: list of (label, path-with-query) tuples, sent round-robin from one cursor
    shared by the clients (a path comes back only after every other has been sent).

    The measured window lasts ``duration`` seconds, longer (up to ``max_duration``) while fewer
    than ``min_requests`` answers were measured, so slow servers still give usable percentiles.
    """
    if paths and isinstance(paths[0], str):
        paths = [("", p) for p in paths]
    return _run(
        base,
        list(paths),
        clients,
        warmup,
        duration,
        max_requests,
        server_pid,
        check,
        min_requests,
        max_duration,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("-c", "--clients", type=int, default=8)
    ap.add_argument("-d", "--duration", type=float, default=5.0)
    ap.add_argument("-w", "--warmup", type=float, default=1.0)
    ap.add_argument("--pid", type=int, default=None, help="server pid, to report its CPU use")
    a = ap.parse_args(argv)
    u = urllib.parse.urlsplit(a.url)
    path = u.path + ("?" + u.query if u.query else "")
    r = run(f"{u.scheme}://{u.netloc}", [path], a.clients, a.warmup, a.duration, server_pid=a.pid)
    print(json.dumps(r.as_dict(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
