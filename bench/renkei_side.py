"""renkei driven as a user drives it: ``renkei index``, ``Engine.search`` and ``renkei serve``.

Nothing here re-implements renkei: the build is the CLI in a child process, the library path is
``search.api.Engine`` in this process, the HTTP path is ``renkei serve`` and its ``/api/search``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def renkei_cmd() -> list[str]:
    """``python -m renkei`` with this interpreter, run from the repository."""
    return [sys.executable, "-m", "renkei"]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = REPO + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def available() -> tuple[bool, str]:
    try:
        p = subprocess.run(
            renkei_cmd() + ["--help"], capture_output=True, text=True, cwd=REPO, env=env(), timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if p.returncode != 0:
        return False, (p.stderr or p.stdout).strip().splitlines()[-1:][0] if (p.stderr or p.stdout) else "?"
    missing = [c for c in ("index", "serve") if c not in p.stdout]
    if missing:
        return False, f"renkei has no {missing} command yet"
    try:
        import search.api  # noqa: F401
    except Exception as exc:  # renkei is still being built
        return False, f"search.api not importable: {exc}"
    return True, ""


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (from /proc)."""
    return tree_memory_kb(pid)[0]


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """Resident memory of a process and all its descendants, and the largest peak (``VmHWM``)
    among them, in KiB (from /proc)."""
    from loadgen import hwm_kb

    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(d))
            rss[int(d)] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, ValueError, IndexError):
            continue
    total, largest, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        largest = max(largest, hwm_kb(p))
        todo += children.get(p, [])
    return total, largest


def timed_child(args: list[str], log_path: str, cwd: str | None = None, environ: dict | None = None) -> dict:
    """Run a command to its end: wall, CPU (user+sys of it and its waited-for children), peak RSS.

    ``peak_rss_mb`` is the largest single process (its ``VmHWM``; see ``loadgen.hwm_kb``);
    ``peak_tree_rss_mb`` the largest sum over the whole process tree; both sampled ten times a
    second.
    """
    from loadgen import system_cpu

    peak = [0, 0]
    sys0 = system_cpu()
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=environ)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                total, largest = tree_memory_kb(p.pid)
                peak[0], peak[1] = max(peak[0], total), max(peak[1], largest)
                stop.wait(0.1)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
    cpu = ru.ru_utime + ru.ru_stime
    sys1 = system_cpu()
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "other_cores_busy": max(0.0, (sys1[0] - sys0[0]) - cpu) / wall if wall else 0.0,
        "cores_used": cpu / wall if wall else 0.0,
        "peak_rss_mb": peak[1] / 1024.0,
        "peak_tree_rss_mb": peak[0] / 1024.0,
        "exit": os.waitstatus_to_exitcode(status),
    }


def build(seeds_dir: str, index_dir: str, log_path: str, procs: int | None = None) -> dict:
    seeds_dir, index_dir = os.path.abspath(seeds_dir), os.path.abspath(index_dir)
    args = renkei_cmd() + ["index", "--seeds", seeds_dir, "--index", index_dir]
    if procs:
        args += ["--procs", str(procs)]
    r = timed_child(args, log_path, cwd=REPO, environ=env())
    out = open(log_path, encoding="utf-8", errors="replace").read()
    lines = [ln for ln in out.strip().splitlines() if not ln.startswith(("note:", "warning:"))]
    r["summary"] = (lines[-1] if lines else "")[:300]
    if r["exit"] != 0:
        raise RuntimeError(f"renkei index failed ({r['exit']}): {out[-500:]}")
    m = re.search(r"([\d,]+)\s+passages", r["summary"])
    r["passages"] = int(m.group(1).replace(",", "")) if m else None
    if r["passages"] == 0:
        raise RuntimeError(f"renkei index built no passage: {r['summary']}")
    return r


class Library:
    """``search.api.Engine`` in this process."""

    def __init__(self, index_dir: str) -> None:
        if REPO not in sys.path:
            sys.path.insert(0, REPO)
        from search.api import Engine

        self.engine = Engine(os.path.abspath(index_dir))

    def search(self, q: dict, size: int = 10) -> dict:
        return self.engine.search(q["q"], page=1, size=size)


def search_path(q: dict, size: int = 10) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": q["q"], "size": str(size)})


def parsed_answer(body: bytes) -> dict | None:
    """The JSON body of a successful search, or None."""
    try:
        d = json.loads(body)
    except ValueError:
        return None
    return d if d.get("ok") else None


def has_snippet(d: dict) -> bool:
    """Whether an answer with hits carries a snippet on at least one of them."""
    hits = d.get("hits") or []
    return not hits or any(h.get("snippet") for h in hits)


class Server:
    """``renkei serve`` in its own session (process group), so it and its workers stop together."""

    def __init__(
        self, index_dir: str, port: int, log_path: str, workers: int | None = None, server: str | None = None
    ) -> None:
        self.index_dir = os.path.abspath(index_dir)
        self.port = port
        self.log_path = log_path
        self.workers = workers
        self.server = server
        self.proc: subprocess.Popen | None = None
        self.health: dict = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __enter__(self) -> Server:
        args = renkei_cmd() + [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--index",
            self.index_dir,
        ]
        if self.workers:
            args += ["--workers", str(self.workers)]
        e = env()
        if self.server:
            e["RENKEI_SERVER"] = self.server
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO, env=e, start_new_session=True
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/api/health", timeout=5) as r:
                    self.health = json.loads(r.read())
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        "renkei serve exited: " + open(self.log_path, errors="replace").read()[-2000:]
                    ) from None
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("renkei serve did not answer /api/health in 120 s")

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()
        self.proc = None

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base + path, timeout=120) as r:
            return json.loads(r.read())
