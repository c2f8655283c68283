"""Reading a Nacos gRPC answer: its fields, and the typed error each failure code means.

Every response carries ``resultCode`` (200 = success, the Java rule; a missing one is 200),
``errorCode`` and ``message`` (NACOS_GRPC.md §2.5). A handler refuses in its own response type
(``ConfigQueryResponse`` with errorCode 300 = not found); the acceptor uses ``ErrorResponse``
(300 = server starting, 301 = connection unregistered, 302 = no handler). What a code means can
depend on the type, so callers accept the codes they understand and ``error`` maps the rest.
Pure Python: importable without grpclib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosConnectionError,
    NacosError,
    NacosNotFoundError,
    NacosServerError,
)
from nacos_async.grpc.codec import Payload

NOT_FOUND_OR_STARTING = 300  # config query: not found; ErrorResponse: server starting
UNREGISTERED = 301  # the connection is not (or no longer) registered on the server
NO_HANDLER = 302
BAD_REQUEST = 400
NO_RIGHT = 403
SERVER_ERROR = 500
BAD_GATEWAY = 502
OVER_THRESHOLD = 503  # TPS limit: the server already waited 1 s before answering
_MESSAGE_LIMIT = 300


class ConnectionLostError(NacosConnectionError):
    """The Nacos connection is gone (stream ended, reset, unregistered): reconnect and retry."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One response: its type, its JSON body and its outcome fields."""

    type: str
    body: dict[str, Any]
    result_code: int
    error_code: int
    message: str
    server: str = ""  # host:port it came from

    @property
    def ok(self) -> bool:
        return self.result_code == 200

    @property
    def server_starting(self) -> bool:
        return self.type == "ErrorResponse" and self.error_code == NOT_FOUND_OR_STARTING

    @property
    def retryable(self) -> bool:
        """A failure that a later attempt may not meet: the server starting, or overloaded."""
        return self.server_starting or self.error_code in (OVER_THRESHOLD, BAD_GATEWAY)


def read_answer(payload: Payload, server: str = "") -> Answer:
    """The fields of ``payload``; ``NacosProtocolError`` when its body is not a JSON object."""
    body = payload.json()
    result = body.get("resultCode", 200)
    error = body.get("errorCode", 0)
    message = body.get("message")
    return Answer(
        payload.type,
        body,
        result if isinstance(result, int) else 0,
        error if isinstance(error, int) else 0,
        message[:_MESSAGE_LIMIT] if isinstance(message, str) else "",
        server,
    )


def answer_error(answer: Answer, *, request: str, message: str = "") -> NacosError:
    """The typed error for a failed ``answer`` to ``request`` (a request type name); ``message``
    replaces the default text."""
    code = answer.error_code
    cls: type[NacosError]
    if answer.server_starting:
        cls, text = NacosServerError, "the server is starting"
    elif code == UNREGISTERED:
        cls, text = ConnectionLostError, "the connection is not registered on the server"
    elif code == NOT_FOUND_OR_STARTING:
        cls, text = NacosNotFoundError, "not found"
    elif code == NO_HANDLER:
        cls, text = NacosApiUnavailableError, "the server does not handle this request"
    elif code == BAD_REQUEST:
        cls, text = NacosBadRequestError, "the server refused the request's parameters"
    elif code == NO_RIGHT:
        cls, text = NacosAuthError, "refused"
    else:
        cls, text = NacosServerError, "the server failed"
    return cls(
        message or text,
        method="gRPC",
        path=request,
        server=answer.server or None,
        code=code,
        server_message=answer.message or None,
    )
