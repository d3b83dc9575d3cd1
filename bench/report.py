"""Markdown table and PNG plot from ``latest.json``: ``python bench/report.py [bench/results]``.

Ratios are always renkei / Groonga: above 1 means renkei takes more (time, memory, disk) or
gives more (throughput); for latency lower is better, for passages/s and req/s higher is better.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys

import loadgen

TYPES = ("rare", "common", "and", "phrase", "reading", "era", "facet")


def _f(x, nd=1) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "–"
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def _ratio(a, b, nd=2) -> str:
    if a is None or b is None or not b:
        return "–"
    try:
        return f"{a / b:.{nd}f}×"
    except (TypeError, ZeroDivisionError):
        return "–"


def _split(d: dict) -> str:
    """Server CPU per process when there are several (gunicorn workers): shows an uneven spread."""
    per = d.get("server_cpu_pct_by_process") or []
    return " (" + " + ".join(f"{x:.0f}" for x in per) + ")" if len(per) > 1 else ""


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _paired_builds(sizes: list[dict]) -> list[str]:
    """The extra builds run in alternating pairs, with the main pair's ratio beside them."""
    L = []
    for s in sizes:
        if s.get("paired_builds_error"):
            L.append(f"Builds in pairs at {s['size']:,} passages failed: {s['paired_builds_error']}\n")
        rounds = _get(s, "paired_builds", "rounds")
        b, g = _get(s, "renkei", "build"), _get(s, "groonga", "load")
        if not rounds:
            continue
        if not any(line.startswith("| passages") for line in L):
            L.append("Builds in pairs: after the main builds, each engine built the same files again, one right "
                     "after the other on a fresh index, alternating which went first, so that both builds of "
                     "a pair share the machine's background load (Groonga's own speed varies by a third from "
                     "run to run here).\n")
            L.append("| passages | pair | first | renkei passages/s | Groonga passages/s | ratio |")
            L.append("|---:|---|---|---:|---:|---:|")
        ratios = []
        if b and g and not b.get("reused"):
            ratios.append(b["passages_per_s"] / g["passages_per_s"])
            L.append(f"| {s['size']:,} | main builds (minutes apart) | renkei | {_f(b['passages_per_s'])} "
                     f"| {_f(g['passages_per_s'])} | {ratios[-1]:.2f}× |")
        for i, r in enumerate(rounds, 1):
            ratios.append(r["ratio"])
            L.append(f"| {s['size']:,} | {i} | {r['first']} | {_f(r['renkei']['passages_per_s'])} "
                     f"| {_f(r['groonga']['passages_per_s'])} | {r['ratio']:.2f}× |")
        L.append(f"| {s['size']:,} | **median of {len(ratios)}** | | | | **{statistics.median(ratios):.2f}×** |")
    return L + [""] if L else []


def _paired_http(sizes: list[dict]) -> list[str]:
    """One client against each engine in alternating rounds, both servers up."""
    L = []
    for s in sizes:
        if s.get("paired_http_error"):
            L.append(f"One client with both servers up at {s['size']:,} passages failed: {s['paired_http_error']}\n")
        p = _get(s, "paired_http")
        if not p:
            continue
        if not any(line.startswith("| passages") for line in L):
            L.append(f"One client, both servers up, in {len(p['rounds'])} alternating rounds of "
                     f"{_f(p['round_seconds'])} s per engine (after a first pass of each): the one-client runs "
                     "above measure the two engines minutes apart, under whatever else the machine was doing "
                     "then; here each round of one engine sits next to a round of the other. *pooled* = "
                     "percentiles over every request of every round.\n")
            L.append("| passages | round | renkei p50 ms | Groonga p50 ms | ratio p50 | other CPU % (renkei / Groonga) |")
            L.append("|---:|---|---:|---:|---:|---:|")
        for i, r in enumerate(p["rounds"], 1):
            L.append(f"| {s['size']:,} | {i} | {_f(r['renkei']['p50_ms'], 2)} | {_f(r['groonga']['p50_ms'], 2)} "
                     f"| {r['ratio_p50']:.2f}× | {_f(r['renkei']['other_cpu_pct'], 0)} / "
                     f"{_f(r['groonga']['other_cpu_pct'], 0)} |")
        rk, gr = p["renkei"], p["groonga"]
        hits = f", {p['lru_hits']} LRU hits" if p.get("lru_hits") else ""
        L.append(f"| {s['size']:,} | **pooled** ({rk['n']:,} / {gr['n']:,} requests{hits}) | **{_f(rk['p50_ms'], 2)}** "
                 f"| **{_f(gr['p50_ms'], 2)}** | **{_ratio(rk['p50_ms'], gr['p50_ms'])}** | |")
        L.append(f"| {s['size']:,} | pooled p99 | {_f(rk['p99_ms'], 2)} | {_f(gr['p99_ms'], 2)} "
                 f"| {_ratio(rk['p99_ms'], gr['p99_ms'])} | |")
        L.append(f"| {s['size']:,} | median of the rounds' ratios | | | "
                 f"{statistics.median([r['ratio_p50'] for r in p['rounds']]):.2f}× | |")
    return L + [""] if L else []


def markdown(res: dict) -> str:
    m = res.get("machine", {})
    a = res.get("args", {})
    L = []
    L.append("# renkei vs Groonga: benchmark results\n")
    L.append(
        f"Run {res.get('started', '?')}, {res.get('seconds', '?')} s in all. Machine: {m.get('cores')} cores "
        f"({m.get('cpu', '?')}), {m.get('mem_gb', '?')} GiB; Python {m.get('python')}, Whoosh {m.get('whoosh', '?')}; "
        f"{m.get('groonga', 'no Groonga')}; renkei at {m.get('renkei_commit', '?')} ({m.get('renkei_tree', '?')}).\n"
    )
    touch = m.get("first_touch")
    if touch:
        L.append(
            f"Memory's first touch at the start: {touch['cold_s_per_gib']:.2f} s/GiB freed over 4 s before, "
            f"{touch['warm_s_per_gib']:.2f} s/GiB freed a moment before (bench/README.md, *Memory*).\n"
        )
    L.append(
        f"Command: `python bench/run.py --sizes {a.get('sizes')} --clients {a.get('clients')} "
        f"--duration {a.get('duration')}{' --profile' if a.get('profile') else ''}`. "
        "Every ratio is **renkei / Groonga** (for times and memory lower is better, "
        "for passages/s and req/s higher is better). See bench/README.md for what each figure means.\n"
    )
    sizes = res.get("sizes", [])

    for note in res.get("notes", []):
        L.append(f"> {note}\n")
    L.append("## Corpus\n")
    L.append(
        "| passages (target) | files | passages (renkei parser) | text MB | distinct words drawn from the lexicon | generation s |"
    )
    L.append("|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        c = s.get("corpus", {})
        L.append(
            f"| {s['size']:,} | {_f(c.get('files'))} | {_f(c.get('passages'))} | {_f((c.get('text_bytes') or 0) / 1e6)} "
            f"| {_f(c.get('distinct_words'))} | {_f(c.get('seconds'))} |"
        )
    L.append("")

    L.append("## Index build\n")
    L.append(
        "| passages | engine | passages/s | MB/s | seconds | CPU cores used | peak RSS MB (largest process / whole tree) | index on disk MB |"
    )
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        b = _get(s, "renkei", "build") or {}
        g = _get(s, "groonga", "load") or {}
        gdb = _get(s, "groonga", "db_bytes")
        if b:
            L.append(
                f"| {s['size']:,} | renkei (`renkei index`){' ¹' if b.get('reused') else ''} | {_f(b.get('passages_per_s'))} | {_f(b.get('mb_per_s'), 2)} "
                f"| {_f(b.get('seconds'))} | {_f(b.get('cores_used'), 2)} ({_f(b.get('other_cores_busy'), 2)}) | {_f(b.get('peak_rss_mb'))} / {_f(b.get('peak_tree_rss_mb'))} "
                f"| {_f((b.get('index_bytes') or 0) / 1e6)} |"
            )
        else:
            L.append(f"| {s['size']:,} | renkei | not run: {_get(s, 'renkei', 'skipped')} | | | | | |")
        if g:
            L.append(
                f"| {s['size']:,} | Groonga (`load`, TokenMecab) | {_f(g.get('passages_per_s'))} | {_f(g.get('mb_per_s'), 2)} "
                f"| {_f(g.get('seconds'))} | {_f(g.get('cores_used'), 2)} | {_f(g.get('peak_rss_mb'))} | {_f((gdb or 0) / 1e6)} |"
            )
        go = _get(s, "groonga", "load_offline")
        if go:
            L.append(
                f"| {s['size']:,} | Groonga (`load` without index, then offline index build) | {_f(go.get('passages_per_s'))} "
                f"| {_f(go.get('mb_per_s'), 2)} | {_f(go.get('seconds'))} ({_f(go.get('load_seconds'))} + {_f(go.get('index_seconds'))}) "
                f"| {_f(go.get('cores_used'), 2)} | {_f(go.get('peak_rss_mb'))} | {_f((go.get('db_bytes') or 0) / 1e6)} |"
            )
        if b and g:
            L.append(
                f"| {s['size']:,} | **ratio** (vs online `load`) | {_ratio(b.get('passages_per_s'), g.get('passages_per_s'))} "
                f"| {_ratio(b.get('mb_per_s'), g.get('mb_per_s'))} | {_ratio(b.get('seconds'), g.get('seconds'))} "
                f"| {_ratio(b.get('cores_used'), g.get('cores_used'))} | {_ratio(b.get('peak_tree_rss_mb'), g.get('peak_rss_mb'))} "
                f"| {_ratio(b.get('index_bytes'), gdb)} |"
            )
        fl = s.get("floor")
        if fl:
            for key, label in (
                ("mecab_parse_1p", "floor: MeCab `parse`, 1 process"),
                ("mecab_parse_2p", "floor: MeCab `parse`, 2 processes"),
                ("fugashi_nodes_1p", "floor: fugashi nodes, 1 process"),
                ("fugashi_nodes_2p", "floor: fugashi nodes, 2 processes"),
                ("best_path_1p", "floor: MeCab's best path from nodes, 1 process"),
                ("best_path_2p", "floor: MeCab's best path from nodes, 2 processes"),
            ):
                v = fl.get(key)
                if v:
                    share = (b.get("passages_per_s") / v["passages_per_s"]) if b else None
                    L.append(
                        f"| {s['size']:,} | {label} | {_f(v['passages_per_s'])} | {_f(v['mb_per_s'], 2)} "
                        f"| {_f(s['corpus']['passages'] / v['passages_per_s'])} | {'2' if key.endswith('2p') else '1'} | | "
                        f"{'renkei at ' + format(share, '.0%') + ' of this' if share else ''} |"
                    )
    L.append("")

    reused = [s for s in sizes if _get(s, "renkei", "build", "reused")]
    if reused:
        at = sorted({_get(s, "renkei", "build", "renkei_commit") or "an earlier commit" for s in reused})
        L.append(f"¹ Build figures measured by an earlier run of the same command, with renkei at {', '.join(at)}; "
                 "this run reused that index (`--reuse`, same index format) for its queries.\n")
    L += _paired_builds(sizes)
    L.append("## Queries, one at a time (p50 ms per query type)\n")
    L.append(
        "renkei through the library (`Engine.search`, in process) and over HTTP with one client; Groonga over "
        "HTTP with one client, with the same four facets as drilldowns (and plain, without drilldowns). "
        "Hits = median total hits per query of that type (renkei / Groonga).\n"
    )
    L.append(
        "| passages | type | example | renkei library p50 / p95 / p99 | renkei HTTP p50 | Groonga HTTP p50 (facets) | ratio HTTP | Groonga plain p50 | hits renkei / Groonga |"
    )
    L.append("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        lib = _get(s, "renkei", "library", "by_type") or {}
        r1 = _get(s, "renkei", "http", "mix", "1", "by_label") or {}
        g1 = _get(s, "groonga", "http", "mix", "1", "by_label") or {}
        gp = _get(s, "groonga", "http_plain", "mix", "1", "by_label") or {}
        rh = _get(s, "renkei", "library", "hits_median") or {}
        gh = _get(s, "groonga", "hits_median") or {}
        ex = _get(s, "queries", "examples") or {}
        for t in TYPES:
            lt = lib.get(t, {})
            e = (ex.get(t) or [""])[0]
            L.append(
                f"| {s['size']:,} | {t} | `{e}` | {_f(lt.get('p50_ms'), 2)} / {_f(lt.get('p95_ms'), 2)} / {_f(lt.get('p99_ms'), 2)} "
                f"| {_f(_get(r1, t, 'p50_ms'), 2)} | {_f(_get(g1, t, 'p50_ms'), 2)} "
                f"| {_ratio(_get(r1, t, 'p50_ms'), _get(g1, t, 'p50_ms'), 1)} | {_f(_get(gp, t, 'p50_ms'), 2)} "
                f"| {_f(rh.get(t))} / {_f(gh.get(t))} |"
            )
        la = _get(s, "renkei", "library") or {}
        if la:
            L.append(
                f"| {s['size']:,} | **all** | {la.get('queries')} timed | {_f(_get(la, 'all', 'p50_ms'), 2)} / "
                f"{_f(_get(la, 'all', 'p95_ms'), 2)} / {_f(_get(la, 'all', 'p99_ms'), 2)} "
                f"| {_f(_get(s, 'renkei', 'http', 'mix', '1', 'p50_ms'), 2)} | {_f(_get(s, 'groonga', 'http', 'mix', '1', 'p50_ms'), 2)} "
                f"| {_ratio(_get(s, 'renkei', 'http', 'mix', '1', 'p50_ms'), _get(s, 'groonga', 'http', 'mix', '1', 'p50_ms'), 1)} "
                f"| {_f(_get(s, 'groonga', 'http_plain', 'mix', '1', 'p50_ms'), 2)} | |"
            )
            L.append(
                f"| {s['size']:,} | renkei LRU cache hit | same query twice | {_f(_get(la, 'cache_hit', 'p50_ms'), 3)} | | | | | |"
            )
        rf, gf = _get(s, "renkei", "http", "first_pass"), _get(s, "groonga", "first_pass")
        if rf or gf:
            L.append(
                f"| {s['size']:,} | first pass² | each query once, new to its process | "
                f"| {_f(_get(rf, 'p50_ms'), 2)} | {_f(_get(gf, 'p50_ms'), 2)} "
                f"| {_ratio(_get(rf, 'p50_ms'), _get(gf, 'p50_ms'), 1)} | | |"
            )
    L.append("")
    if any(_get(s, "renkei", "http", "first_pass") for s in sizes):
        L.append(
            "² Before any timed run each engine's server answers the whole mix once, in order, from one "
            "client: once per process that answers requests (renkei's workers, Groonga's one process). "
            "Its p50 is that of a query new to the process; the timed runs above and below follow it.\n"
        )

    L.append("## HTTP under load (mixed queries, closed loop, keep-alive where the server allows it)\n")
    L.append(
        "*other CPU %* = the whole machine's busy CPU minus server and client: other processes "
        "sharing the two cores during the run.\n"
    )
    L.append(
        "| passages | clients | engine | p50 ms | p95 ms | p99 ms | req/s | server CPU % | client CPU % | other CPU % | errors | wrk req/s | wrk p50 / p99 ms |"
    )
    L.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        for c in [str(x) for x in a.get("clients_list", [1, 8, 32])]:
            r = _get(s, "renkei", "http", "mix", c)
            g = _get(s, "groonga", "http", "mix", c)
            gp = _get(s, "groonga", "http_plain", "mix", c)
            rw = _get(s, "renkei", "http", "wrk", c) or {}
            gw = _get(s, "groonga", "http", "wrk", c) or {}
            for name, d, w in (("renkei", r, rw), ("Groonga (facets)", g, gw), ("Groonga (plain)", gp, {})):
                if not d:
                    continue
                other = loadgen.other_cpu_pct(d)
                if d.get("cache_hits"):
                    name += f" ({d['cache_hits']} LRU hits)"
                L.append(
                    f"| {s['size']:,} | {c} | {name} | {_f(d['p50_ms'], 2)} | {_f(d['p95_ms'], 2)} | {_f(d['p99_ms'], 2)} "
                    f"| {_f(d['rps'])} | {_f(d.get('server_cpu_pct'), 0)}{_split(d)} | {_f(d.get('client_cpu_pct'), 0)} | {_f(other, 0)} | {d['errors']} "
                    f"| {_f(w.get('rps'))} | {_f(w.get('p50_ms'), 2) + ' / ' + _f(w.get('p99_ms'), 2) if w else ''} |"
                )
            if r and g:
                L.append(
                    f"| {s['size']:,} | {c} | **ratio** (vs facets) | {_ratio(r['p50_ms'], g['p50_ms'], 1)} "
                    f"| {_ratio(r['p95_ms'], g['p95_ms'], 1)} | {_ratio(r['p99_ms'], g['p99_ms'], 1)} | {_ratio(r['rps'], g['rps'], 3)} "
                    f"| | | | | {_ratio(rw.get('rps'), gw.get('rps'), 3)} | |"
                )
    L.append("")

    L += _paired_http(sizes)

    mem_rows = []
    for s in sizes:
        for eng, key in (("renkei", ("renkei", "http", "memory_after_load")), ("Groonga", ("groonga", "memory_after_load"))):
            mm = _get(s, *key)
            if mm:
                mem_rows.append(f"| {s['size']:,} | {eng} | {' + '.join(f'{x:,.0f}' for x in mm['rss_mb'])} "
                                f"| {_f(mm.get('pss_total_mb'))} |")
    if mem_rows:
        L.append("Server memory after the HTTP runs (per process; PSS splits shared pages between processes):\n")
        L.append("| passages | engine | RSS MB per process | PSS MB total |")
        L.append("|---:|---|---:|---:|")
        L += mem_rows
        L.append("")

    L.append("## Load generator calibration (trivial endpoints)\n")
    L.append(
        "The same client against an endpoint that does almost nothing: `/api/health` (renkei's web stack "
        "without a search) and Groonga's `/d/status` (no keep-alive: one TCP connection per request). "
        "If the client were the bottleneck, client CPU would sit near 100 % of a core while the "
        "search runs above stay far below these rates.\n"
    )
    L.append(
        "| passages | endpoint | clients | req/s | p50 ms | p99 ms | client CPU % of a core | client CPU µs/req | server CPU % | wrk req/s |"
    )
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        for eng, ep in (("renkei", "`/api/health`"), ("groonga", "`/d/status`")):
            t = _get(s, eng, "http", "trivial") or {}
            wt = _get(s, eng, "http", "wrk_trivial") or {}
            for c, d in t.items():
                L.append(
                    f"| {s['size']:,} | {ep} | {c} | {_f(d['rps'])} | {_f(d['p50_ms'], 2)} | {_f(d['p99_ms'], 2)} "
                    f"| {_f(d['client_cpu_pct'], 0)} | {_f(d['client_cpu_us_per_req'], 0)} | {_f(d.get('server_cpu_pct'), 0)} "
                    f"| {_f(_get(wt, c, 'rps'))} |"
                )
    L.append("")

    p = res.get("profile")
    if p:
        L.append(f"## Where renkei spends its time (cProfile at {p['size']:,} passages)\n")
        if p.get("pass_s_unprofiled"):
            L.append(f"One unprofiled pass of the {_get(res, 'sizes', )[0]['queries']['distinct'] if sizes else '?'}-query mix "
                     f"took {p['pass_s_unprofiled']:.1f} s; the profiled pass below is slower by the profiler's overhead, "
                     "the shares are what matters. fugashi is compiled (Cython): MeCab's time shows as the self "
                     "time of the Python function that calls it (`_parse` in search/tokenizer.py).\n")
        for key, title in (
            ("build", "Index build (`renkei index --procs 1` under cProfile)"),
            ("query", "Query path (one pass of the mix through `Engine.search`, LRU missed)"),
        ):
            d = p.get(key)
            if not d:
                if p.get(f"{key}_error"):
                    L.append(f"{title}: failed: {p[key + '_error']}\n")
                continue
            L.append(f"### {title}: {d['total_s']:.1f} s profiled\n")
            L.append(
                "Self time by area: "
                + ", ".join(f"{k} {v:.0%}" for k, v in d["areas"].items() if v >= 0.005)
                + "\n"
            )
            L.append("| top self time | calls | self s | share |")
            L.append("|---|---:|---:|---:|")
            for r in d["top_self"][:12]:
                L.append(
                    f"| `{r['func'][:90]}` | {r['calls']:,} | {r['tottime']:.2f} | {r['tottime_share']:.0%} |"
                )
            L.append("")
            L.append("| renkei function (cumulative) | calls | cumulative s | share |")
            L.append("|---|---:|---:|---:|")
            for r in d["top_cumulative_renkei"][:12]:
                L.append(
                    f"| `{r['file']}: {r['func'][:70]}` | {r['calls']:,} | {r['cumtime']:.2f} | {r['cumtime_share']:.0%} |"
                )
            L.append("")
        qs = p.get("query_sampled")
        if qs:
            L.append(f"### Query path, sampled (pyinstrument, less distorted than cProfile): {qs['total_s']:.1f} s\n")
            L.append("Self time by area: " + ", ".join(f"{k} {v:.0%}" for k, v in qs["areas"].items() if v >= 0.005) + "\n")
            L.append("| renkei function (inclusive) | s | share |")
            L.append("|---|---:|---:|")
            for r in qs["renkei_inclusive"][:12]:
                L.append(f"| `{r['func']}` | {r['seconds']:.2f} | {r['share']:.0%} |")
            L.append("")
        if p.get("query_pyinstrument"):
            L.append(f"The full sampled call tree of the query path is in `{p['query_pyinstrument']}`.\n")
    return "\n".join(L) + "\n"


def plot(res: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = res.get("sizes", [])
    xs = [s["size"] for s in sizes]
    fig, axes = plt.subplots(1, 3, figsize=(16, 6.2))

    def series(fn):
        pts = [(s["size"], fn(s)) for s in sizes]
        return [x for x, y in pts if y], [y for x, y in pts if y]

    ax = axes[0]
    for label, fn, style in (
        ("renkei index", lambda s: _get(s, "renkei", "build", "seconds"), "o-"),
        ("Groonga load", lambda s: _get(s, "groonga", "load", "seconds"), "s-"),
        (
            "MeCab parse floor, 2 procs",
            lambda s: (
                s["corpus"]["passages"] / s["floor"]["mecab_parse_2p"]["passages_per_s"]
                if s.get("floor")
                else None
            ),
            "^--",
        ),
    ):
        x, y = series(fn)
        if x:
            ax.plot(x, y, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("seconds")
    ax.set_title("Index build time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)

    ax = axes[1]
    for label, fn, style in (
        ("renkei library p50", lambda s: _get(s, "renkei", "library", "all", "p50_ms"), "o--"),
        ("renkei HTTP 1 client p50", lambda s: _get(s, "renkei", "http", "mix", "1", "p50_ms"), "o-"),
        ("renkei HTTP 8 clients p99", lambda s: _get(s, "renkei", "http", "mix", "8", "p99_ms"), "o:"),
        (
            "Groonga HTTP 1 client p50 (facets)",
            lambda s: _get(s, "groonga", "http", "mix", "1", "p50_ms"),
            "s-",
        ),
        (
            "Groonga HTTP 8 clients p99 (facets)",
            lambda s: _get(s, "groonga", "http", "mix", "8", "p99_ms"),
            "s:",
        ),
        (
            "Groonga HTTP 1 client p50 (plain)",
            lambda s: _get(s, "groonga", "http_plain", "mix", "1", "p50_ms"),
            "d-",
        ),
    ):
        x, y = series(fn)
        if x:
            ax.plot(x, y, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("ms")
    ax.set_title("Query latency (mixed queries)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)

    ax = axes[2]
    for label, fn, style in (
        ("renkei 8 clients", lambda s: _get(s, "renkei", "http", "mix", "8", "rps"), "o-"),
        ("renkei 32 clients", lambda s: _get(s, "renkei", "http", "mix", "32", "rps"), "o:"),
        ("Groonga 8 clients (facets)", lambda s: _get(s, "groonga", "http", "mix", "8", "rps"), "s-"),
        ("Groonga 32 clients (facets)", lambda s: _get(s, "groonga", "http", "mix", "32", "rps"), "s:"),
        ("Groonga 8 clients (plain)", lambda s: _get(s, "groonga", "http_plain", "mix", "8", "rps"), "d-"),
    ):
        x, y = series(fn)
        if x:
            ax.plot(x, y, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("requests/s")
    ax.set_title("HTTP throughput (mixed queries)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    from matplotlib.ticker import LogLocator, NullLocator, ScalarFormatter

    for ax in axes:
        if xs:
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{x // 1000}k" if x < 1_000_000 else f"{x / 1e6:g}M" for x in xs])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xlim(min(xs) / 2, max(xs) * 2)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_locator(NullLocator())
    fig.suptitle(
        f"renkei vs Groonga on {res.get('machine', {}).get('cores', '?')} cores ({res.get('started', '')})"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(res: dict, outdir: str) -> None:
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "latest.md"), "w", encoding="utf-8") as f:
        f.write(markdown(res))
    try:
        plot(res, os.path.join(outdir, "latest.png"))
    except ImportError:
        print("matplotlib is not installed (pip install -r bench/requirements.txt): no PNG", file=sys.stderr)


if __name__ == "__main__":
    d = (
        sys.argv[1]
        if len(sys.argv) > 1
        else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    )
    write(json.load(open(os.path.join(d, "latest.json"), encoding="utf-8")), d)
