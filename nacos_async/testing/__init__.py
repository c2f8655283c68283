"""Test support: a Nacos-compatible dev server (alone or as a cluster, HTTP and gRPC), a mock
transport, a fake clock and pytest fixtures."""

from nacos_async.testing._cluster import NacosDevCluster
from nacos_async.testing._errors import FLAVORS, Flavor, FlavorTraits, flavor_traits
from nacos_async.testing._stats import DevServerStats
from nacos_async.testing.clock import FakeClock
from nacos_async.testing.mock import HttpRequest, MockTransport, answer, form_of
from nacos_async.testing.server import NacosDevServer

__all__ = [
    "FLAVORS",
    "DevServerStats",
    "FakeClock",
    "Flavor",
    "FlavorTraits",
    "HttpRequest",
    "MockTransport",
    "NacosDevCluster",
    "NacosDevServer",
    "answer",
    "flavor_traits",
    "form_of",
]
