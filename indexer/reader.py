"""Finding source files and decoding them to text."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from search.errors import DocumentError

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".tsv", ".csv"})

# Japanese text is the only kind expected; limiting the candidates keeps detection from
# settling on a Latin or Cyrillic code page for short Shift_JIS files.
_CANDIDATES = ["utf_8", "cp932", "shift_jis", "euc_jp", "iso2022_jp", "utf_16"]


@dataclass(frozen=True)
class SourceFile:
    path: Path
    doc_id: str


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def walk(root: Path) -> tuple[list[SourceFile], list[Skipped]]:
    """Supported files under ``root`` in a stable order, and the files passed over with a reason.

    Hidden files and folders are ignored silently; other unsupported files get a note.
    """
    found: list[SourceFile] = []
    notes: list[Skipped] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name == "catalog.toml":
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            notes.append(Skipped(path, f"unsupported extension {path.suffix or '(none)'!r}"))
            continue
        found.append(SourceFile(path, rel.with_suffix("").as_posix()))
    return found, notes


def decode(data: bytes, name: str = "<bytes>") -> str:
    """Decode bytes of a Japanese text file; newlines become ``\\n`` and a BOM is dropped.

    >>> decode("平成28年".encode("cp932"))
    '平成28年'
    >>> decode(codecs.BOM_UTF8 + "連携\\r\\n協約".encode())
    '連携\\n協約'
    """
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DocumentError(f"{name}: binary content (NUL bytes), not a text file")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _detect(data, name)
    text = text.lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _detect(data: bytes, name: str) -> str:
    for encoding in ("cp932", "euc_jp", "euc_jis_2004"):
        # A strict decode that succeeds and yields mostly Japanese is decisive; charset-normalizer
        # arbitrates the rest.
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_japanese(text):
            return text
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is None or not _looks_japanese(str(best)):
        raise DocumentError(f"{name}: cannot be decoded as UTF-8, Shift_JIS/CP932 or EUC-JP")
    return str(best)


def _looks_japanese(text: str) -> bool:
    if not text:
        return True
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return printable / len(text) > 0.97 and "\ufffd" not in text


def read(source: SourceFile | Path) -> str:
    """Read and decode one file, raising :class:`DocumentError` with its name on failure."""
    path = source.path if isinstance(source, SourceFile) else Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return decode(data, str(path))
