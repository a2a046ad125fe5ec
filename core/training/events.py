"""Progress events: one JSON object per line in an append-only `events.jsonl`.

The worker appends and flushes each event; readers poll the file at their own pace from
their last offset, so the run never waits for a reader. A line is only consumed once its
newline is there, which makes a half-written last line (a worker killed mid-write)
harmless.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

# Final statuses of a run (the "status" of the "end" event).
FINISHED = "finished"
STOPPED = "stopped"
EARLY_STOPPED = "early_stopped"
DIVERGED = "diverged"
TIMEOUT = "timeout"
FAILED = "failed"
END_STATUSES = (FINISHED, STOPPED, EARLY_STOPPED, DIVERGED, TIMEOUT, FAILED)


def finite_or_none(value: Any) -> float | None:
    """Log values as plain floats; NaN and infinities become None (strict JSON has neither)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def clean_logs(logs: dict[str, Any] | None) -> dict[str, float | None]:
    return {str(k): finite_or_none(v) for k, v in (logs or {}).items()}


class EventWriter:
    """Appends events to the run's events.jsonl, one flushed line each."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventReader:
    """Reads the events appended since the previous call, without blocking."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # nothing complete yet (or only a half-written line)
        self._offset += end + 1
        return [json.loads(line) for line in chunk[: end + 1].splitlines() if line.strip()]


def read_all(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a run's events file (for tests and post-mortems)."""
    return EventReader(path).read_new()
