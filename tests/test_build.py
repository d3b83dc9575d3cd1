"""A rebuild analyzes files in groups: the index is the same as file by file, and a group
whose analysis fails loses only its bad file."""

from __future__ import annotations

import shutil

import pytest

from indexer import build as build_module
from search import backend, batchterms, keytable, mecabnodes, postingbuffer, store
from search.schema import INDEX_RECIPES

KEYWORDS = ["id", "doc_id", "kind", "municipality", "year", "month", "dated_year"]


def _dump(root) -> dict:
    """What a rebuild wrote that a search reads: stored fields, and every term's documents,
    weights and (for the text fields) positions and characters."""
    reader = store.open_index(root).searcher().reader()
    out: dict = {"stored": list(reader.all_stored_fields())}
    for leaf, _ in reader.leaf_readers():
        for field in [*INDEX_RECIPES, *KEYWORDS]:
            for term in leaf.lexicon(field):
                text = term.decode("utf-8")
                docs, weights = backend.leaf_postings(leaf, field, text)
                entry = [docs.tolist(), weights.tolist()]
                if field.startswith("text"):  # the fields that keep characters
                    entry.append(backend.leaf_characters(leaf, field, text, docs.tolist()))
                out[field, text] = entry
    return out


def _calls(monkeypatch) -> list[int]:
    """How many texts each batch analysis was given."""
    sizes: list[int] = []
    real = build_module.TextBatch

    def counted(texts, nodes=False):
        sizes.append(len(texts))
        return real(texts, nodes)

    monkeypatch.setattr(build_module, "TextBatch", counted)
    return sizes


def test_files_analyzed_together_index_as_file_by_file(tmp_path, seeds_dir, monkeypatch):
    sizes = _calls(monkeypatch)
    monkeypatch.setattr(build_module, "GROUP_PASSAGES", 1)  # each file its own group
    alone = build_module.build(seeds_dir, tmp_path / "alone", procs=1)
    files = len(sizes) - 1  # and the writer's empty batch
    assert files == alone.documents >= 5
    sizes.clear()
    monkeypatch.setattr(build_module, "GROUP_PASSAGES", 10**9)  # every file in one group
    together = build_module.build(seeds_dir, tmp_path / "together", procs=1)
    assert len(sizes) == 2
    assert (together.documents, together.passages) == (alone.documents, alone.passages)
    a, b = _dump(tmp_path / "alone"), _dump(tmp_path / "together")
    assert len(a) > 5000
    assert a == b


def test_compiled_loops_index_as_numpy_and_dicts_do(tmp_path, seeds_dir, monkeypatch):
    """A small rebuild reads MeCab's output text, sorts with numpy and numbers keys with
    dicts (numba's start would cost more); a large one reads MeCab's nodes and uses the
    compiled loops: both write the same index."""
    monkeypatch.setattr(postingbuffer, "COMPILED_SORT_TOKENS", 10**12)
    monkeypatch.setattr(keytable, "COMPILED_AFTER", 10**12)
    monkeypatch.setattr(batchterms, "NODES_AFTER", None)
    # (other tests may have started numba already)
    monkeypatch.setattr(keytable, "numba_started", lambda: False)
    parsers = []
    real = mecabnodes.parser
    monkeypatch.setattr(mecabnodes, "parser", lambda: parsers.append(real()) or parsers[-1])
    build_module.build(seeds_dir, tmp_path / "numpy", procs=1)
    assert parsers == []
    monkeypatch.setattr(postingbuffer, "COMPILED_SORT_TOKENS", 0)
    monkeypatch.setattr(keytable, "COMPILED_AFTER", 0)
    # Nodes from the first text, as in a rebuild of many files' bytes.
    monkeypatch.setattr(batchterms, "NODES_AFTER", 10**12)
    monkeypatch.setattr(batchterms, "numba_started", lambda: False)
    monkeypatch.setattr(build_module, "NODES_BYTES", 0)
    build_module.build(seeds_dir, tmp_path / "compiled", procs=1)
    assert _dump(tmp_path / "numpy") == _dump(tmp_path / "compiled")
    assert batchterms._PAIRS["surface"].compiled and batchterms._PAIRS["reading"].compiled
    assert parsers and None not in parsers


@pytest.mark.parametrize("where", ["batch", "municipalities"])
def test_a_group_whose_analysis_fails_is_analyzed_file_by_file(tmp_path, seeds_dir, monkeypatch, where):
    """The analysis fails in making the batch, or in its municipalities (made for every text
    of the group at once): either way only the file that makes it fail is lost."""
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    (seeds / "zz_trap.txt").write_text("罠の段落です。\n\n別の段落です。\n", encoding="utf-8")
    real = build_module.TextBatch
    given: list[int] = []

    def failing(texts, nodes=False):
        given.append(len(texts))
        batch = real(texts, nodes)
        if any("罠" in t for t in texts):
            if where == "batch":
                raise RuntimeError("analysis failed")

            def names(*args):
                raise RuntimeError("analysis failed")

            batch._all_names = names
        return batch

    monkeypatch.setattr(build_module, "GROUP_PASSAGES", 10**9)
    monkeypatch.setattr(build_module, "TextBatch", failing)
    report = build_module.build(seeds, tmp_path / "index", procs=1)
    assert [(s.path.name, s.reason) for s in report.skipped] == [
        ("zz_trap.txt", "cannot be parsed (RuntimeError: analysis failed)")
    ]
    files = report.documents + 1
    assert len(given) == 1 + 1 + files  # the writer's, the group's, then one per file
    with pytest.raises(build_module.DocumentError, match="zz_trap.txt"):
        build_module.build(seeds, tmp_path / "strict", procs=1, strict=True)
    (seeds / "zz_trap.txt").unlink()
    expected = build_module.build(seeds, tmp_path / "expected", procs=1)
    assert (report.documents, report.passages) == (expected.documents, expected.passages)
    assert _dump(tmp_path / "index") == _dump(tmp_path / "expected")


def test_shared_jobs_hand_each_file_to_one_worker_largest_first(tmp_path):
    """Workers of a parallel rebuild take files in turn from one list: every file once, the
    largest first (the workers then finish together)."""
    import multiprocessing

    from indexer.reader import SourceFile

    jobs = []
    for n, size in enumerate([5, 300, 40, 300, 1, 70]):
        path = tmp_path / f"f{n}.txt"
        path.write_bytes(b"x" * size)
        jobs.append((n, SourceFile(path, path.stem), None))
    context = multiprocessing.get_context("fork")
    shared = build_module._SharedJobs(jobs, context)
    assert [n for n, _, _ in shared.jobs] == [1, 3, 5, 2, 0, 4]
    queue = context.Queue()

    def drain():
        queue.put([n for n, _, _ in shared])

    workers = [context.Process(target=drain) for _ in range(3)]
    for w in workers:
        w.start()
    taken = [queue.get(timeout=30) for _ in workers]
    for w in workers:
        w.join()
    assert sorted(n for got in taken for n in got) == list(range(6))
    assert all(got == sorted(got, key=[1, 3, 5, 2, 0, 4].index) for got in taken)
    assert list(shared) == []  # (all taken)
