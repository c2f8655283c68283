"""The hand-written Payload codec: byte-exact against protobuf, round trips, malformed input.

The fixtures below were produced once by protobuf's ``SerializeToString(deterministic=True)``
for the Nacos proto (the official SDK's generated module), in a throwaway environment.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nacos_async.errors import NacosProtocolError
from nacos_async.grpc.codec import (
    MAX_MESSAGE_BYTES,
    Payload,
    PayloadTooLargeError,
    decode_payload,
    encode_payload,
    json_payload,
)

QUERY_BODY = b'{"dataId":"app.yaml","group":"DEFAULT_GROUP","tenant":""}'
FIXTURES: dict[str, tuple[Payload, str]] = {
    "server check": (
        Payload("ServerCheckRequest", body=b"{}"),
        "12141a12536572766572436865636b526571756573741a0412027b7d",
    ),
    "empty": (Payload(""), "12001a00"),
    "headers sorted, client ip": (
        Payload(
            "ConfigQueryRequest",
            {"notify": "false", "accessToken": "tok", "Client-AppName": "app"},
            "10.0.0.7",
            QUERY_BODY,
        ),
        "125a1a12436f6e6669675175657279526571756573743a150a0e436c69656e742d4170704e616d6512036170"
        "703a120a0b616363657373546f6b656e1203746f6b3a0f0a066e6f74696679120566616c7365420831302e30"
        "2e302e371a3b12397b22646174614964223a226170702e79616d6c222c2267726f7570223a2244454641554c"
        "545f47524f5550222c2274656e616e74223a22227d",
    ),
    "utf-8": (
        Payload("ConfigPublishRequest", {"k": "vé"}, body='{"content":"ü→"}'.encode()),
        "12201a14436f6e6669675075626c697368526571756573743a080a016b120376c3a91a1512137b22636f6e74"
        "656e74223a22c3bce28692227d",
    ),
    "empty header value": (
        Payload("T", {"e": ""}, body=b"{}"),
        "120a1a01543a050a016512001a0412027b7d",
    ),
    "two-byte length": (Payload("B", body=b"x" * 300), "12031a01421aaf0212ac02" + "78" * 300),
}


@pytest.mark.parametrize("name", FIXTURES)
def test_encoding_is_byte_exact_with_protobuf(name: str) -> None:
    payload, expected = FIXTURES[name]
    assert encode_payload(payload).hex() == expected
    assert decode_payload(bytes.fromhex(expected)) == payload


def test_type_url_is_read_and_ignored() -> None:
    # Any{type_url:"type.googleapis.com/x", value:"{}"} as protobuf writes it
    data = bytes.fromhex("12031a01541a1b0a15747970652e676f6f676c65617069732e636f6d2f7812027b7d")
    assert decode_payload(data) == Payload("T", body=b"{}")


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    base = encode_payload(Payload("T", {"a": "b"}, "1.2.3.4", b"{}"))
    unknown = (
        bytes([0x08, 0x96, 0x01])  # field 1 varint
        + bytes([0x21]) + b"\x00" * 8  # field 4 fixed64
        + bytes([0x2D]) + b"\x00" * 4  # field 5 fixed32
        + bytes([0x32, 0x02]) + b"zz"  # field 6 length-delimited
        + bytes([0x3B, 0x08, 0x01, 0x3C])  # field 7 group holding a varint
        + bytes([0x10, 0x05])  # field 2 (metadata) with the wrong wire type: unknown too
    )  # fmt: skip
    assert decode_payload(unknown + base + unknown) == decode_payload(base)


def test_unknown_fields_inside_metadata_header_entry_and_body() -> None:
    # Metadata{type:"T", unknown 1:1, headers{key:"a", value:"bb", unknown 3:1}}, Any{unknown 3:7}
    entry = bytes.fromhex("0a016112026262") + bytes([0x18, 0x01])
    metadata = bytes.fromhex("1a0154") + bytes([0x08, 0x01, 0x3A, len(entry)]) + entry
    body = bytes([0x18, 0x07]) + bytes.fromhex("12027b7d")
    data = bytes([0x12, len(metadata)]) + metadata + bytes([0x1A, len(body)]) + body
    assert decode_payload(data) == Payload("T", {"a": "bb"}, body=b"{}")


def test_repeated_messages_merge_and_last_scalar_wins() -> None:
    first = encode_payload(Payload("First", {"a": "1", "b": "1"}, "1.1.1.1", b"{}"))
    second = encode_payload(Payload("Second", {"b": "2"}, "", b""))
    merged = decode_payload(first + second)
    assert merged == Payload("Second", {"a": "1", "b": "2"}, "1.1.1.1", b"{}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x12", "truncated varint"),
        (b"\x12\x05\x1a", "length 5 past the end"),
        (b"\x12\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", "varint longer than 10 bytes"),
        (b"\x00\x00", "invalid field number 0"),
        (b"\x0f", "invalid wire type 7"),
        (b"\x0b\x08\x01", "unterminated group"),
        (b"\x0b\x14", "end of group 2 inside group 1"),
        (b"\x09\x00\x00", "truncated fixed-width field"),
        (b"\x12\x03\x1a\x01\xff", "metadata.type is not UTF-8"),
        (b"\x0b" * 40, "groups nested too deeply"),
    ],
)
def test_malformed_input_raises_a_protocol_error_with_the_position(
    data: bytes, message: str
) -> None:
    with pytest.raises(NacosProtocolError, match=message) as caught:
        decode_payload(data)
    assert "at byte" in str(caught.value)


def test_non_bytes_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="needs bytes, not str"):
        decode_payload("12001a00")  # type: ignore[arg-type]


_text = st.text(max_size=30)


@given(
    type_=_text,
    headers=st.dictionaries(_text, _text, max_size=5),
    client_ip=_text,
    body=st.binary(max_size=300),
)
def test_round_trip(type_: str, headers: dict[str, str], client_ip: str, body: bytes) -> None:
    payload = Payload(type_, headers, client_ip, body)
    assert decode_payload(encode_payload(payload)) == payload


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_a_protocol_error(data: bytes) -> None:
    try:
        payload = decode_payload(data)
    except NacosProtocolError:
        return
    assert isinstance(payload, Payload)


def test_json_helpers() -> None:
    payload = json_payload("X", {"a": "é", "n": 1}, headers={"h": "v"}, client_ip="ip")
    assert payload.body == '{"a":"é","n":1}'.encode()
    assert payload.json() == {"a": "é", "n": 1}
    assert Payload("X").json() == {}
    with pytest.raises(NacosProtocolError, match=r"X body is not JSON: b'\{nope'"):
        Payload("X", body=b"{nope").json()
    with pytest.raises(NacosProtocolError, match="not a JSON object"):
        Payload("X", body=json.dumps([1]).encode()).json()


def test_repr_shows_header_names_but_no_values_or_body() -> None:
    payload = Payload("X", {"accessToken": "secret-token"}, "1.2.3.4", b'{"password":"pw"}')
    text = repr(payload)
    assert "accessToken" in text and "secret-token" not in text and "pw" not in text
    assert "17 bytes" in text


def test_grpclib_codec_enforces_the_size_limit() -> None:
    pytest.importorskip("grpclib")
    from nacos_async.grpc._grpclib import PayloadCodec

    assert MAX_MESSAGE_BYTES == 10 * 1024 * 1024
    codec = PayloadCodec(max_message_bytes=64)
    data = codec.encode(Payload("T", body=b"x" * 40), Payload)
    assert codec.decode(data, Payload) == Payload("T", body=b"x" * 40)
    big = codec.encode(Payload("T", body=b"x" * 80), Payload)
    with pytest.raises(PayloadTooLargeError, match=f"{len(big)} bytes exceeds the maximum size 64"):
        codec.decode(big, Payload)
    assert isinstance(PayloadTooLargeError("x"), NacosProtocolError)
    with pytest.raises(TypeError, match="not dict"):
        codec.encode({}, Payload)
    with pytest.raises(ValueError, match="must be positive: 0"):
        PayloadCodec(0)
    assert PayloadCodec().max_message_bytes == MAX_MESSAGE_BYTES
