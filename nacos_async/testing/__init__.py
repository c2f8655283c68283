"""Test support: a Nacos-compatible dev server, a mock transport, a fake clock, pytest fixtures."""

from nacos_async.testing._errors import FLAVORS, Flavor
from nacos_async.testing._stats import DevServerStats
from nacos_async.testing.clock import FakeClock
from nacos_async.testing.mock import HttpRequest, MockTransport, answer, form_of
from nacos_async.testing.server import NacosDevServer

__all__ = [
    "FLAVORS",
    "DevServerStats",
    "FakeClock",
    "Flavor",
    "HttpRequest",
    "MockTransport",
    "NacosDevServer",
    "answer",
    "form_of",
]
