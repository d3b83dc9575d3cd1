"""renkei against Groonga, side by side: one command.

    python bench/run.py --sizes 10000,100000 [--groonga|--no-groonga] [--out bench/results]

For every size: generate the corpus (``corpus.py``), pick the query mix (``queries.py``), measure
the MeCab tokenization floor (``tokfloor.py``), build renkei's index with ``renkei index``, run the
queries through ``search.api.Engine`` and over HTTP against ``renkei serve`` with 1, 8 and 32
loopback clients (``loadgen.py``, and ``wrk`` as a cross-check when installed); then the same for
Groonga (``groonga_side.py``) when ``groonga`` is on PATH. ``--profile`` adds cProfile/pyinstrument
profiles of renkei's build and query paths at the smallest size. Results go to OUT/latest.json,
OUT/latest.md and OUT/latest.png (``report.py``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import groonga_side  # noqa: E402
import loadgen  # noqa: E402
import queries  # noqa: E402
import renkei_side  # noqa: E402
import tokfloor  # noqa: E402
import wrkrun  # noqa: E402


def log(*a) -> None:
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def wait_quiet(max_wait: float, threshold: float = 25.0) -> float:
    """Wait (at most ``max_wait`` s) until the machine is idle: other people's work on the same two cores
    would be measured as ours. Returns the busy % of the last one-second sample (100 % = one core)."""
    deadline = time.time() + max_wait
    busy = 0.0
    while True:
        b0, t0 = loadgen.system_cpu()
        time.sleep(1.0)
        b1, t1 = loadgen.system_cpu()
        busy = 100.0 * (b1 - b0) / max(1e-9, (t1 - t0) / (os.cpu_count() or 1))
        if busy < threshold or time.time() >= deadline:
            if busy >= threshold:
                log(f"    (machine still {busy:.0f}% busy with other work after {max_wait:.0f}s; measuring anyway)")
            return busy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def du(path: str) -> int:
    return groonga_side.du(path)


def jsonl_bytes(path: str) -> tuple[int, int]:
    n = b = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            n += 1
            b += len(r.get("title", "").encode()) + len(r.get("text", "").encode())
    return n, b


def renkei_commit() -> str:
    """The short commit renkei's checkout is at."""
    return subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


def first_touch() -> dict:
    """Seconds per GiB to touch memory for the first time: memory freed more than a few
    seconds earlier ("cold": on the virtual machines measured, free page reporting has
    handed it back to the host, which must supply every page again) and memory freed a
    moment before ("warm"). A build touches a gigabyte or more, so this is part of both
    engines' build figures and of how much they vary from run to run."""
    import numpy as np

    def touch() -> float:
        t = time.perf_counter()
        a = np.ones(1 << 26, np.int32)  # 256 MiB, mapped afresh
        dt = time.perf_counter() - t
        del a
        return 4 * dt

    time.sleep(4)
    cold = touch()
    warm = touch()
    return {"cold_s_per_gib": round(cold, 3), "warm_s_per_gib": round(warm, 3)}


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count(), "platform": platform.platform()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["mem_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, ValueError):
        pass
    try:
        import fugashi
        import whoosh

        info["fugashi"] = fugashi.__version__ if hasattr(fugashi, "__version__") else "?"
        info["whoosh"] = ".".join(map(str, getattr(whoosh, "versiontuple", ()))) or "?"
    except Exception:
        pass
    try:
        from importlib.metadata import version

        info["whoosh"] = version("Whoosh-Reloaded")
        info["fugashi"] = version("fugashi")
    except Exception:
        pass
    info["first_touch"] = first_touch()
    if groonga_side.available():
        info["groonga"] = groonga_side.version().split(" [")[0]
    if wrkrun.available():
        info["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[
            0
        ][:60]
    try:
        info["renkei_commit"] = renkei_commit()
        dirty = subprocess.run(
            ["git", "-C", REPO, "status", "--porcelain", "--", "search", "indexer", "renkei", "web"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        info["renkei_tree"] = "with uncommitted changes" if dirty else "clean"
    except OSError:
        pass
    return info


# ------------------------------------------------------------------------------------------------
# renkei


def renkei_library(index_dir: str, mix: list[dict], min_s: float, max_s: float) -> dict:
    """``Engine.search`` over the mix, cyclically: at least one full pass and ``min_s`` seconds,
    at most ``max_s`` seconds (stopping at a whole round of the seven types)."""
    lib = renkei_side.Library(index_dir)
    t0 = time.perf_counter()
    first = lib.search(mix[0])
    open_s = time.perf_counter() - t0
    for q in mix[1:14]:  # warm-up: two rounds of the seven types
        lib.search(q)
    hits: dict[str, list[int]] = collections.defaultdict(list)
    no_snippet = 0
    lat: dict[str, list[float]] = collections.defaultdict(list)
    t_all = time.perf_counter()
    i = 14
    n = 0
    while True:
        q = mix[i % len(mix)]
        t0 = time.perf_counter()
        body = lib.search(q)
        lat[q["type"]].append(time.perf_counter() - t0)
        if n < len(mix):  # first encounter of each query: its hit count
            hits[q["type"]].append(int(body.get("total", 0)))
            if body.get("hits") and not any(h.get("snippet") for h in body["hits"]):
                no_snippet += 1
        i += 1
        n += 1
        el = time.perf_counter() - t_all
        if n % 7 == 0 and ((n >= len(mix) and el >= min_s) or el >= max_s):
            break
    wall = time.perf_counter() - t_all
    every = [x for v in lat.values() for x in v]
    cached = []
    for q in mix[:7]:  # the same query twice in a row: the second is an LRU hit
        lib.search(q)
        t0 = time.perf_counter()
        lib.search(q)
        cached.append(time.perf_counter() - t0)
    return {
        "open_and_first_query_s": open_s,
        "queries": len(every),
        "distinct_queries_timed": min(len(every), len(mix)),
        "qps_one_thread": len(every) / wall,
        "all": loadgen.summarize(every),
        "by_type": {t: loadgen.summarize(v) for t, v in lat.items()},
        "hits_median": {t: sorted(v)[len(v) // 2] for t, v in hits.items()},
        "zero_hit_queries": {t: sum(1 for x in v if x == 0) for t, v in hits.items()},
        "queries_with_hits_but_no_snippet": no_snippet,
        "cache_hit": loadgen.summarize(cached),
        "example_first_hit": (first.get("hits") or [{}])[0].get("snippet", "")[:200],
    }


class RenkeiCheck:
    """Checks a renkei answer (ok, snippets on hits) and counts answers served from the LRU cache.

    A cached answer reports ``took_ms`` of a few hundredths of a millisecond; a searched one
    pays at least the MeCab analysis of the query (about a millisecond).
    """

    CACHED_MS = 0.3

    def __init__(self) -> None:
        self.cached = 0

    def reset(self) -> None:
        self.cached = 0

    def __call__(self, _label: str, body: bytes) -> bool:
        d = renkei_side.parsed_answer(body)
        if d is None:
            return False
        if (d.get("took_ms") or 0.0) < self.CACHED_MS:
            self.cached += 1
        return renkei_side.has_snippet(d)


def http_sweep(
    base: str, pid: int | None, labeled: list[tuple[str, str]], clients: list[int], args, check, trivial: str
) -> dict:
    """Trivial endpoint, then the mix at each concurrency (and wrk beside it).

    The runs share one cursor over the mix: each starts where the previous stopped, so no query
    comes back before the whole mix (far more queries than the LRU holds) has been sent.
    """
    out = {"trivial": {}, "mix": {}, "wrk": {}, "wrk_trivial": {}}
    for c in clients:
        wait_quiet(args.quiet_wait)
        r = loadgen.run(
            base, [("trivial", trivial)], clients=c, warmup=args.warmup / 2, duration=args.duration / 2,
            server_pid=pid,
        )
        out["trivial"][str(c)] = r.as_dict()
        log(
            f"    trivial {trivial} c={c}: {r.rps:.0f} req/s p50 {r.p50_ms:.2f} ms; client CPU "
            f"{r.client_cpu_pct:.0f}% of a core ({r.client_cpu_us_per_req:.0f} us/req), server {r.server_cpu_pct or 0:.0f}%"
        )
    cursor = 0
    n = len(labeled)
    for c in clients:
        if hasattr(check, "reset"):
            check.reset()
        wait_quiet(args.quiet_wait)
        rotated = labeled[cursor % n :] + labeled[: cursor % n]
        r = loadgen.run(
            base, rotated, clients=c, warmup=args.warmup, duration=args.duration, server_pid=pid, check=check,
            min_requests=args.min_requests, max_duration=args.max_duration,
        )
        cursor += r.sent
        out["mix"][str(c)] = r.as_dict()
        if hasattr(check, "cached"):
            out["mix"][str(c)]["cache_hits"] = check.cached
        log(
            f"    mix c={c}: {r.rps:.1f} req/s p50 {r.p50_ms:.2f} p95 {r.p95_ms:.2f} p99 {r.p99_ms:.2f} ms "
            f"errors {r.errors}; client {r.client_cpu_pct:.0f}%, server {r.server_cpu_pct or 0:.0f}% CPU "
            f"{r.server_cpu_pct_by_process}; LRU hits {getattr(check, 'cached', '-')}"
        )
        if args.wrk and wrkrun.available():
            wait_quiet(args.quiet_wait)
            rotated = labeled[cursor % n :] + labeled[: cursor % n]
            w = wrkrun.run(base, [p for _l, p in rotated], c, args.duration)
            cursor += w["requests"] + c
            out["wrk"][str(c)] = w
            log(
                f"      wrk c={c}: {w['rps']:.1f} req/s p50 {w['p50_ms']:.2f} p99 {w['p99_ms']:.2f} ms errors {w['errors']}"
            )
    if args.wrk and wrkrun.available():
        c = clients[len(clients) // 2]
        out["wrk_trivial"][str(c)] = wrkrun.run(base, [trivial], c, args.duration / 2)
    return out


def server_memory(pid: int) -> dict:
    """RSS and PSS (proportional: shared pages split between sharers) of a server's processes, MB."""
    out = {"rss_mb": [], "pss_mb": []}
    tree = loadgen._Proc(pid)._tree()
    for p in tree:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                vals = {ln.split(":")[0]: int(ln.split()[1]) for ln in f if ln.split(":")[0] in ("Rss", "Pss")}
            out["rss_mb"].append(round(vals.get("Rss", 0) / 1024, 1))
            out["pss_mb"].append(round(vals.get("Pss", 0) / 1024, 1))
        except (OSError, ValueError, IndexError):
            continue
    out["pss_total_mb"] = round(sum(out["pss_mb"]), 1)
    return out


def first_pass(base: str, labeled: list[tuple[str, str]], pid: int | None = None) -> tuple[dict, list[bytes]]:
    """Every query of the mix once, in order, to each process of the server, before any timed
    run: the warm-up both engines get alike, timed, since every query is new to the process
    that answers it. Returns its latencies and the first pass's answers.

    One client (http.client, keep-alive where the server allows it). With several worker
    processes (``pid`` the parent), connections are opened until one lands on a worker that has
    not had its pass yet (found through /proc); the others are closed unused.
    """
    u = urllib.parse.urlsplit(base)
    workers = _workers(pid) if pid else []
    pending = set(workers)
    lat: list[float] = []
    bodies: list[bytes] = []
    for _ in range(max(1, len(workers))):
        for _attempt in range(50):
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            conn.connect()
            if not pending:
                break
            time.sleep(0.05)  # accepted by then
            owner = _holder(conn, u.port, pending)
            if owner is not None:
                pending.discard(owner)
                break
            conn.close()
        else:
            # A child that never takes a connection is no worker (a resource tracker, say).
            log(f"    first pass: no connection reached processes {sorted(pending)}; not warmed")
            break
        try:
            for _label, path in labeled:
                t0 = time.perf_counter()
                conn.request("GET", path)
                body = conn.getresponse().read()
                lat.append(time.perf_counter() - t0)
                if len(lat) <= len(labeled):
                    bodies.append(body)
        finally:
            conn.close()
    warmed = len(lat) // max(1, len(labeled))
    return {"processes": warmed, **loadgen.summarize(lat)}, bodies


def _workers(pid: int) -> list[int]:
    """The processes under a server's parent process (none for a one-process server)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _holder(conn: http.client.HTTPConnection, port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server end of the connection (Linux /proc)."""
    client_port = conn.sock.getsockname()[1]
    inode = None
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote = fields[1], fields[2]
                if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
                    inode = fields[9]
    except OSError:
        return None
    if inode is None:
        return None
    for p in pids:
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                if os.readlink(f"/proc/{p}/fd/{fd}") == f"socket:[{inode}]":
                    return p
        except OSError:
            continue
    return None


def renkei_paths(mix: list[dict]) -> list[tuple[str, str]]:
    """(query type, request path) of each query of the mix, for renkei's server."""
    return [(q["type"], renkei_side.search_path(q)) for q in mix]


def groonga_paths(mix: list[dict], **select) -> list[tuple[str, str]]:
    """(query type, request path) of each query of the mix, for Groonga's server, with its
    result cache off (``select``: ``groonga_side.select_path``'s options)."""
    return [(q["type"], groonga_side.select_path(q, **select) + "&cache=no") for q in mix]


def groonga_answered(_label: str, body: bytes) -> bool:
    """The check of a Groonga answer: status 0, and snippets on hits."""
    return groonga_side.has_snippet(body)


def renkei_http(index_dir: str, mix: list[dict], args, logdir: str) -> dict:
    labeled = renkei_paths(mix)
    with renkei_side.Server(
        index_dir, free_port(), os.path.join(logdir, "renkei-serve.log"), workers=args.renkei_workers
    ) as srv:
        out = {"health": srv.health}
        head = open(srv.log_path, encoding="utf-8", errors="replace").read(3000).splitlines()
        out["server_log_head"] = [ln for ln in head if "GET /api" not in ln][:8]
        out["memory_after_start"] = server_memory(srv.pid)
        out["first_pass"], _ = first_pass(srv.base, labeled, srv.pid)
        log(f"    first pass (each query new to its process): p50 {out['first_pass']['p50_ms']:.2f} ms "
            f"over {out['first_pass']['processes']} process(es)")
        out.update(http_sweep(srv.base, srv.pid, labeled, args.clients_list, args, RenkeiCheck(), "/api/health"))
        out["memory_after_load"] = server_memory(srv.pid)
        log(f"    server memory after the runs: RSS {out['memory_after_load']['rss_mb']} MB, "
            f"PSS total {out['memory_after_load']['pss_total_mb']} MB")
    return out


# ------------------------------------------------------------------------------------------------
# Groonga


def groonga_all(cdir: str, mix: list[dict], args, gdir: str) -> dict:
    out: dict = {"version": groonga_side.version()}
    db, norm = groonga_side.create_db(gdir)
    out["normalizer"] = norm
    out["tokenizer"] = "TokenMecab"
    load_file = os.path.join(gdir, "load.grn")
    n, nbytes = groonga_side.write_load_file(os.path.join(cdir, "passages.jsonl"), load_file)
    wait_quiet(args.quiet_wait)
    out["load"] = groonga_side.load(db, load_file)
    out["load"]["passages"] = n
    out["load"]["text_bytes"] = nbytes
    out["load"]["passages_per_s"] = n / out["load"]["seconds"]
    out["load"]["mb_per_s"] = nbytes / 1e6 / out["load"]["seconds"]
    out["db_bytes"] = du(gdir)
    log(
        f"  groonga load: {n} passages in {out['load']['seconds']:.1f}s = {out['load']['passages_per_s']:.0f}/s, "
        f"{out['load']['cores_used']:.2f} cores, peak RSS {out['load']['peak_rss_mb']:.0f} MB, db {out['db_bytes'] / 1e6:.0f} MB"
    )
    # the bulk-load variant: data first, then the index column built in one go (static construction)
    off_dir = gdir + "-offline"
    db2, _ = groonga_side.create_db(off_dir, with_index=False)
    ld = groonga_side.load(db2, load_file)
    ix = groonga_side.build_index_offline(db2, off_dir)
    secs = ld["seconds"] + ix["seconds"]
    cpu = ld["cpu_seconds"] + ix["cpu_seconds"]
    out["load_offline"] = {
        "load_seconds": ld["seconds"],
        "index_seconds": ix["seconds"],
        "seconds": secs,
        "cpu_seconds": cpu,
        "cores_used": cpu / secs,
        "passages_per_s": n / secs,
        "mb_per_s": nbytes / 1e6 / secs,
        "peak_rss_mb": max(ld["peak_rss_mb"], ix["peak_rss_mb"]),
        "db_bytes": du(off_dir),
    }
    shutil.rmtree(off_dir, ignore_errors=True)
    os.unlink(load_file)
    os.unlink(load_file + ".out")
    log(
        f"  groonga load without index, then offline index build: {secs:.1f}s = {n / secs:.0f}/s "
        f"(load {ld['seconds']:.1f}s, index {ix['seconds']:.1f}s, {cpu / secs:.2f} cores)"
    )
    with groonga_side.Server(db) as srv:
        out["server"] = {"threads": len(os.listdir(f"/proc/{srv.pid}/task")), "args": "groonga -s (defaults)"}
        hits: dict[str, list[int]] = collections.defaultdict(list)
        # The warm-up pass renkei gets too (timed), and the hit counts.
        labeled = groonga_paths(mix)
        out["first_pass"], bodies = first_pass(srv.base, labeled)
        log(f"  groonga first pass: p50 {out['first_pass']['p50_ms']:.2f} ms")
        for q, body in zip(mix, bodies, strict=True):
            hits[q["type"]].append(groonga_side.hits_of(body) or 0)
        out["hits_median"] = {t: sorted(v)[len(v) // 2] for t, v in hits.items()}
        out["zero_hit_queries"] = {t: sum(1 for x in v if x == 0) for t, v in hits.items()}
        log("  groonga HTTP, with the same four facets (drilldowns) renkei computes:")
        out["http"] = http_sweep(srv.base, srv.pid, labeled, args.clients_list, args, groonga_answered, "/d/status")
        out["memory_after_load"] = server_memory(srv.pid)
        log("  groonga HTTP, plain select (snippets, no drilldown):")
        plain = groonga_paths(mix, facets=())
        a2 = argparse.Namespace(**{**vars(args), "wrk": False})
        sweep = http_sweep(srv.base, srv.pid, plain, args.clients_list, a2, groonga_answered, "/d/status")
        out["http_plain"] = {"mix": sweep["mix"]}
    out["db"] = db  # removed by the caller, after the paired runs
    return out


# ------------------------------------------------------------------------------------------------
# both engines side by side, in alternating rounds


def paired_builds(n: int, cdir: str, args) -> dict:
    """Builds of both engines one after the other, ``--paired-builds`` times, alternating which
    goes first, each on a fresh index over the same files: a pair shares whatever else the
    machine was doing, so its ratio is steadier than that of the two main builds, which run
    minutes apart."""
    work = args.work
    seeds = os.path.join(cdir, "seeds")
    idx, gdir = os.path.join(work, f"index-{n}-pair"), os.path.join(work, f"groonga-{n}-pair")
    load_file = os.path.join(work, f"load-{n}-pair.grn")
    count, _ = groonga_side.write_load_file(os.path.join(cdir, "passages.jsonl"), load_file)
    rounds = []
    try:
        for i in range(args.paired_builds):
            row: dict = {}
            for engine in ("groonga", "renkei") if i % 2 == 0 else ("renkei", "groonga"):
                wait_quiet(args.quiet_wait)
                if engine == "renkei":
                    shutil.rmtree(idx, ignore_errors=True)
                    b = renkei_side.build(seeds, idx, os.path.join(work, f"build-{n}-pair.log"), procs=args.renkei_procs)
                    row["renkei"] = {"seconds": b["seconds"], "passages_per_s": b["passages"] / b["seconds"],
                                     "cores_used": b["cores_used"]}
                else:
                    db, _ = groonga_side.create_db(gdir)
                    ld = groonga_side.load(db, load_file)
                    row["groonga"] = {"seconds": ld["seconds"], "passages_per_s": count / ld["seconds"],
                                      "cores_used": ld["cores_used"]}
            row["first"] = "groonga" if i % 2 == 0 else "renkei"
            row["ratio"] = row["renkei"]["passages_per_s"] / row["groonga"]["passages_per_s"]
            rounds.append(row)
            log(f"  paired build {i + 1}: renkei {row['renkei']['passages_per_s']:.0f}/s, "
                f"Groonga {row['groonga']['passages_per_s']:.0f}/s, ratio {row['ratio']:.2f}x")
    finally:
        shutil.rmtree(idx, ignore_errors=True)
        shutil.rmtree(gdir, ignore_errors=True)
        for path in (load_file, load_file + ".out"):
            if os.path.exists(path):
                os.unlink(path)
    return {"rounds": rounds}


def paired_one_client(idx: str, db: str, mix: list[dict], args) -> dict:
    """One client against each engine's server in short alternating rounds, both servers up
    throughout: the one-client latencies of the two engines are then taken under the same
    background load, where the main HTTP runs measure them minutes apart."""
    paths = {
        "renkei": renkei_paths(mix),
        "groonga": groonga_paths(mix),
    }
    lat: dict[str, list[float]] = {"renkei": [], "groonga": []}
    rounds, cursor, check = [], {"renkei": 0, "groonga": 0}, RenkeiCheck()
    log_path = os.path.join(args.work, "renkei-serve-paired.log")
    with renkei_side.Server(idx, free_port(), log_path, workers=args.renkei_workers) as rs, \
            groonga_side.Server(db) as gs:
        servers = {"renkei": (rs.base, rs.pid), "groonga": (gs.base, gs.pid)}
        first_pass(rs.base, paths["renkei"], rs.pid)
        first_pass(gs.base, paths["groonga"])
        for i in range(args.paired_rounds):
            row: dict = {}
            for engine in ("renkei", "groonga") if i % 2 == 0 else ("groonga", "renkei"):
                base, pid = servers[engine]
                mine, n = paths[engine], len(paths[engine])
                rotated = mine[cursor[engine] % n :] + mine[: cursor[engine] % n]
                r = loadgen.run(
                    base, rotated, clients=1, warmup=0.5, duration=args.paired_duration, server_pid=pid,
                    check=check if engine == "renkei" else groonga_answered,
                )
                cursor[engine] += r.sent
                lat[engine].extend(r.latencies)
                row[engine] = {"p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "requests": r.requests,
                               "errors": r.errors, "other_cpu_pct": loadgen.other_cpu_pct(r.as_dict())}
            row["ratio_p50"] = row["renkei"]["p50_ms"] / row["groonga"]["p50_ms"]
            rounds.append(row)
            log(f"  paired one-client round {i + 1}: renkei p50 {row['renkei']['p50_ms']:.2f} ms, "
                f"Groonga {row['groonga']['p50_ms']:.2f} ms, ratio {row['ratio_p50']:.2f}x")
    out = {engine: loadgen.summarize(v) for engine, v in lat.items()}
    out["rounds"] = rounds
    out["lru_hits"] = check.cached
    out["round_seconds"] = args.paired_duration
    return out


# ------------------------------------------------------------------------------------------------
# profiles


def _area(path: str, name: str) -> str:
    if "fugashi" in path or "fugashi" in name or "Tagger" in name:
        return "MeCab (fugashi)"
    if "/whoosh/" in path:
        return "Whoosh"
    for pkg in ("search", "indexer", "renkei", "web"):
        if f"{REPO}/{pkg}/" in path:
            return f"renkei {pkg}/"
    if "charset_normalizer" in path:
        return "charset_normalizer"
    if path == "~":
        if "pickle" in name or "marshal" in name:
            return "pickle/marshal"
        if "posix" in name or "io." in name or "write" in name or "read" in name:
            return "I/O builtins"
        return "other builtins"
    return "Python stdlib/other"


def summarize_profile(prof_path: str, top: int = 15) -> dict:
    import pstats

    st = pstats.Stats(prof_path)
    total = st.total_tt
    rows = []
    areas: dict[str, float] = collections.defaultdict(float)
    for (path, line, name), (_cc, nc, tt, ct, _callers) in st.stats.items():
        short = path.replace(REPO + "/", "").replace(sys.prefix, "<py>")
        label = f"{name} ({os.path.basename(path)}:{line})" if path != "~" else name
        rows.append({"func": label, "file": short, "calls": nc, "tottime": tt, "cumtime": ct})
        areas[_area(path, name)] += tt
    by_tt = sorted(rows, key=lambda r: -r["tottime"])[:top]
    own = [r for r in rows if r["file"].startswith(("search/", "indexer/", "renkei/", "web/"))]
    by_ct = sorted(own, key=lambda r: -r["cumtime"])[:top]
    for r in by_tt + by_ct:
        r["tottime_share"] = r["tottime"] / total
        r["cumtime_share"] = r["cumtime"] / total
    return {
        "total_s": total,
        "top_self": by_tt,
        "top_cumulative_renkei": by_ct,
        "areas": dict(sorted(((k, v / total) for k, v in areas.items()), key=lambda kv: -kv[1])),
    }


def summarize_sampled(root) -> dict:
    """Shares from a pyinstrument (sampling) profile: self time by area, and the inclusive time of
    renkei's own functions (first occurrence on each path, so recursion is not counted twice)."""
    total = root.time or 1e-9
    areas: dict[str, float] = collections.defaultdict(float)
    own: dict[str, float] = collections.defaultdict(float)

    def walk(fr, seen: frozenset, parent_path: str = "~", parent_name: str = "?") -> None:
        path = fr.file_path or "~"
        name = fr.function or "?"
        if fr.is_synthetic:  # pyinstrument's [self] / [await] leaves: the parent's own time
            path, name = parent_path, parent_name
        areas[_area(path, name)] += max(0.0, fr.time - sum(ch.time for ch in fr.children))
        key = None
        if path.startswith(tuple(f"{REPO}/{p}/" for p in ("search", "indexer", "web"))):
            key = f"{os.path.relpath(path, REPO)}: {name}"
            if key not in seen:
                own[key] += fr.time
        for ch in fr.children:
            walk(ch, seen | {key} if key else seen, path, name)

    walk(root, frozenset())
    return {"total_s": total,
            "areas": dict(sorted(((k, v / total) for k, v in areas.items()), key=lambda kv: -kv[1])),
            "renkei_inclusive": [{"func": k, "seconds": v, "share": v / total}
                                 for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:15]]}


def profile_build(cdir: str, work: str) -> dict:
    """``renkei index --procs 1`` under cProfile (one process, so every call is seen)."""
    res: dict = {}
    idx = os.path.join(work, "profile-index")
    shutil.rmtree(idx, ignore_errors=True)
    prof = os.path.join(work, "build.prof")
    args = [sys.executable, "-m", "cProfile", "-o", prof, "-m", "renkei", "index", "--seeds",
            os.path.join(cdir, "seeds"), "--index", idx, "--procs", "1"]
    t0 = time.perf_counter()
    p = subprocess.run(args, cwd=REPO, env=renkei_side.env(), capture_output=True, text=True)
    res["build_wall_s_under_cprofile"] = time.perf_counter() - t0
    if p.returncode != 0:
        res["build_error"] = (p.stderr or p.stdout)[-500:]
    else:
        res["build"] = summarize_profile(prof)
    shutil.rmtree(idx, ignore_errors=True)
    return res


def profile_query(index_dir: str, mix: list[dict], work: str, outdir: str) -> dict:
    """One pass of the mix through ``Engine.search`` under cProfile, one under pyinstrument.

    The same index the library figures were measured on; the mix is larger than the LRU, so
    every query is searched.
    """
    import cProfile

    res: dict = {}
    lib = renkei_side.Library(index_dir)
    for q in mix[:14]:
        lib.search(q)
    t0 = time.perf_counter()
    for q in mix:
        lib.search(q)
    res["pass_s_unprofiled"] = time.perf_counter() - t0
    pr = cProfile.Profile()
    pr.enable()
    for q in mix:
        lib.search(q)
    pr.disable()
    qprof = os.path.join(work, "query.prof")
    pr.dump_stats(qprof)
    res["query"] = summarize_profile(qprof)
    try:
        from pyinstrument import Profiler

        pi = Profiler(interval=0.0005)
        pi.start()
        for q in mix:
            lib.search(q)
        pi.stop()
        with open(os.path.join(outdir, "profile-query-pyinstrument.txt"), "w", encoding="utf-8") as f:
            f.write(pi.output_text(unicode=True, color=False, show_all=False))
        res["query_pyinstrument"] = "profile-query-pyinstrument.txt"
        res["query_sampled"] = summarize_sampled(pi.last_session.root_frame())
    except ImportError:
        pass
    return res


# ------------------------------------------------------------------------------------------------


def bench_size(n: int, args) -> dict:
    work = args.work
    cdir = os.path.join(work, f"corpus-{n}")
    res: dict = {"size": n, "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    log(f"== {n} passages (load average {' '.join(res['loadavg_start'])})")
    cfg = corpus.Config(n, os.path.abspath(cdir), seed=args.seed, workers=2)
    m = corpus.generate(cfg, log=lambda *a: log(" ", *a))
    jsonl = os.path.join(cdir, "passages.jsonl")
    if not os.path.exists(jsonl):
        raise SystemExit("renkei's parser (indexer.parse) is not importable: no passages.jsonl")
    n_pass, text_bytes = jsonl_bytes(jsonl)
    res["corpus"] = {
        k: m.get(k)
        for k in (
            "files",
            "files_by_format",
            "bytes",
            "distinct_words",
            "distinct_words_by_class",
            "seconds",
            "jsonl_parser",
        )
    }
    res["corpus"]["passages"] = n_pass
    res["corpus"]["text_bytes"] = text_bytes
    mix = queries.interleave(queries.load_or_pick(cdir, args.per_type))
    res["queries"] = {
        "distinct": len(mix),
        "per_type": args.per_type,
        "examples": {t: [q["q"] for q in mix if q["type"] == t][:3] for t in queries.TYPES},
    }
    log(f"  {n_pass} passages, {text_bytes / 1e6:.1f} MB of text; {len(mix)} distinct queries")

    if not args.no_floor:
        fl = tokfloor.run(jsonl, limit=args.floor_limit)
        res["floor"] = fl
        log(
            "  tokenization floor: "
            + ", ".join(f"{k} {v['passages_per_s']:.0f}/s" for k, v in fl.items() if isinstance(v, dict))
        )

    idx = os.path.join(work, f"index-{n}")
    ok, why = renkei_side.available()
    if ok and not args.no_renkei:
        rk: dict = {}
        saved = os.path.join(work, f"build-{n}.json")
        if args.reuse and os.path.exists(saved) and os.path.isdir(idx):
            b = json.load(open(saved))
            b["reused"] = True
            log(f"  renkei index: reusing {idx} and its build figures ({saved})")
        else:
            b = None
        if b is None:
            shutil.rmtree(idx, ignore_errors=True)
            wait_quiet(args.quiet_wait)
            b = renkei_side.build(
                os.path.join(cdir, "seeds"), idx, os.path.join(work, f"build-{n}.log"), procs=args.renkei_procs
            )
            b["renkei_commit"] = renkei_commit()
            json.dump(b, open(saved, "w"), indent=1)
        b["index_bytes"] = du(idx)
        b["passages"] = b.get("passages") or n_pass
        b["passages_per_s"] = b["passages"] / b["seconds"]
        b["mb_per_s"] = text_bytes / 1e6 / b["seconds"]
        rk["build"] = b
        log(
            f"  renkei index: {b['passages']} passages in {b['seconds']:.1f}s = {b['passages_per_s']:.0f}/s, "
            f"{b['cores_used']:.2f} cores, peak RSS {b['peak_rss_mb']:.0f} MB (tree {b['peak_tree_rss_mb']:.0f} MB), "
            f"index {b['index_bytes'] / 1e6:.0f} MB; {b['summary'][:120]}"
        )
        rk["library"] = renkei_library(idx, mix, args.lib_min, args.lib_max)
        if args.profile and n == min(args.sizes_list):
            log("  profiling the query path (cProfile, pyinstrument) on this index")
            args.profile_result = {"size": n, **profile_query(idx, mix, work, args.out)}
        lb = rk["library"]
        log(
            f"  renkei library: p50 {lb['all']['p50_ms']:.1f} p95 {lb['all']['p95_ms']:.1f} p99 {lb['all']['p99_ms']:.1f} ms; "
            + ", ".join(f"{t} {v['p50_ms']:.1f}" for t, v in lb["by_type"].items())
        )
        log("  renkei HTTP:")
        rk["http"] = renkei_http(idx, mix, args, work)
        res["renkei"] = rk
    else:
        res["renkei"] = {"skipped": why or "--no-renkei"}
        log(f"  renkei skipped: {why or '--no-renkei'}")

    gdir = os.path.join(work, f"groonga-{n}")
    if args.groonga and groonga_side.available():
        res["groonga"] = groonga_all(cdir, mix, args, gdir)
    else:
        res["groonga"] = {"skipped": "groonga not on PATH" if args.groonga else "--no-groonga"}
    if "renkei" in res and "build" in res["renkei"] and "load" in res["groonga"]:
        # A failure here is reported in the results; the figures measured so far are kept.
        if args.paired_rounds:
            log(f"  both servers up, one client each in {args.paired_rounds} alternating rounds")
            try:
                res["paired_http"] = paired_one_client(idx, res["groonga"]["db"], mix, args)
            except Exception as exc:
                res["paired_http_error"] = f"{type(exc).__name__}: {exc}"
                log(f"  paired one-client rounds failed: {res['paired_http_error']}")
        if args.paired_builds and n <= args.paired_max_size:
            log(f"  {args.paired_builds} more builds of each engine, in alternating pairs")
            try:
                res["paired_builds"] = paired_builds(n, cdir, args)
            except Exception as exc:
                res["paired_builds_error"] = f"{type(exc).__name__}: {exc}"
                log(f"  paired builds failed: {res['paired_builds_error']}")
    if not args.keep:
        shutil.rmtree(idx, ignore_errors=True)
        shutil.rmtree(gdir, ignore_errors=True)
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes", default="10000,100000", help="comma-separated passage counts (10000,100000,1000000)"
    )
    g = ap.add_mutually_exclusive_group()
    g.add_argument(
        "--groonga",
        dest="groonga",
        action="store_true",
        default=True,
        help="also benchmark Groonga when it is on PATH (default)",
    )
    g.add_argument("--no-groonga", dest="groonga", action="store_false")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument(
        "--work", default=os.path.join(HERE, "work"), help="corpora, indexes, databases (not in git)"
    )
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per HTTP run")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each HTTP run")
    ap.add_argument("--per-type", type=int, default=100,
                    help="variants per query type (7 types; era years stop at 63): well above 256 per server worker")
    ap.add_argument(
        "--lib-min",
        type=float,
        default=30.0,
        help="library timing: at least one pass over the mix and this many seconds",
    )
    ap.add_argument("--lib-max", type=float, default=180.0, help="library timing: at most this many seconds")
    ap.add_argument(
        "--min-requests",
        type=int,
        default=150,
        help="HTTP: extend a run past --duration until this many answers (up to --max-duration)",
    )
    ap.add_argument("--max-duration", type=float, default=60.0)
    ap.add_argument("--floor-limit", type=int, default=20000, help="passages tokenized for the MeCab floor")
    ap.add_argument("--renkei-procs", type=int, default=None, help="renkei index --procs (default: renkei's)")
    ap.add_argument(
        "--renkei-workers", type=int, default=None, help="renkei serve --workers (default: renkei's)"
    )
    ap.add_argument("--seed", type=int, default=corpus.Config.seed)
    ap.add_argument("--quiet-wait", type=float, default=60.0,
                    help="before each measurement wait up to this long for the machine to be idle")
    ap.add_argument(
        "--profile", action="store_true", help="profile renkei's build and query paths at the smallest size"
    )
    ap.add_argument("--paired-rounds", type=int, default=6,
                    help="one-client rounds per engine with both servers up, alternating (0: none)")
    ap.add_argument("--paired-duration", type=float, default=5.0, help="seconds measured per paired round")
    ap.add_argument("--paired-builds", type=int, default=2,
                    help="extra builds of each engine in alternating pairs (0: none)")
    ap.add_argument("--paired-max-size", type=int, default=100_000,
                    help="no paired builds above this many passages")
    ap.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk cross-check")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--no-renkei", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep indexes and Groonga databases under --work")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse a kept renkei index and its saved build figures (work/build-N.json) instead of rebuilding")
    args = ap.parse_args(argv)
    args.clients_list = [int(c) for c in args.clients.split(",") if c]
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    args.sizes_list = sizes
    args.profile_result = None
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    started = time.time()
    results = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "args": {k: v for k, v in vars(args).items()},
        "sizes": [],
    }
    touch = results["machine"]["first_touch"]
    log(f"memory first touch: {touch['cold_s_per_gib']} s/GiB cold, {touch['warm_s_per_gib']} s/GiB warm")
    out_json = os.path.join(args.out, "latest.json")
    for n in sizes:
        results["sizes"].append(bench_size(n, args))
        results["seconds"] = round(time.time() - started, 1)
        json.dump(results, open(out_json, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    if args.profile and renkei_side.available()[0]:
        n = min(sizes)
        log(f"== profiling renkei's build at {n} passages (--procs 1, cProfile)")
        results["profile"] = {**(args.profile_result or {"size": n}),
                              **profile_build(os.path.join(args.work, f"corpus-{n}"), args.work)}
    results["seconds"] = round(time.time() - started, 1)
    json.dump(results, open(out_json, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    import report

    report.write(results, args.out)
    log(f"done in {results['seconds']:.0f}s: {args.out}/latest.md, latest.png, latest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
