"""Shared fixtures: a real index built from the bundled seeds, once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the bundled seeds on disk (the folder holding its generations)."""
    from indexer.build import build

    root = tmp_path_factory.mktemp("index")
    build(SEEDS, root)
    return root


@pytest.fixture(scope="session")
def engine(seed_index):
    from search.api import Engine

    return Engine(seed_index)


@pytest.fixture(scope="session")
def large_seeds():
    """Fill a folder with numbered copies of the seeds until it is big enough for a parallel
    rebuild (one worker process per core); returns how many copies were written."""
    from indexer.build import PARALLEL_BYTES

    def fill(folder: Path) -> int:
        folder.mkdir()
        copies = 0
        while sum(f.stat().st_size for f in folder.iterdir()) < PARALLEL_BYTES * 1.2:
            for path in SEEDS.glob("*.txt"):
                (folder / f"{copies:02d}_{path.name}").write_bytes(path.read_bytes())
            copies += 1
        return copies

    return fill


@pytest.fixture(scope="session")
def multi_segment(tmp_path_factory, large_seeds):
    """An index written by two worker processes: two segments, document numbers interleaved."""
    from indexer.build import build

    base = tmp_path_factory.mktemp("multi")
    large_seeds(base / "seeds")
    build(base / "seeds", base / "index", procs=2)
    return base / "index"
