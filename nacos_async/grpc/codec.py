"""The Nacos ``Payload`` message, encoded and decoded by hand (no protobuf).

Nacos 2.x/3.x wrap every gRPC message in one proto3 message (``nacos_grpc_service.proto``)::

    message Metadata { string type = 3; string clientIp = 8; map<string,string> headers = 7; }
    message Payload  { Metadata metadata = 2; google.protobuf.Any body = 3; }

``body`` is an ``Any`` whose ``type_url`` is always empty and whose ``value`` is UTF-8 JSON of the
request or response. Five fields do not justify a protobuf dependency; this module writes the
same bytes protobuf writes (map keys sorted, as protobuf's deterministic mode does) and reads
what protobuf reads, skipping unknown fields. Anything malformed raises ``NacosProtocolError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nacos_async.errors import NacosProtocolError

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
"""Largest message accepted (10 MiB), the default of the Java server and the Java/Go clients."""

_VARINT, _FIXED64, _LEN, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_MAX_DEPTH = 32  # nested unknown groups; protobuf's own recursion limit is 100


class PayloadTooLargeError(NacosProtocolError):
    """A message is larger than the receive limit (gRPC would say RESOURCE_EXHAUSTED)."""


@dataclass(frozen=True)
class Payload:
    """One Nacos gRPC message: a type name, headers, the sender's IP and a JSON body."""

    type: str
    headers: dict[str, str] = field(default_factory=dict)
    client_ip: str = ""
    body: bytes = b""

    def __repr__(self) -> str:
        # Header values may be tokens or passwords, and bodies user secrets: names and sizes only.
        names = ", ".join(sorted(self.headers))
        return (
            f"Payload(type={self.type!r}, headers=[{names}], client_ip={self.client_ip!r}, "
            f"body=<{len(self.body)} bytes>)"
        )

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NacosProtocolError(
                f"{self.type or 'Payload'} body is not JSON: {_preview(self.body)}"
            ) from exc
        if not isinstance(value, dict):
            raise NacosProtocolError(
                f"{self.type or 'Payload'} body is not a JSON object: {_preview(self.body)}"
            )
        return value


def json_payload(
    type: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    client_ip: str = "",
) -> Payload:
    """A payload whose body is ``body`` as compact UTF-8 JSON (as Jackson writes it)."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Payload(type, dict(headers or {}), client_ip, text.encode("utf-8"))


# ----- encoding -------------------------------------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _len_field(number: int, data: bytes) -> bytes:
    return _tag(number, _LEN) + _varint(len(data)) + data


def _string_field(number: int, text: str) -> bytes:
    """A proto3 string field; the empty string is the default and is not written."""
    return _len_field(number, text.encode("utf-8")) if text else b""


def encode_payload(payload: Payload) -> bytes:
    """The protobuf bytes of ``payload`` (metadata and body always present, as senders set them)."""
    metadata = bytearray(_string_field(3, payload.type))
    for key in sorted(payload.headers):
        entry = _len_field(1, key.encode("utf-8")) + _len_field(2, payload.headers[key].encode())
        metadata += _len_field(7, entry)
    metadata += _string_field(8, payload.client_ip)
    body = _len_field(2, payload.body) if payload.body else b""
    return _len_field(2, bytes(metadata)) + _len_field(3, body)


# ----- decoding -------------------------------------------------------------------------------
class _Reader:
    """Reads protobuf fields from ``data[start:end]``; errors name the offset."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def fail(self, what: str) -> NacosProtocolError:
        return NacosProtocolError(
            f"malformed Payload: {what} at byte {self.pos} of {len(self.data)}"
        )

    def varint(self) -> int:
        value = shift = 0
        for _ in range(10):
            if self.pos >= self.end:
                raise self.fail("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value & 0xFFFFFFFFFFFFFFFF
            shift += 7
        raise self.fail("varint longer than 10 bytes")

    def tag(self) -> tuple[int, int]:
        key = self.varint()
        number, wire_type = key >> 3, key & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise self.fail(f"invalid field number {number}")
        return number, wire_type

    def length_delimited(self) -> tuple[int, int]:
        """``(start, end)`` of the next length-delimited value."""
        size = self.varint()
        if size > self.end - self.pos:
            raise self.fail(f"length {size} past the end")
        start = self.pos
        self.pos += size
        return start, self.pos

    def skip(self, number: int, wire_type: int, depth: int = 0) -> None:
        """Skip an unknown field of any wire type, as protobuf does."""
        if wire_type == _VARINT:
            self.varint()
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            if self.end - self.pos < size:
                raise self.fail("truncated fixed-width field")
            self.pos += size
        elif wire_type == _LEN:
            self.length_delimited()
        elif wire_type == _START_GROUP:
            if depth >= _MAX_DEPTH:
                raise self.fail("groups nested too deeply")
            while True:
                if self.pos >= self.end:
                    raise self.fail("unterminated group")
                inner, inner_type = self.tag()
                if inner_type == _END_GROUP:
                    if inner != number:
                        raise self.fail(f"end of group {inner} inside group {number}")
                    return
                self.skip(inner, inner_type, depth + 1)
        else:
            raise self.fail(f"invalid wire type {wire_type}")

    def text(self, start: int, end: int, name: str) -> str:
        try:
            return self.data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{name} is not UTF-8") from None


@dataclass
class _Fields:
    """What a (possibly repeated, hence merged) Payload carries so far."""

    type: str = ""
    client_ip: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _read_metadata(reader: _Reader, start: int, end: int, out: _Fields) -> None:
    sub = _Reader(reader.data, start, end)
    while sub.pos < sub.end:
        number, wire_type = sub.tag()
        if wire_type == _LEN and number in (3, 7, 8):
            s, e = sub.length_delimited()
            if number == 3:
                out.type = sub.text(s, e, "metadata.type")
            elif number == 8:
                out.client_ip = sub.text(s, e, "metadata.clientIp")
            else:
                key, value = _read_header(sub, s, e)
                out.headers[key] = value
        else:
            sub.skip(number, wire_type)


def _read_header(reader: _Reader, start: int, end: int) -> tuple[str, str]:
    entry = _Reader(reader.data, start, end)
    key = value = ""
    while entry.pos < entry.end:
        number, wire_type = entry.tag()
        if wire_type == _LEN and number in (1, 2):
            s, e = entry.length_delimited()
            if number == 1:
                key = entry.text(s, e, "header name")
            else:
                value = entry.text(s, e, "header value")
        else:
            entry.skip(number, wire_type)
    return key, value


def _read_any(reader: _Reader, start: int, end: int, out: _Fields) -> None:
    sub = _Reader(reader.data, start, end)
    while sub.pos < sub.end:
        number, wire_type = sub.tag()
        if wire_type == _LEN and number == 2:
            s, e = sub.length_delimited()
            out.body = sub.data[s:e]
        elif wire_type == _LEN and number == 1:
            s, e = sub.length_delimited()
            sub.text(s, e, "body.type_url")  # validated, then ignored as Nacos ignores it
        else:
            sub.skip(number, wire_type)


def decode_payload(data: bytes) -> Payload:
    """Parse protobuf bytes into a ``Payload``; ``NacosProtocolError`` if they are malformed.

    Repeated message fields merge and the last scalar wins, as in protobuf.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"decode_payload needs bytes, not {type(data).__name__}")
    raw = bytes(data)
    reader = _Reader(raw)
    out = _Fields()
    while reader.pos < reader.end:
        number, wire_type = reader.tag()
        if wire_type == _LEN and number == 2:
            _read_metadata(reader, *reader.length_delimited(), out)
        elif wire_type == _LEN and number == 3:
            _read_any(reader, *reader.length_delimited(), out)
        else:
            reader.skip(number, wire_type)
    return Payload(out.type, out.headers, out.client_ip, out.body)


def _preview(data: bytes, limit: int = 80) -> str:
    text = repr(data[:limit])
    return text + ("..." if len(data) > limit else "")
