"""The command line, over a real index on disk."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.cli import main
from search import store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner():
    return CliRunner()


def test_index_then_search_finds_library(runner, tmp_path, seeds_dir):
    index = tmp_path / "index"
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert re.search(r"indexed 5 documents, \d+ passages in [\d.]+s", result.output)
    result = runner.invoke(main, ["search", "図書館", "--index", str(index)])
    assert result.exit_code == 0
    assert "北九州市、下関市図書館等広域利用" in result.output


def test_search_json_body(runner, seed_index):
    result = runner.invoke(main, ["search", "鉄道", "--index", str(seed_index), "--json", "--limit", "3"])
    body = json.loads(result.output)
    assert body["ok"] and body["hits"][0]["title"] == "関門シティ電車運行実現期成同盟会"
    assert set(body["hits"][0]) >= {
        "id",
        "score",
        "title",
        "section",
        "kind",
        "text",
        "snippet",
        "document",
        "dates",
        "municipalities",
    }


def test_search_builds_a_missing_index(runner, tmp_path, seeds_dir):
    index = tmp_path / "fresh"
    result = runner.invoke(main, ["search", "図書館", "--index", str(index), "--seeds", str(seeds_dir)])
    assert result.exit_code == 0 and "北九州市、下関市図書館等広域利用" in result.output


def test_environment_default_index(runner, seed_index):
    result = runner.invoke(main, ["search", "消防"], env={"RENKEI_INDEX": str(seed_index)})
    assert result.exit_code == 0 and "消防相互応援協定の締結" in result.output


def test_search_errors_are_clear(runner, seed_index, tmp_path):
    result = runner.invoke(main, ["search", "あ" * 1001, "--index", str(seed_index)])
    assert result.exit_code == 1 and "at most 1000" in result.output
    result = runner.invoke(
        main, ["search", "観光", "--index", str(tmp_path / "none"), "--seeds", str(tmp_path / "no")]
    )
    assert result.exit_code == 1 and "renkei index" in result.output
    assert "Traceback" not in result.output


def test_parse_json_lines(runner, seeds_dir):
    path = seeds_dir / "001_395c70cf68c5a730.txt"
    result = runner.invoke(main, ["parse", str(path), "--json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 20
    first = rows[1]
    assert first["kind"] == "article" and first["section"] == "第1条（目的）"
    assert first["document"] == {
        "id": "001_395c70cf68c5a730",
        "title": "久留米広域連携中枢都市圏形成に係る連携協約",
        "source": str(path),
    }


def test_bad_file_skipped_strict_fails(runner, tmp_path, seeds_dir):
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    (seeds / "bad.tsv").write_bytes(bytes(range(0x80, 0x100)) * 10)
    index = tmp_path / "index"
    result = runner.invoke(main, ["index", "--seeds", str(seeds), "--index", str(index)])
    assert result.exit_code == 0 and "skipped 1 file(s): bad.tsv" in result.output
    before = store.current_generation(index)
    result = runner.invoke(main, ["index", "--seeds", str(seeds), "--index", str(index), "--strict"])
    assert result.exit_code == 1 and "bad.tsv" in result.output
    assert store.current_generation(index) == before  # the served index is untouched


def test_concurrent_rebuild_stops_at_once(runner, tmp_path, seeds_dir):
    index = tmp_path / "index"
    with store.rebuild_lock(index):
        result = runner.invoke(main, ["index", "--seeds", str(seeds_dir), "--index", str(index)])
    assert result.exit_code == 1 and "another rebuild" in result.output


def test_eval_meets_the_bar(seed_index):
    from search.evaluation import evaluate, load_cases

    cases = load_cases(ROOT / "tests" / "relevance" / "cases.json")
    assert len(cases) >= 40
    result = evaluate(seed_index, cases, k=5)
    assert result.success_at_k >= 0.95, result.table(verbose=True)


def test_eval_command_prints_figures(runner, seed_index):
    result = runner.invoke(main, ["eval", "--index", str(seed_index)])
    assert result.exit_code == 0 and re.search(r"success@5 = [\d.]+\s+MRR = [\d.]+", result.output)


def _commands():
    return sorted(main.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_command_and_option_is_documented(name, command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"renkei {name}" in readme
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in readme, f"{name} {opt} is not in README.md"


def test_parallel_rebuild_matches_serial(tmp_path, large_seeds):
    """Large rebuilds use a worker per core, each writing a segment; the result is the same."""
    from indexer.build import build
    from search.api import Engine

    seeds = tmp_path / "seeds"
    copies = large_seeds(seeds)
    (seeds / "zz_bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 10)
    serial = build(seeds, tmp_path / "serial", procs=1)
    parallel = build(seeds, tmp_path / "parallel", procs=2)
    assert parallel.documents == serial.documents == 5 * copies
    assert parallel.passages == serial.passages
    assert [s.path.name for s in parallel.skipped] == ["zz_bad.txt"]
    a = Engine(tmp_path / "serial").search("連携", size=50)
    b = Engine(tmp_path / "parallel").search("連携", size=50)
    assert a["total"] == b["total"]
    assert [h["id"] for h in a["hits"]] == [h["id"] for h in b["hits"]]
    assert a["facets"] == b["facets"]


def test_a_worker_killed_mid_rebuild_fails_it_and_keeps_the_served_index(tmp_path, large_seeds, monkeypatch):
    """A worker that dies without a word (out of memory, a crash in C) must not hang the rebuild."""
    import os
    import stat

    from indexer import build as build_module
    from search.errors import DocumentError

    seeds = tmp_path / "seeds"
    large_seeds(seeds)
    index = tmp_path / "index"
    build_module.build(seeds, index, procs=1)
    served = store.current_generation(index)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(served.stat().st_mode) == 0o777 & ~umask  # readable by a server of another user
    monkeypatch.setattr(build_module, "write_segments", lambda *args, **kwargs: os._exit(3))
    with pytest.raises(DocumentError, match="exit code 3"):
        build_module.build(seeds, index, procs=2)
    assert store.current_generation(index) == served
    assert sorted(p.name for p in index.glob("gen-*")) == [served.name]
