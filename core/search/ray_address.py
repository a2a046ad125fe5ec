"""Is a Ray cluster there? Checked before a search starts (no Ray import: a plain socket)."""
from __future__ import annotations

import socket
from urllib.parse import urlparse

from core.errors import UserError

CONNECT_TIMEOUT_S = 5.0


def check_reachable(address: str) -> None:
    """A plain UserError when nothing answers at `address` (host:port or ray://host:port); `auto`
    is left to ray.init, which says at once when no cluster runs on this machine."""
    if address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise UserError("search.ray_bad_address", 'The Ray address "{address}" is not host:port, ray://host:port or '
                        "auto. Check it (a head started with `ray start --head` on this machine is 127.0.0.1:6379).",
                        address=address[:120])
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise unreachable(address, err.strerror or type(err).__name__) from None


def unreachable(address: str, reason: str) -> UserError:
    return UserError("search.ray_unreachable", "LayerLab cannot reach a Ray cluster at {address} ({reason}). Nothing "
                     "was trained. Check that the cluster is running and the address is right, or run the search on "
                     "this machine (leave the Ray address empty).", address=address[:120], reason=str(reason)[:200])
