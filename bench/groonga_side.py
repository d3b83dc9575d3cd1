"""Groonga on the same passages: schema, ``load``, an HTTP server and its ``/d/select`` queries.

Schema: a ``Passages`` table (``_key`` = passage id; title, text, kind, document, year and a
reference vector of municipalities) and a ``Terms`` lexicon with ``TokenMecab`` and the newest
``NormalizerNFKC*`` this Groonga has, holding one full-text index over title and text
(``WITH_POSITION|WITH_SECTION``, so phrase search and per-column weights work). The index exists
before ``load`` runs, so the load time includes indexing, as renkei's build does.

``load`` is timed as one ``groonga DB`` process reading the command from standard input:
wall time, user+system CPU (CPU/wall = the cores it kept busy) and peak RSS come from
``os.wait4`` on that process alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request


def available() -> bool:
    return shutil.which("groonga") is not None


def version() -> str:
    out = subprocess.run(["groonga", "--version"], capture_output=True, text=True).stdout
    return out.split("\n", 1)[0].strip()


def _cmd(db: str, commands: str, create: bool = False) -> str:
    args = ["groonga"] + (["-n"] if create else []) + [db]
    p = subprocess.run(args, input=commands, capture_output=True, text=True, check=True)
    return p.stdout


def pick_normalizer(db: str) -> str:
    out = _cmd(db, "normalizer_list\n")
    names = re.findall(r'"name":"(Normalizer\w+)"', out)
    nfkc = sorted(
        (n for n in names if re.fullmatch(r"NormalizerNFKC\d+", n)), key=lambda n: int(re.sub(r"\D", "", n))
    )
    return nfkc[-1] if nfkc else "NormalizerAuto"


INDEX_COMMAND = (
    "column_create Terms passages_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION Passages title,text\n"
)


def create_db(workdir: str, with_index: bool = True) -> tuple[str, str]:
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    db = os.path.join(workdir, "db")
    _cmd(db, "status\n", create=True)
    norm = pick_normalizer(db)
    schema = f"""
table_create Municipalities TABLE_HASH_KEY ShortText
table_create Passages TABLE_HASH_KEY ShortText
column_create Passages title COLUMN_SCALAR ShortText
column_create Passages text COLUMN_SCALAR LongText
column_create Passages kind COLUMN_SCALAR ShortText
column_create Passages document COLUMN_SCALAR ShortText
column_create Passages year COLUMN_SCALAR UInt16
column_create Passages municipalities COLUMN_VECTOR Municipalities
table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenMecab --normalizer {norm}
""" + (INDEX_COMMAND if with_index else "")
    out = _cmd(db, schema)
    if "false" in out or '"rc":-' in out:
        raise RuntimeError(f"groonga schema failed: {out}")
    return db, norm


def write_load_file(jsonl: str, path: str) -> tuple[int, int]:
    """The ``load`` command with every passage; returns (passages, UTF-8 bytes of title+text)."""
    n = 0
    nbytes = 0
    with open(jsonl, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        out.write("load --table Passages\n[\n")
        for line in src:
            r = json.loads(line)
            rec = {
                "_key": r["id"],
                "title": r.get("title", ""),
                "text": r.get("text", ""),
                "kind": r.get("kind", ""),
                "document": r.get("document", ""),
                "year": int(r.get("year") or 0),
                "municipalities": r.get("municipalities") or [],
            }
            out.write(("," if n else "") + json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
            nbytes += len(rec["title"].encode()) + len(rec["text"].encode())
        out.write("]\n")
    return n, nbytes


def du(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def build_index_offline(db: str, workdir: str) -> dict:
    """Create the full-text index column after the data is in (Groonga's static index build)."""
    path = os.path.join(workdir, "index.grn")
    with open(path, "w") as f:
        f.write(INDEX_COMMAND)
    r = load(db, path, expect_count=False)
    os.unlink(path)
    os.unlink(path + ".out")
    return r


def load(db: str, load_file: str, expect_count: bool = True) -> dict:
    """Run ``groonga DB < load_file``; wall, CPU and peak RSS of that process (its ``VmHWM``,
    read every 50 ms: see ``loadgen.hwm_kb``)."""
    from loadgen import hwm_kb, system_cpu

    sys0 = system_cpu()
    peak = 0
    with open(load_file, "rb") as stdin, open(load_file + ".out", "wb") as stdout:
        t0 = time.perf_counter()
        p = subprocess.Popen(["groonga", db], stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, hwm_kb(p.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - t0
    out = open(load_file + ".out", encoding="utf-8", errors="replace").read()
    m = re.search(r"\]\s*,\s*(\d+)\s*\]", out)
    loaded = int(m.group(1)) if m else None
    if status != 0 or (expect_count and loaded is None) or '"rc":-' in out or out.startswith("[[-"):
        raise RuntimeError(f"groonga load failed (status {status}): {out[:500]}")
    cpu = ru.ru_utime + ru.ru_stime
    sys1 = system_cpu()
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "other_cores_busy": max(0.0, (sys1[0] - sys0[0]) - cpu) / wall if wall else 0.0,
        "cpu_user": ru.ru_utime,
        "cpu_sys": ru.ru_stime,
        "cores_used": cpu / wall if wall else 0.0,
        "peak_rss_mb": peak / 1024.0,
        "loaded": loaded,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: str, port: int | None = None, threads: int | None = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.threads = threads
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        args = ["groonga", "-s", "--protocol", "http", "--bind-address", "127.0.0.1", "-p", str(self.port)]
        if self.threads:
            args += ["-t", str(self.threads)]
        self.proc = subprocess.Popen(args + [self.db], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/d/status", timeout=2) as r:
                    self.status = json.loads(r.read())[1]
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("groonga server exited") from None
                time.sleep(0.1)
        raise RuntimeError("groonga server did not start")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def get(self, path: str) -> dict | list:
        with urllib.request.urlopen(self.base + path, timeout=60) as r:
            return json.loads(r.read())


FACETS = ("kind", "document", "year", "municipalities")


def select_path(q: dict, size: int = 10, facets: tuple[str, ...] = FACETS) -> str:
    """``/d/select`` for one benchmark query: ranked by score, highlighted title and snippets."""
    params = [
        ("table", "Passages"),
        ("match_columns", "title * 2 || text"),
        ("query", q["gq"]),
        ("output_columns", "_key,_score,highlight_html(title),snippet_html(text),kind,document"),
        ("sort_keys", "-_score"),
        ("limit", str(size)),
    ]
    if q.get("kind"):
        params.append(("filter", f'kind == "{q["kind"]}"'))
    for f in facets:
        params += [
            (f"drilldowns[{f}].keys", f),
            (f"drilldowns[{f}].limit", "10"),
            (f"drilldowns[{f}].sort_keys", "-_nsubrecs"),
        ]
    return "/d/select?" + urllib.parse.urlencode(params)


def hits_of(body: bytes | str | list) -> int | None:
    d = json.loads(body) if isinstance(body, bytes | str) else body
    try:
        if d[0][0] != 0:
            return None
        return int(d[1][0][0][0])
    except (IndexError, TypeError, ValueError, KeyError):
        return None


def has_snippet(body: bytes) -> bool:
    """True when the answer has status 0 and, if it has hits, a snippet or a highlighted title
    (a passage that matched on its title alone has no text snippet)."""
    try:
        d = json.loads(body)
        if d[0][0] != 0:
            return False
        rows = d[1][0]
        if int(rows[0][0]) == 0:
            return True
        return any(r[3] or (r[2] and "keyword" in r[2]) for r in rows[2:])
    except (ValueError, IndexError, TypeError):
        return False
