"""Cross-check with ``wrk`` (Debian's package), a C load generator, when it is installed.

The same round-robin path list is fed to wrk through a Lua script; its ``done`` hook prints the
latency percentiles as one JSON line. wrk starts its timer after the connection is open, so for a
server without keep-alive (Groonga's) its latencies leave out the TCP connect, which
``loadgen.py`` counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

LUA = r"""
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%%d,"duration_us":%%d,"socket_errors":%%d,"status_errors":%%d,' ..
    '"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"mean_us":%%f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run(base: str, paths: list[str], clients: int, duration: float) -> dict:
    if not base.startswith(("http://127.", "http://localhost")):
        raise ValueError("wrk is only pointed at loopback addresses")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % ", ".join(_lua_str(p) for p in paths))
        script = f.name
    try:
        p = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{clients}",
                f"-d{max(1, int(round(duration)))}s",
                "--timeout",
                "30s",
                "-s",
                script,
                base + "/",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
        )
    finally:
        os.unlink(script)
    for line in p.stdout.splitlines():
        if line.startswith("WRKJSON "):
            d = json.loads(line[8:])
            secs = d["duration_us"] / 1e6
            return {
                "clients": clients,
                "requests": d["requests"],
                "rps": d["requests"] / secs if secs else 0.0,
                "p50_ms": d["p50_us"] / 1e3,
                "p95_ms": d["p95_us"] / 1e3,
                "p99_ms": d["p99_us"] / 1e3,
                "mean_ms": d["mean_us"] / 1e3,
                "errors": d["socket_errors"] + d["status_errors"],
            }
    raise RuntimeError(f"wrk gave no result: {p.stdout[-500:]} {p.stderr[-500:]}")
