"""A zip's table of contents, counted before `zipfile` is trusted with it.

`zipfile.ZipFile` turns every central-directory record into an object before anyone can
count them (a million entries: 644 MB and 6.6 s), and it walks the directory by its size,
ignoring the entry count the end record states. So the entry cap is checked here first,
from the end record (or its zip64 twin) and then by stepping over the records themselves,
which stops one record past the cap. Both mirror how `zipfile` finds the directory.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

END = struct.Struct("<4s4H2LH")  # end of central directory: ..., entries, size, offset, comment length
ZIP64_LOCATOR = struct.Struct("<4sLQL")  # just before END: where the zip64 end record is
ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # ..., entries, size, offset (assumed without extensible data)
RECORD = struct.Struct("<4s6H3L5H2L")  # one central-directory record, before its name, extra and comment
MAX_COMMENT = 0xFFFF


@dataclass(frozen=True)
class CentralDirectory:
    entries: int  # as the end record states (it can lie)
    start: int  # where the records begin in the file
    size: int  # bytes of records `zipfile` will parse


def find_central_directory(handle: BinaryIO) -> CentralDirectory | None:
    """The central directory the end record describes, or None when there is no end record."""
    size = handle.seek(0, 2)
    tail_start = max(0, size - END.size - MAX_COMMENT)
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < END.size:
        return None
    end_at = tail_start + at
    *_, entries, cd_size, _offset, _comment = END.unpack_from(tail, at)
    start = end_at - cd_size  # like zipfile: the records end where the end record begins
    zip64 = _zip64_end(handle, end_at)
    if zip64 is not None:
        entries, cd_size = zip64
        start = end_at - ZIP64_LOCATOR.size - ZIP64_END.size - cd_size
    return CentralDirectory(entries=entries, start=start, size=cd_size)


def _zip64_end(handle: BinaryIO, end_at: int) -> tuple[int, int] | None:
    """(entries, directory size) from the zip64 end record before `end_at`, if there is one."""
    if end_at < ZIP64_LOCATOR.size + ZIP64_END.size:
        return None
    handle.seek(end_at - ZIP64_LOCATOR.size - ZIP64_END.size)
    data = handle.read(ZIP64_END.size + ZIP64_LOCATOR.size)
    if data[ZIP64_END.size : ZIP64_END.size + 4] != b"PK\x06\x07" or data[:4] != b"PK\x06\x06":
        return None
    fields = ZIP64_END.unpack_from(data)
    return fields[7], fields[8]


def count_records(handle: BinaryIO, directory: CentralDirectory, stop_after: int) -> int | None:
    """Records in the directory, stepped over one by one without decoding them; counting stops
    at `stop_after` + 1. None when a record is damaged: zipfile, walking the same bytes, would
    refuse the archive too (so no directory it accepts can be skipped by this count)."""
    if directory.start < 0:
        return None
    handle.seek(directory.start)
    count = done = 0
    while done < directory.size and count <= stop_after:
        head = handle.read(RECORD.size)
        if len(head) < RECORD.size or head[:4] != b"PK\x01\x02":
            return None
        fields = RECORD.unpack_from(head)
        rest = fields[10] + fields[11] + fields[12]  # name, extra field and comment lengths
        handle.seek(rest, 1)
        done += RECORD.size + rest
        count += 1
    return count
