"""Running the app under a production WSGI server, with one access-log line per request.

Three servers are supported; ``RENKEI_SERVER`` (or ``server=``) picks one:

* ``granian`` — ``workers`` processes (default: one per core), each with a Rust HTTP runtime
  and one Python thread running the app. Connections are parsed, kept alive and answered
  outside Python, so a request costs the app and little else.
* ``gunicorn`` — ``workers`` processes (default: one per core) of 4 threads each. POSIX only.
  The processes share one listening socket, and whichever wakes first accepts: a burst of
  keep-alive connections could all land on one process while the other idles.
  :class:`BalancedThreadWorker` stops accepting while it holds more connections than the
  least loaded live worker, so they spread evenly.
* ``waitress`` — one process, ``workers`` threads (default 8). Pure Python: runs everywhere.

The default is the first of granian, gunicorn, waitress that is installed and runs on this
platform (granian measured fastest on the benchmark index: see README.md, "Serving"). Every
request checks which index generation is served, so a rebuild by ``renkei index`` is picked
up without a restart.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger("renkei.access")

SERVERS = ("granian", "gunicorn", "waitress")
WAITRESS_THREADS = 8
GUNICORN_THREADS = 4
GRANIAN_THREADS = 1  # app threads per process: searches hold the GIL, more only add switching
_INDEX_ENV = "RENKEI_SERVE_INDEX"  # how granian's worker processes learn the index
MAX_LOGGED_URI = 300
_URI_SAFE = "/?=&%+:,;@!$'()*[]~-._"


def default_server() -> str:
    """The server ``serve`` uses unless told otherwise."""
    chosen = os.environ.get("RENKEI_SERVER", "").strip().lower()
    if chosen in SERVERS:
        return chosen
    if _installed("granian"):
        return "granian"
    return "gunicorn" if sys.platform != "win32" and _installed("gunicorn") else "waitress"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def logged_uri(environ: dict) -> str:
    """Path and query of a request as printable ASCII, cut to a bounded length."""
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    uri = quote(path.encode("latin-1", "replace"), safe=_URI_SAFE)
    if query:
        uri += "?" + quote(query.encode("latin-1", "replace"), safe=_URI_SAFE)
    return uri if len(uri) <= MAX_LOGGED_URI else uri[:MAX_LOGGED_URI] + "..."


class AccessLog:
    """WSGI middleware logging ``METHOD /path?query STATUS 12.3ms`` once per request."""

    def __init__(self, app: Callable, logger: logging.Logger = log) -> None:
        self.app = app
        self.logger = logger

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(code: str, headers, exc_info=None):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            self._log(environ, "500", started)
            raise
        return _ClosingIterator(body, lambda: self._log(environ, status[0], started))

    def _log(self, environ: dict, status: str, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        method = "".join(c for c in environ.get("REQUEST_METHOD", "-") if c.isalnum())[:16]
        self.logger.info("%s %s %s %.1fms", method, logged_uri(environ), status, ms)


class _ClosingIterator:
    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self):
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


class _Loads:
    """Each gunicorn worker's open connections and last heartbeat, in memory shared by the
    arbiter's children (allocated before the fork)."""

    STALE = 3.0  # seconds without a heartbeat after which a worker counts as gone

    def __init__(self, workers: int) -> None:
        from multiprocessing import RawArray

        self.connections = RawArray("i", workers)
        self.beats = RawArray("d", workers)

    def limit(self, slot: int, connections: int, cap: int) -> int:
        """How many connections the worker in ``slot`` may hold: one more than the least
        loaded other live worker, so the least loaded one always accepts."""
        now = time.monotonic()
        self.connections[slot], self.beats[slot] = connections, now
        others = [self.connections[i] for i in range(len(self.beats))
                  if i != slot and now - self.beats[i] < self.STALE]
        return min(cap, min(others) + 1) if others else cap


_LOADS: _Loads | None = None


def _pre_fork(server, worker) -> None:
    """In the arbiter, before a worker forks: give it the lowest slot no live worker holds
    (a replacement takes the slot of the worker it replaces)."""
    if _LOADS is None:
        return
    taken = {getattr(w, "renkei_slot", None) for w in server.WORKERS.values()}
    free = [i for i in range(len(_LOADS.beats)) if i not in taken]
    worker.renkei_slot = free[0] if free else None  # more workers than slots: not balanced
    if free:
        _LOADS.beats[free[0]] = _LOADS.connections[free[0]] = 0


def _child_exit(server, worker) -> None:
    """In the arbiter, when a worker has exited: its count no longer caps the others."""
    slot = getattr(worker, "renkei_slot", None)
    if _LOADS is not None and slot is not None:
        _LOADS.beats[slot] = _LOADS.connections[slot] = 0


def __getattr__(name: str):
    # gunicorn loads its worker class by dotted name; gunicorn itself is imported only then.
    if name == "BalancedThreadWorker":
        return _balanced_worker_class()
    raise AttributeError(name)


@functools.cache
def _balanced_worker_class() -> type:
    from gunicorn.workers.gthread import ThreadWorker

    class BalancedThreadWorker(ThreadWorker):
        """gunicorn's thread worker, accepting only its share of the connections."""

        @property
        def worker_connections(self) -> int:
            cap = self.cfg.worker_connections
            slot = getattr(self, "renkei_slot", None)
            if _LOADS is None or slot is None:
                return cap
            return _LOADS.limit(slot, self.nr_conns, cap)

        @worker_connections.setter
        def worker_connections(self, value: int) -> None:
            pass  # set by ThreadWorker.__init__; the cap is read from the config instead

    return BalancedThreadWorker


def make_app(index_dir: Path | str) -> Callable:
    """The app for ``index_dir`` wrapped in the access log, its engine warmed (each server
    process calls this before it accepts a connection)."""
    from web import create_app, get_engine

    app = create_app({"INDEX_DIR": str(index_dir)})
    started = time.perf_counter()
    with app.app_context():
        if get_engine().warm():
            logging.getLogger("renkei").info("index loaded in %.2fs", time.perf_counter() - started)
    return AccessLog(app)


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("renkei").setLevel(logging.INFO)


def serve(host: str, port: int, index_dir: Path | str, workers: int | None = None, *,
          server: str | None = None) -> None:
    """Serve the search page and API on ``host:port`` until interrupted."""
    _configure_logging()
    server = (server or default_server()).lower()
    if server not in SERVERS:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
    if server == "granian":
        _serve_granian(host, port, index_dir, workers or (os.cpu_count() or 1))
    elif server == "gunicorn":
        _serve_gunicorn(host, port, index_dir, workers or (os.cpu_count() or 1))
    else:
        _serve_waitress(host, port, index_dir, workers or WAITRESS_THREADS)


def _serve_waitress(host: str, port: int, index_dir: Path | str, threads: int) -> None:
    import waitress

    def stop(signum, frame):  # a clean exit on SIGTERM, as on Ctrl-C
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    logging.getLogger("renkei").info("waitress on http://%s:%s with %d threads, index %s",
                                     host, port, threads, index_dir)
    waitress.serve(make_app(index_dir), host=host, port=port, threads=threads, ident="renkei",
                   clear_untrusted_proxy_headers=True)


def _serve_gunicorn(host: str, port: int, index_dir: Path | str, processes: int) -> None:
    from gunicorn.app.base import BaseApplication

    global _LOADS
    _LOADS = _Loads(processes)  # before the arbiter forks its workers, which share it

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    class Application(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": [bind],
                "workers": processes,
                "worker_class": f"{__name__}.BalancedThreadWorker",
                "pre_fork": _pre_fork,
                "child_exit": _child_exit,
                "threads": GUNICORN_THREADS,
                "keepalive": 5,
                "timeout": 60,
                "graceful_timeout": 10,
                # A 1,000-character query is 9,000 bytes percent-encoded: past gunicorn's
                # default 4,094-byte request line. The app bounds every parameter itself.
                "limit_request_line": 0,
                "accesslog": None,
                "proc_name": "renkei",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            # Called in each worker after the fork: every process opens its own searchers.
            return make_app(index_dir)

    logging.getLogger("renkei").info("gunicorn on http://%s with %d processes × %d threads, index %s",
                                     bind, processes, GUNICORN_THREADS, index_dir)
    Application().run()


def granian_app() -> Callable:
    """The app of one granian worker process (granian imports and calls this in each): the
    index ``serve`` was given, else ``$RENKEI_INDEX``, else var/index."""
    _configure_logging()
    from web import DEFAULT_INDEX_DIR

    index = os.environ.get(_INDEX_ENV) or os.environ.get("RENKEI_INDEX") or DEFAULT_INDEX_DIR
    return make_app(index)


def _serve_granian(host: str, port: int, index_dir: Path | str, processes: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[_INDEX_ENV] = str(Path(index_dir).resolve())
    logging.getLogger("renkei").info("granian on http://%s:%s with %d processes × %d thread, index %s",
                                     host, port, processes, GRANIAN_THREADS, index_dir)
    Granian(
        f"{__name__}:granian_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=processes,
        blocking_threads=GRANIAN_THREADS,
        # An app thread idle this long is replaced, and the new one opens its own searcher:
        # granian's longest.
        blocking_threads_idle_timeout=600,
        respawn_failed_workers=True,
        log_access=False,  # AccessLog writes renkei's own line
    ).serve()
