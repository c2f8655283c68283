"""Fault switches that act per request: latency and "fail the next N requests"."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FailRule:
    """Answer ``status`` (0 = drop the connection) to the next ``remaining`` matching requests."""

    status: int
    remaining: int
    body: str = ""
    path: str | None = None  # only paths starting with this (below the context path)

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
