"""Test support: a Nacos-compatible dev server (alone or as a cluster), a fake clock, fixtures."""

from nacos_async.testing._cluster import NacosDevCluster
from nacos_async.testing._errors import FLAVORS, Flavor, FlavorTraits, flavor_traits
from nacos_async.testing._stats import DevServerStats
from nacos_async.testing.clock import FakeClock
from nacos_async.testing.server import NacosDevServer

__all__ = [
    "FLAVORS",
    "DevServerStats",
    "FakeClock",
    "Flavor",
    "FlavorTraits",
    "NacosDevCluster",
    "NacosDevServer",
    "flavor_traits",
]
