"""Test support: a Nacos-compatible dev server, a fake clock and pytest fixtures."""

from nacos_async.testing.clock import FakeClock

__all__ = ["FakeClock"]
