"""Reading an untrusted zip of images, entirely in memory.

Nothing is ever extracted to disk, so entries named `../x`, `/etc/x` or `C:\\x` cannot
write anywhere; they are still refused, because such an archive was made to attack.
Every cap in `limits.py` is enforced while reading, on the bytes actually decompressed
(headers can lie).
"""
from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.data.dataset import SkippedFile
from core.data.limits import Limits, human_size
from core.errors import UserError

CHUNK = 1 << 20
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


def _open(source: Path | str | bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size, handle = len(source), io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise UserError("archive.not_found", "The file {file} does not exist. Check the path.", file=str(path))
        size, handle = path.stat().st_size, path
    if size > limits.upload_bytes:
        raise UserError(
            "archive.too_large",
            "{file} is {size}, more than the {limit} this server accepts. Use fewer or smaller images, or ask "
            "the administrator to raise LAYERLAB_MAX_UPLOAD_BYTES.",
            file=name, size=human_size(size), limit=human_size(limits.upload_bytes),
        )
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError(
            "archive.not_zip",
            "{file} is not a zip archive (or it is damaged). Put one folder per class in a zip file and upload that.",
            file=name,
        ) from None


def _too_big(name: str, limits: Limits) -> UserError:
    return UserError(
        "archive.too_big_uncompressed",
        "{file} unpacks to more than {limit}. Use fewer or smaller images, or ask the administrator "
        "to raise LAYERLAB_MAX_UNCOMPRESSED_BYTES.",
        file=name, limit=human_size(limits.uncompressed_bytes),
    )


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits, used: int) -> bytes:
    """Decompress one entry, stopping as soon as a cap is crossed."""
    parts, total = [], 0
    with zf.open(info) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            parts.append(chunk)
            if used + total > limits.uncompressed_bytes:
                raise _too_big(name, limits)
            if total > RATIO_FLOOR and total > limits.compression_ratio * max(info.compress_size, 1):
                raise UserError(
                    "archive.bomb",
                    "{file} looks like a zip bomb: '{entry}' unpacks to more than {ratio} times its packed size. "
                    "It was not opened. Zip your image folders again with a normal tool.",
                    file=name, entry=info.filename, ratio=limits.compression_ratio,
                )
    return b"".join(parts)


def read_zip(source: Path | str | bytes, name: str, limits: Limits) -> ArchiveFiles:
    """All regular files of a zip, read in memory under the caps; unsafe archives are refused."""
    out = ArchiveFiles()
    with _open(source, name, limits) as zf:
        infos = zf.infolist()
        if len(infos) > limits.entries:
            raise UserError(
                "archive.too_many_entries",
                "{file} holds {n} entries, more than the {limit} this server accepts. Use fewer files.",
                file=name, n=f"{len(infos):,}", limit=f"{limits.entries:,}",
            )
        for info in infos:
            if _unsafe(info.filename):
                raise UserError(
                    "archive.unsafe_path",
                    "{file} contains an entry with an unsafe path ('{entry}': it points outside the archive). "
                    "It was not opened. Zip your image folders again with a normal tool.",
                    file=name, entry=info.filename,
                )
        declared = sum(info.file_size for info in infos)
        if declared > limits.uncompressed_bytes:  # headers may understate, never trusted to be small
            raise _too_big(name, limits)
        used = 0
        for info in infos:
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
                data = _read_entry(zf, info, name, limits, used)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
                out.skipped.append(SkippedFile(path, f"damaged inside the zip ({err})"))
                continue
            used += len(data)
            out.files.append((path, data))
    return out


def read_folder(folder: Path | str, limits: Limits) -> ArchiveFiles:
    """All regular files under a local folder (links are not followed), under the same caps as a zip."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError("archive.not_found", "The folder {file} does not exist. Check the path.", file=str(root))
    out, used, count = ArchiveFiles(), 0, 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if is_junk(rel) or (path.is_dir() and not path.is_symlink()):
            out.ignored += path.is_file()
            continue
        if path.is_symlink():
            out.skipped.append(SkippedFile(rel, "a symbolic link; links are not followed"))
            continue
        if not path.is_file():
            continue
        count += 1
        if count > limits.entries:
            raise UserError(
                "archive.too_many_entries",
                "{file} holds more than {limit} files. Use fewer files.",
                file=str(root), limit=f"{limits.entries:,}",
            )
        used += path.stat().st_size
        if used > limits.uncompressed_bytes:
            raise UserError(
                "archive.too_big_uncompressed",
                "{file} holds more than {limit} of files. Use fewer or smaller images.",
                file=str(root), limit=human_size(limits.uncompressed_bytes),
            )
        out.files.append((rel, path.read_bytes()))
    return out
