"""Files written past the page cache hold exactly the bytes written."""

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import directfile


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=9000), max_size=12))
def test_bytes_written_are_the_file(tmp_path_factory, parts):
    path = tmp_path_factory.mktemp("direct") / "f.bin"
    with directfile.create(str(path), chunk=2 * directfile.BLOCK) as out:
        for part in parts:
            assert out.write(part) == len(part)
    assert path.read_bytes() == b"".join(parts)


def test_numpy_arrays_and_views_are_written_whole(tmp_path):
    np = pytest.importorskip("numpy")
    a = np.arange(10_000, dtype=np.int16)
    path = tmp_path / "a.bin"
    with directfile.create(str(path), chunk=directfile.BLOCK) as out:
        out.write(memoryview(a).cast("B"))
        out.write(a[::2].copy())
    assert path.read_bytes() == a.tobytes() + a[::2].tobytes()


def test_replaces_an_existing_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100_000)
    with directfile.create(str(path)) as out:
        out.write(b"short")
    assert path.read_bytes() == b"short"


def test_a_refused_direct_write_goes_on_through_the_cache(tmp_path, monkeypatch):
    real_write, refused = os.write, []

    def write(fd, data):
        if not refused:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    path = tmp_path / "f.bin"
    out = directfile.create(str(path), chunk=directfile.BLOCK)
    out._direct = True  # as on a file system that opens with O_DIRECT but refuses its writes
    out.write(b"a" * 5000)
    out.write(b"b" * 3)
    out.close()
    out.close()  # a second close does nothing
    assert refused and path.read_bytes() == b"a" * 5000 + b"b" * 3


def test_chunk_must_suit_the_disk(tmp_path):
    with pytest.raises(ValueError):
        directfile.create(str(tmp_path / "f.bin"), chunk=1000)
