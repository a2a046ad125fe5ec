"""Reading an untrusted zip of images, entirely in memory.

Nothing is ever extracted to disk, so entries named `../x`, `/etc/x` or `C:\\x` cannot
write anywhere; they are still refused, because such an archive was made to attack.
Every cap in `limits.py` is enforced while reading, on the bytes actually decompressed and
the packed bytes actually read (headers can lie). The entry count is checked from the zip's
own directory before `zipfile` parses it (`zip_directory.py`), and only the two compression
methods zip tools write for photos are opened.
"""
from __future__ import annotations

import io
import itertools
import os
import stat
import unicodedata
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from core.data.dataset import SkippedFile
from core.data.limits import Deadline, Limits
from core.data.zip_directory import count_records, find_central_directory
from core.errors import UserError
from core.sizes import human_size

# What reading a damaged entry raises (a negative offset is a ValueError, bad deflate data zlib.error).
_DAMAGED = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error)
PIECE = 1 << 16  # decompressed at a time: the ratio is checked this often
RATIO_FLOOR = 1 << 20  # tiny files may compress very well; the ratio cap applies above 1 MB


@dataclass
class ArchiveFiles:
    """Files found in an archive or folder: (path, bytes) to look at, plus what was skipped."""

    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    ignored: int = 0  # system files such as __MACOSX/ and .DS_Store, not worth listing


def is_junk(path: str) -> bool:
    """macOS resource forks, dotfiles and files inside dot-folders."""
    parts = [p for p in path.split("/") if p not in ("", ".")]  # "./cats/x.png" is a normal path
    return not parts or any(p == "__MACOSX" or p.startswith(".") for p in parts) or parts[-1] in (
        "Thumbs.db", "desktop.ini")


def _unsafe(name: str) -> bool:
    return (
        "\\" in name
        or name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or ".." in PurePosixPath(name).parts
        or "\x00" in name
    )


# Compression methods every photo tool writes. zipfile inflates a bzip2 or LZMA block in one
# call, whatever is asked for (a 3.6 KB entry became gigabytes before any cap was checked),
# and the rest it cannot read at all.
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
METHOD_NAMES = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "XZ", 98: "PPMd"}


class _CountedReads:
    """The archive file, counting the bytes read from it: what an entry really takes up packed
    (the compressed size in its header can lie)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle, self.bytes_read = handle, 0

    def read(self, n: int = -1) -> bytes:
        data = self._handle.read(n)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def seekable(self) -> bool:
        return True


def _not_zip(name: str) -> UserError:
    return UserError(
        "archive.not_zip",
        "{file} is not a zip archive (or it is damaged). Put one folder per class in a zip file and upload that.",
        file=name,
    )


def _too_many_entries(name: str, limits: Limits, n: int | None = None) -> UserError:
    if n is None:  # counted record by record, stopping past the cap
        return UserError(
            "archive.too_many_entries",
            "{file} holds more than {limit} files. Use fewer files.",
            file=name, limit=f"{limits.entries:,}",
        )
    return UserError(
        "archive.too_many_entries",
        "{file} holds {n} entries, more than the {limit} this server accepts. Use fewer files.",
        file=name, n=f"{n:,}", limit=f"{limits.entries:,}",
    )


@contextmanager
def _opened(source: Path | str | bytes, name: str, limits: Limits) -> Iterator[tuple[zipfile.ZipFile, _CountedReads]]:
    """The zip, once its size and entry count are known to be under the caps."""
    in_memory = isinstance(source, (bytes, bytearray, memoryview))
    if not in_memory and not Path(source).is_file():
        raise UserError("archive.not_found", "The file {file} does not exist. Check the path.", file=str(source))
    size = len(source) if in_memory else Path(source).stat().st_size
    if size > limits.upload_bytes:
        raise UserError(
            "archive.too_large",
            "{file} is {size}, more than the {limit} this server accepts. Use fewer or smaller images, or ask "
            "the administrator to raise LAYERLAB_MAX_UPLOAD_BYTES.",
            file=name, size=human_size(size), limit=human_size(limits.upload_bytes),
        )
    with io.BytesIO(source) if in_memory else open(source, "rb") as handle:
        directory = find_central_directory(handle)
        if directory is None:
            raise _not_zip(name)
        if directory.entries > limits.entries:
            raise _too_many_entries(name, limits, directory.entries)
        records = count_records(handle, directory, stop_after=limits.entries)
        if records is None:
            raise _not_zip(name)
        if records > limits.entries:
            raise _too_many_entries(name, limits)
        counted = _CountedReads(handle)
        try:
            zf = zipfile.ZipFile(counted)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            raise _not_zip(name) from None
        with zf:
            yield zf, counted


def _too_big(name: str, limits: Limits) -> UserError:
    return UserError(
        "archive.too_big_uncompressed",
        "{file} unpacks to more than {limit}. Use fewer or smaller images, or ask the administrator "
        "to raise LAYERLAB_MAX_UNCOMPRESSED_BYTES.",
        file=name, limit=human_size(limits.uncompressed_bytes),
    )


def _read_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, counted: _CountedReads, name: str, limits: Limits, used: int
) -> bytes:
    """Decompress one entry a small piece at a time, stopping as soon as a cap is crossed."""
    parts, total = [], 0
    with zf.open(info) as stream:
        packed_from = counted.bytes_read  # after the entry's own header
        while chunk := stream.read(PIECE):
            total += len(chunk)
            parts.append(chunk)
            if used + total > limits.uncompressed_bytes:
                raise _too_big(name, limits)
            packed = counted.bytes_read - packed_from  # at most one piece more than the entry really used
            if total > RATIO_FLOOR and total > limits.compression_ratio * max(packed, 1):
                raise UserError(
                    "archive.bomb",
                    "{file} looks like a zip bomb: '{entry}' unpacks to more than {ratio} times its packed size. "
                    "It was not opened. Zip your image folders again with a normal tool.",
                    file=name, entry=info.filename, ratio=limits.compression_ratio,
                )
    return b"".join(parts)


def _utf8_name(info: zipfile.ZipInfo) -> str:
    """The entry's name, read as UTF-8 when its bytes are UTF-8 although the zip did not flag
    them so (macOS's Finder zips "café" that way; zipfile would read "cafe╠ü"). cp437, zipfile's
    reading of unflagged names, maps every byte, so the bytes come back exactly."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _check_entries(infos: list[zipfile.ZipInfo], name: str, limits: Limits) -> None:
    """Refuse the archive before anything is decompressed: unsafe paths, unusual compression,
    or sizes over the cap."""
    for info in infos:
        if _unsafe(info.filename):
            raise UserError(
                "archive.unsafe_path",
                "{file} contains an entry with an unsafe path ('{entry}': it points outside the archive). "
                "It was not opened. Zip your image folders again with a normal tool.",
                file=name, entry=info.filename,
            )
        encrypted = info.flag_bits & 0x1  # skipped below, never decompressed
        if info.compress_type not in READABLE_METHODS and not encrypted and not info.is_dir():
            raise UserError(
                "archive.unsupported_compression",
                "{file} was packed with {method} compression ('{entry}'), which LayerLab does not open. "
                "Zip your image folders again with a normal zip tool (your computer's own \"Compress\" or "
                "\"Send to > Compressed folder\" makes the right kind).",
                file=name, entry=info.filename,
                method=METHOD_NAMES.get(info.compress_type, f"type {info.compress_type}"),
            )
    declared = sum(info.file_size for info in infos)
    if declared > limits.uncompressed_bytes:  # headers may understate, never trusted to be small
        raise _too_big(name, limits)


def class_folders(paths: list[str]) -> list[str | None]:
    """Class folder of each file (image or text): the first folder below the deepest folder all images share.

    `my photos/cats/a.jpg` and `my photos/dogs/b.jpg` give cats and dogs; an archive whose
    files all sit in one folder gives that folder's name (one class).
    """
    # NFC: macOS writes "café" decomposed, other systems composed; both are one class.
    dirs = [tuple(unicodedata.normalize("NFC", part) for part in p.split("/")[:-1] if part not in ("", "."))
            for p in paths]
    common: tuple[str, ...] = ()
    if dirs:
        first = dirs[0]
        n = min(len(d) for d in dirs)
        k = next((i for i in range(n) if any(d[i] != first[i] for d in dirs)), n)
        common = first[:k]
    depth = len(common) - 1 if all(d == common for d in dirs) and common else len(common)
    return [d[depth] if len(d) > depth else None for d in dirs]


def read_zip(source: Path | str | bytes, name: str, limits: Limits, deadline: Deadline | None = None) -> ArchiveFiles:
    """All regular files of a zip, read in memory under the caps; unsafe archives are refused."""
    deadline = deadline or limits.deadline()
    out = ArchiveFiles()
    with _opened(source, name, limits) as (zf, counted):
        infos = zf.infolist()
        for info in infos:  # zipfile checks a local header against orig_filename, which stays
            info.filename = _utf8_name(info)
        _check_entries(infos, name, limits)
        used = 0
        for info in infos:
            deadline.check(name)
            path = info.filename
            if info.is_dir() or is_junk(path):
                out.ignored += not info.is_dir()
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                out.skipped.append(SkippedFile(path, "a symbolic link; links are not followed"))
                continue
            if info.flag_bits & 0x1:
                out.skipped.append(SkippedFile(path, "password-protected; zip without a password"))
                continue
            try:
                data = _read_entry(zf, info, counted, name, limits, used)
            except _DAMAGED as err:
                out.skipped.append(SkippedFile(path, f"damaged inside the zip ({err})"))
                continue
            used += len(data)
            out.files.append((path, data))
    return out


def _listing(folder: Path, counter: Iterator[int], name: str, limits: Limits) -> Iterator[os.DirEntry]:
    """Everything under `folder`, in the order of sorted(rglob("*")), links not followed; each
    folder is listed lazily and counted, so a folder of a million files stops at the cap."""
    entries = []
    with os.scandir(folder) as listing:
        for entry in listing:
            if next(counter) > limits.entries:
                raise _too_many_entries(name, limits)
            entries.append(entry)
    for entry in sorted(entries, key=lambda e: e.name):
        yield entry
        if entry.is_dir(follow_symlinks=False) and not is_junk(entry.name):  # not into .git/ or __MACOSX/
            yield from _listing(Path(entry.path), counter, name, limits)


def read_folder(folder: Path | str, limits: Limits, deadline: Deadline | None = None) -> ArchiveFiles:
    """All regular files under a local folder (links are not followed), under the same caps as a zip."""
    deadline = deadline or limits.deadline()
    root = Path(folder)
    if not root.is_dir():
        raise UserError("archive.not_found", "The folder {file} does not exist. Check the path.", file=str(root))
    out, used = ArchiveFiles(), 0
    for entry in _listing(root, itertools.count(1), str(root), limits):
        deadline.check(str(root))
        path = Path(entry.path)
        rel = path.relative_to(root).as_posix()
        if entry.is_dir(follow_symlinks=False):
            continue
        if is_junk(rel):
            out.ignored += entry.is_file(follow_symlinks=False)
            continue
        if entry.is_symlink():
            out.skipped.append(SkippedFile(rel, "a symbolic link; links are not followed"))
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        used += entry.stat(follow_symlinks=False).st_size
        if used > limits.uncompressed_bytes:
            raise UserError(
                "archive.too_big_uncompressed",
                "{file} holds more than {limit} of files. Use fewer or smaller images.",
                file=str(root), limit=human_size(limits.uncompressed_bytes),
            )
        out.files.append((rel, path.read_bytes()))
    return out
