"""Reading gRPC answers: success by resultCode, and the typed error of every failure code."""

from __future__ import annotations

import pytest

from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosConnectionError,
    NacosError,
    NacosNotFoundError,
    NacosProtocolError,
    NacosServerError,
)
from nacos_async.grpc.answers import ConnectionLostError, answer_error, read_answer
from nacos_async.grpc.codec import Payload, json_payload


def test_success_is_result_code_200_and_a_missing_one_counts_as_200() -> None:
    assert read_answer(json_payload("HealthCheckResponse", {})).ok
    assert read_answer(json_payload("X", {"resultCode": 200, "errorCode": 0})).ok
    failed = read_answer(json_payload("X", {"resultCode": 500, "errorCode": 300, "message": "m"}))
    assert not failed.ok and failed.error_code == 300 and failed.message == "m"


def test_a_body_that_is_not_a_json_object_is_a_protocol_error() -> None:
    with pytest.raises(NacosProtocolError, match="not JSON"):
        read_answer(Payload("ConfigQueryResponse", body=b"{oops"))
    with pytest.raises(NacosProtocolError, match="not a JSON object"):
        read_answer(Payload("ConfigQueryResponse", body=b"[1]"))


def test_fields_of_the_wrong_type_read_as_failures_not_crashes() -> None:
    answer = read_answer(json_payload("X", {"resultCode": "200", "errorCode": None, "message": 7}))
    assert not answer.ok and answer.error_code == 0 and answer.message == ""


def test_a_long_server_message_is_cut() -> None:
    answer = read_answer(json_payload("X", {"resultCode": 500, "message": "x" * 5000}))
    assert len(answer.message) == 300


@pytest.mark.parametrize(
    ("kind", "code", "error"),
    [
        ("ErrorResponse", 300, NacosServerError),  # the server is starting
        ("ConfigQueryResponse", 300, NacosNotFoundError),
        ("ErrorResponse", 301, ConnectionLostError),
        ("ErrorResponse", 302, NacosApiUnavailableError),
        ("ConfigPublishResponse", 400, NacosBadRequestError),
        ("ConfigQueryResponse", 403, NacosAuthError),
        ("ConfigQueryResponse", 500, NacosServerError),
        ("ErrorResponse", 502, NacosServerError),
        ("ErrorResponse", 503, NacosServerError),
        ("InstanceResponse", -401, NacosServerError),
    ],
)
def test_each_error_code_maps_to_its_typed_error(
    kind: str, code: int, error: type[NacosError]
) -> None:
    answer = read_answer(
        json_payload(kind, {"resultCode": 500, "errorCode": code, "message": "said"}), "h:9848"
    )
    raised = answer_error(answer, request="ConfigQueryRequest")
    assert type(raised) is error
    assert raised.code == code and raised.server == "h:9848" and raised.server_message == "said"
    assert "ConfigQueryRequest" in str(raised)


def test_lost_connections_are_connection_errors_and_the_retryable_codes_are_known() -> None:
    assert issubclass(ConnectionLostError, NacosConnectionError)
    starting = read_answer(json_payload("ErrorResponse", {"resultCode": 500, "errorCode": 300}))
    not_found = read_answer(
        json_payload("ConfigQueryResponse", {"resultCode": 500, "errorCode": 300})
    )
    overloaded = read_answer(json_payload("ErrorResponse", {"resultCode": 503, "errorCode": 503}))
    handler_error = read_answer(
        json_payload("ConfigQueryResponse", {"resultCode": 500, "errorCode": 500})
    )
    assert starting.retryable and overloaded.retryable
    assert not not_found.retryable and not handler_error.retryable
