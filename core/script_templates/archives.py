"""train_model.py's pieces for data in class folders (images, texts): which files are system clutter,
a zip entry's name as LayerLab reads it, and each file's class folder.

Real Python, so it can be read, linted and compiled; core.codegen copies these statements into the
scripts of the kinds that read class folders (core/script_templates/__init__.py explains how).
"""
from __future__ import annotations

import unicodedata
import zipfile


def is_junk(path: str) -> bool:
    """macOS and Windows system files (__MACOSX/, ._IMG.JPG, ._notes.txt, .DS_Store, Thumbs.db), skipped silently."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return any(part == "__MACOSX" or part.startswith(".") for part in parts) or parts[-1] in ("Thumbs.db", "desktop.ini")


def zip_name(info: zipfile.ZipInfo) -> str:
    """The entry's name. A name the zip does not flag as UTF-8 is still read as UTF-8 when its bytes
    are (macOS's Finder writes "café" so; zipfile alone would read "cafe╠ü")."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")  # zipfile read the bytes as cp437
    except UnicodeError:
        return info.filename


def class_folders(paths: list[str]) -> list[str | None]:
    """Each file's class: the first folder below the deepest folder all files share (my photos/cats/a.jpg
    -> cats), its name in Unicode NFC (a macOS "café" and a Windows "café" are one class); None outside."""
    folders = [tuple(unicodedata.normalize("NFC", part) for part in path.split("/")[:-1] if part not in ("", "."))
               for path in paths]
    shared = 0  # how many leading folders every file shares
    while folders and all(len(f) > shared and f[shared] == folders[0][shared] for f in folders):
        shared += 1
    if folders and all(len(f) == shared for f in folders):
        shared -= 1  # every file in one folder: that folder is the class
    return [f[shared] if shared >= 0 and len(f) > shared else None for f in folders]
