"""Fuzzed public-API arguments: success or a documented ValueError, never another exception."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nacos_async.config import validation as config_check
from nacos_async.naming import validation as naming_check
from nacos_async.naming.service import _spec
from nacos_async.servers import parse_server_addresses
from nacos_async.settings import NacosSettings

anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40),
    st.binary(max_size=10), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)  # fmt: skip
names = st.one_of(st.text(max_size=300), st.from_regex(r"[A-Za-z0-9_.:\-]{1,40}", fullmatch=True))


def accepts_or_value_error(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(ValueError):
        call(*args, **kwargs)


@settings(max_examples=300, deadline=None)
@given(service=st.one_of(names, anything), ip=st.one_of(st.ip_addresses().map(str), anything),
       port=anything, group=st.one_of(names, anything), cluster=st.one_of(names, anything),
       weight=anything, metadata=anything)  # fmt: skip
def test_instance_arguments(
    service: Any, ip: Any, port: Any, group: Any, cluster: Any, weight: Any, metadata: Any
) -> None:
    accepts_or_value_error(
        _spec, service, ip, port, group, cluster, weight=weight, metadata=metadata
    )


@settings(max_examples=300, deadline=None)
@given(data_id=st.one_of(names, anything), group=st.one_of(names, anything),
       namespace=st.one_of(names, anything), content=anything, config_type=anything)  # fmt: skip
def test_config_arguments(
    data_id: Any, group: Any, namespace: Any, content: Any, config_type: Any
) -> None:
    for check, value in ((config_check.data_id, data_id), (config_check.group, group),
                         (config_check.namespace, namespace), (config_check.content, content),
                         (config_check.config_type, config_type)):  # fmt: skip
        accepts_or_value_error(check, value)  # regression: a list as type raised TypeError


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=80), anything, st.lists(st.sampled_from(
    ["h", "h:1", "https://h:443", "[::1]:8", ":", "h:99999", "a b", "http://h/x", ""]), max_size=4).map(",".join)))  # fmt: skip
def test_server_addresses(text: Any) -> None:
    accepts_or_value_error(parse_server_addresses, text)


@settings(max_examples=200, deadline=None)
@given(options=st.fixed_dictionaries({}, optional={
    "server_addr": anything, "request_timeout": anything, "pool_size": anything,
    "namespace": anything, "username": anything, "password": anything, "max_attempts": anything}))  # fmt: skip
def test_settings(options: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationError):  # a ValueError subclass naming the field
        NacosSettings(**options)


def test_weights_and_ports_at_their_bounds() -> None:
    assert naming_check.weight(0) == 0.0 and naming_check.weight(10_000) == 10_000.0
    assert naming_check.port(1) == 1 and naming_check.port(65535) == 65535
