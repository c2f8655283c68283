"""Requests and answers on the gRPC port: the request a handler gets, answers, refusals, checks.

Answers follow ``Response``'s JSON (``resultCode``, ``errorCode``, ``message``, ``requestId``,
``success``), null fields omitted as Jackson's ``NON_NULL`` does. A handler refuses with
``GrpcError``; the pipeline turns it into the handler's own response type, as Nacos does.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nacos_async.grpc.codec import Payload, json_payload
from nacos_async.testing._grpc_flavors import GrpcFlavor, grpc_flavor

if TYPE_CHECKING:
    from nacos_async.testing._grpc_connections import GrpcConnection
    from nacos_async.testing._grpc_push import Pusher
    from nacos_async.testing._state import DevState

SERVER_STARTING = (300, "Server is starting,please try later.")
UNREGISTERED = (301, "Connection is unregistered.")
NO_HANDLER = (302, "RequestHandler Not Found")
INVALID_PARAM = 400
NO_RIGHT = 403
SERVER_ERROR = 500
BAD_GATEWAY = 502
CLIENT_DISCONNECT = -401


class GrpcError(Exception):
    """A refusal: ``errorCode``/``message``, answered as ``response_type`` or the route's type.

    ``result_code`` is 500 (``setErrorInfo``) unless the handler threw, in which case Nacos'
    ``ErrorResponse.build(Throwable)`` copies the error code into it.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        result_code: int = 500,
        response_type: str | None = None,
    ) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.result_code = result_code
        self.response_type = response_type


def answer(type_: str, request_id: str, fields: dict[str, Any] | None = None) -> Payload:
    """A successful response of ``type_`` carrying ``fields``."""
    body: dict[str, Any] = {"resultCode": 200, "errorCode": 0}
    if request_id:
        body["requestId"] = request_id
    body.update(fields or {})
    body["success"] = True
    return json_payload(type_, body)


def failure(
    type_: str, request_id: str, code: int, message: str, *, result_code: int = 500
) -> Payload:
    """A failed response of ``type_`` (``errorCode`` = ``code``)."""
    body: dict[str, Any] = {"resultCode": result_code, "errorCode": code, "message": message}
    if request_id:
        body["requestId"] = request_id
    body["success"] = False
    return json_payload(type_, body)


@dataclass
class GrpcRequest:
    """One unary request as its handler sees it: body fields, merged headers, its connection,
    the server's state and the pusher (for the pushes a change or a subscription causes)."""

    type: str
    body: dict[str, Any]
    headers: dict[str, str]
    connection: GrpcConnection
    state: DevState
    pusher: Pusher
    user: str | None = None

    @property
    def flavor(self) -> GrpcFlavor:
        return grpc_flavor(self.state.flavor)

    @property
    def request_id(self) -> str:
        return self.text("requestId")

    def text(self, name: str, default: str = "") -> str:
        """A string field (absent or null gives ``default``)."""
        value = self.body.get(name)
        if value is None:
            return default
        if isinstance(value, bool | dict | list):
            raise param_error(name)
        return str(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.body.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise param_error(name)
        return value

    def number(self, name: str, default: int) -> int:
        value = self.body.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise param_error(name)
        return int(value)

    def obj(self, name: str) -> dict[str, Any]:
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise param_error(name)
        return value

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self.body.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise param_error(name)
        return value


Handler = Callable[[GrpcRequest], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class GrpcRoute:
    """A request type: its handler, response type and what the auth filter protects."""

    handler: Handler
    response_type: str
    secured: Literal["config", "naming"] | None = None
    action: Literal["r", "w"] = "r"


# ----- parameter checks (``RemoteParamCheckFilter`` with the default checker) ----------------
_NAME = re.compile(r"^[\w\-.:]*$")
_CLUSTER = re.compile(r"^[\w\-]*$")
_LIMITS = {"namespaceId/tenant": 128, "dataId": 256, "group": 128, "serviceName": 512,
           "clusters": 1024}  # fmt: skip


def param_error(name: str, reason: str = "") -> GrpcError:
    why = reason or "illegal characters should not appear in the param."
    return GrpcError(INVALID_PARAM, f"Param check invalid:Param '{name}' is illegal, {why}")


def check_name(name: str, value: str) -> str:
    """Refuse a namespace, dataId or group with characters or a length Nacos refuses."""
    limit = _LIMITS.get(name, 128)
    if len(value) > limit:
        raise param_error(name, f"the param length should not exceed {limit}.")
    if not _NAME.match(value):
        raise param_error(name)
    return value


def check_service(value: str) -> str:
    if len(value) > _LIMITS["serviceName"]:
        raise param_error("serviceName", "the param length should not exceed 512.")
    if "@@" in value or any(ch.isspace() for ch in value):
        raise param_error("serviceName")
    return value


def check_clusters(value: str) -> str:
    if not all(_CLUSTER.match(part.strip()) for part in value.split(",")):
        raise param_error("cluster")
    return value


def check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise param_error("port", "the value should be between 0 and 65535.")
    return port
