"""How LayerLab writes a number of bytes for people: one formatter for files, memory and limits."""
from __future__ import annotations


def human_size(n_bytes: float) -> str:
    """12_300_000 -> '12.3 MB' (decimal units, as people read file sizes)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n_bytes) < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1000
    return f"{n_bytes:,.1f} GB"
