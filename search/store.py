"""Where an index lives on disk: generations, the atomic switch, and the rebuild lock.

An index directory holds ``gen-*`` folders and a ``current`` symlink. A rebuild writes a new
generation beside the served one and switches the link only when the new one is complete,
so a failed or interrupted rebuild leaves the served index as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from search.backend import index
from search.errors import IndexBusy, IndexMissing

CURRENT = "current"
LOCK = ".rebuild.lock"
INFO = "renkei.json"


def current_generation(root: Path) -> Path | None:
    """The generation being served, or None when no index was ever built here."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
        for _ in range(3):
            path = root / target
            if (path / INFO).exists():
                return path
            # A rebuild may have switched the link and deleted this generation since it was read.
            target, seen = os.readlink(link), target
            if target == seen:
                return None
    except OSError:
        return None
    return None


def served_generation(root: Path) -> Path:
    """The generation being served; :class:`IndexMissing` when there is none."""
    gen = current_generation(root)
    if gen is None:
        raise IndexMissing(f"no index at {root}: build one with `renkei index`")
    return gen


def open_index(root: Path):
    """The Whoosh index of the served generation."""
    return open_generation(served_generation(root))


def open_generation(gen: Path):
    """The Whoosh index of one generation (the one a caller resolved, even if a rebuild has
    switched the link since)."""
    try:
        return index.open_dir(str(gen))
    except index.EmptyIndexError as exc:  # its table of contents is gone: deleted meanwhile
        raise FileNotFoundError(f"no index in {gen}") from exc


def is_current(root: Path, schema_version: int) -> bool:
    """Whether an index is served under ``root`` and was built with this schema version."""
    gen = current_generation(root)
    return gen is not None and read_info(gen).get("schema_version") == schema_version


def read_info(gen: Path) -> dict:
    return json.loads((gen / INFO).read_text(encoding="utf-8"))


@contextlib.contextmanager
def rebuild_lock(root: Path) -> Iterator[None]:
    """Hold the rebuild lock; a second concurrent rebuild fails at once with :class:`IndexBusy`."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusy(f"another rebuild of {root} is running; try again when it has finished") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_generation(root: Path) -> Path:
    # A unique suffix: two rebuilds of a small folder can start within the same second.
    root.mkdir(parents=True, exist_ok=True)
    gen = Path(tempfile.mkdtemp(prefix=f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-", dir=root))
    # mkdtemp makes the folder private (0700); a server running as another user must read it.
    umask = os.umask(0)
    os.umask(umask)
    gen.chmod(0o777 & ~umask)
    return gen


def publish(root: Path, gen: Path, info: dict) -> None:
    """Make ``gen`` the served generation in one atomic step, then drop the older ones."""
    (gen / INFO).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp = root / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, root / CURRENT)
    for old in root.glob("gen-*"):
        if old != gen:
            # Open searchers keep their files on POSIX; the next request reopens the new one.
            shutil.rmtree(old, ignore_errors=True)


def discard(gen: Path) -> None:
    shutil.rmtree(gen, ignore_errors=True)
