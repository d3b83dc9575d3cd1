"""The code style the project holds itself to: ruff's B, E, F, I, UP and W rules (pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the test extra: pip install -e '.[test]'")
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_search_does_not_import_flask():
    """The core library stands alone: web depends on search, never the other way."""
    code = "import sys, search.api, search.analysis; sys.exit('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_a_server_does_not_import_numba():
    """Only a rebuild compiles loops (search/kernels.py); a server would pay numba's import."""
    code = (
        "import sys, search.api, web; web.create_app({'INDEX_DIR': 'var/none'});"
        " sys.exit('numba' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_whoosh_is_imported_in_one_place():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("search", "indexer", "web", "renkei")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "backend.py" and any(s in path.read_text() for s in ("from whoosh", "import whoosh"))
    ]
    assert offenders == []
