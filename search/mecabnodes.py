"""MeCab's best path read from its node structs in compiled code, for a rebuild.

``search.tokenizer`` asks MeCab for text: every morpheme's surface and feature CSV (about
26 fields in unidic, ~100 characters a morpheme), which Python then splits and looks up
line by line. Over a rebuild's texts, MeCab spent a third of its time writing that text
and Python as much again reading it. Here a compiled loop (``search.kernels.best_path``)
calls ``mecab_sparse_tonode2`` of the libmecab fugashi loaded, walks the nodes and keeps,
per morpheme, its character offsets and a key of its surface and feature string's address
(a pointer into the dictionary: one entry, one address). Only a morpheme not seen before
has its feature string read, by ``search.batchterms``.

The node layout is that of MeCab 0.996's ``mecab.h``; before the first use, a sample is
parsed both ways and must agree morpheme for morpheme (``_agrees``), else this module
stands aside (``parser()`` gives None) and the text way is used.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import shlex
import threading
from typing import NamedTuple

import fugashi
import numpy as np
import unidic_lite

from search.kernels import best_path
from search.tokenizer import _line_info, _tagger

__all__ = ["Nodes", "parser"]


class _Node(ctypes.Structure):
    """``mecab_node_t`` up to the fields read here."""

    _fields_ = [
        ("prev", ctypes.c_void_p),
        ("next", ctypes.c_void_p),
        ("enext", ctypes.c_void_p),
        ("bnext", ctypes.c_void_p),
        ("rpath", ctypes.c_void_p),
        ("lpath", ctypes.c_void_p),
        ("surface", ctypes.c_void_p),
        ("feature", ctypes.c_void_p),
        ("id", ctypes.c_uint),
        ("length", ctypes.c_ushort),
        ("rlength", ctypes.c_ushort),
        ("rcAttr", ctypes.c_ushort),
        ("lcAttr", ctypes.c_ushort),
        ("posid", ctypes.c_ushort),
        ("char_type", ctypes.c_ubyte),
        ("stat", ctypes.c_ubyte),
    ]


_LAYOUT = tuple(
    np.uint64(getattr(_Node, name).offset) for name in ("next", "surface", "feature", "length", "stat")
)


class Nodes(NamedTuple):
    """The morphemes of a list of texts, text after text (see ``kernels.best_path``)."""

    text_of: np.ndarray
    first: np.ndarray  # characters, in the text as given
    last: np.ndarray
    features: np.ndarray  # the feature strings' addresses
    keys: np.ndarray
    bad: list[int]  # texts whose nodes did not add up: for the text way

    def feature(self, k: int) -> str:
        """Morpheme ``k``'s feature CSV, read from the dictionary."""
        return ctypes.string_at(int(self.features[k])).decode("utf-8")


def _library() -> ctypes.CDLL | None:
    """The libmecab fugashi's extension was linked against (mapped in this process), or
    failing that one beside it or on the system."""
    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = [line.split()[-1] for line in maps if "libmecab" in line]
    except OSError:
        pass
    here = os.path.dirname(os.path.dirname(fugashi.__file__))
    paths += glob.glob(os.path.join(here, "fugashi.libs", "libmecab*"))
    paths += [p for p in [ctypes.util.find_library("mecab")] if p]
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.mecab_new2.argtypes = [ctypes.c_char_p]
            lib.mecab_new2.restype = ctypes.c_void_p
            lib.mecab_sparse_tonode2  # noqa: B018 (present, or AttributeError)
            return lib
        except (OSError, AttributeError):
            continue
    return None


class _Parser:
    """One thread's MeCab, read node by node."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        dicdir = unidic_lite.DICDIR
        args = f"-r {shlex.quote(os.path.join(dicdir, 'mecabrc'))} -d {shlex.quote(dicdir)}"
        self.mecab = lib.mecab_new2(args.encode())
        if not self.mecab:
            raise RuntimeError("MeCab did not start")
        self.parse_at = np.uint64(ctypes.cast(lib.mecab_sparse_tonode2, ctypes.c_void_p).value)

    def parse(self, texts: list[str]) -> Nodes:
        """The best path of each of ``texts`` (as MeCab is given them: ``mecab_input``)."""
        encoded = [t.encode("utf-8") for t in texts]
        sizes = np.fromiter(map(len, encoded), np.int64, count=len(encoded))
        ends = np.cumsum(sizes)
        data = np.frombuffer(b"".join(encoded) + b"\0", np.uint8)  # never empty
        found = best_path(
            self.parse_at,
            np.uint64(self.mecab),
            data,
            np.uint64(data.ctypes.data),
            ends - sizes,
            ends,
            _LAYOUT,
        )
        *columns, bad = found
        return Nodes(*columns, np.flatnonzero(bad).tolist())


_local = threading.local()
_state: dict[str, object] = {}
_SAMPLE = [
    "福岡県久留米市と下関市は、令和5年4月1日に連携協約を締結した。",
    "  ｽﾎﾟｰﾂ交流 (第3回)  \u3000図書館の相互利用𠮷野家 abc ぁぃぅ",
    "",
    "Ｘ\u2003こんにちは  ",
]


def _agrees(parser: _Parser) -> bool:
    """The sample's morphemes read from nodes are those MeCab writes as text."""
    nodes = parser.parse(_SAMPLE)
    if nodes.bad:
        return False
    tagger, k = _tagger(), 0
    for t, text in enumerate(_SAMPLE):
        pos = 0
        for line in tagger.parse(text).split("\n"):
            if not line:
                continue
            stripped = line.lstrip(" ")
            start = pos + len(line) - len(stripped)
            surface = _line_info(stripped)[0]
            end = pos = start + len(surface)
            if k >= len(nodes.keys) or nodes.text_of[k] != t:
                return False
            got = (int(nodes.first[k]), int(nodes.last[k]), nodes.feature(k))
            if got != (start, end, stripped.partition("\t")[2]):
                return False
            k += 1
    return k == len(nodes.keys)


def parser() -> _Parser | None:
    """This thread's node parser, or None where libmecab cannot be read this way."""
    found = getattr(_local, "parser", None)
    if found is not None:
        return found
    if "lib" not in _state:
        _state["lib"] = _library()
    lib = _state["lib"]
    if lib is None or _state.get("agrees") is False:  # (decided once a process)
        return None
    try:
        found = _Parser(lib)
    except RuntimeError:
        _state["agrees"] = False
        return None
    if "agrees" not in _state:
        try:
            _state["agrees"] = _agrees(found)
        except Exception:  # a layout read wrong may give any garbage: stand aside
            _state["agrees"] = False
    if not _state["agrees"]:
        return None
    _local.parser = found
    return found
