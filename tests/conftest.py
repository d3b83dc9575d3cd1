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
