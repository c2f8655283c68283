"""Fault switches that act per request: latency, "fail the next N requests", gzip bombs."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated: int) -> bytes:
    """A small gzip body that inflates to ``inflated`` zero bytes (made a MiB at a time, so the
    server itself never holds the inflated size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk[: min(len(chunk), inflated - done)])
             for done in range(0, inflated, len(chunk))]  # fmt: skip
    return b"".join(parts) + packer.flush()


@dataclass
class FailRule:
    """Answer ``status`` (0 = drop the connection) to the next ``remaining`` matching requests."""

    status: int
    remaining: int
    body: str = ""
    path: str | None = None  # only paths starting with this (below the context path)
    inflated: int = 0  # > 0: a 200 whose gzip body inflates to this many bytes (a "gzip bomb")

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


@dataclass
class Faults:
    """Per-request faults; the control endpoints under ``/__dev__/`` are never affected."""

    latency: float = 0.0
    rules: list[FailRule] = field(default_factory=list)

    def add_failures(
        self, count: int, status: int, body: str = "", path: str | None = None
    ) -> None:
        if count < 1:
            raise ValueError(f"count must be positive: {count!r}")
        if status != 0 and not 100 <= status <= 599:
            raise ValueError(f"status must be 0 (drop) or an HTTP status: {status!r}")
        self.rules.append(FailRule(status, count, body, path))

    def add_gzip_bombs(self, count: int, inflated: int, path: str | None = None) -> None:
        if count < 1:
            raise ValueError(f"count must be positive: {count!r}")
        if not 1024 <= inflated <= 1 << 30:
            raise ValueError(f"inflated size must be from 1 KiB to 1 GiB: {inflated!r}")
        self.rules.append(FailRule(200, count, path=path, inflated=inflated))

    def take(self, path: str) -> FailRule | None:
        """The rule that fails this request (consuming one use), if any."""
        for rule in self.rules:
            if rule.matches(path):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.latency = 0.0
        self.rules.clear()
