"""The grpclib side of the codec: ``PayloadCodec`` plugs ``Payload`` into grpclib channels/servers.

grpclib reads a message's length and buffers it whole before decoding, with no size limit of its
own, so the limit Nacos enforces (10 MiB by default) is checked here.
"""

from __future__ import annotations

from typing import Any

from grpclib.encoding.base import CodecBase

from nacos_async.grpc.codec import (
    MAX_MESSAGE_BYTES,
    Payload,
    PayloadTooLargeError,
    decode_payload,
    encode_payload,
)


class PayloadCodec(CodecBase):
    """Encodes and decodes ``Payload`` messages for grpclib.

    The content subtype is ``proto`` (the bytes are protobuf), so plain ``application/grpc``
    peers such as grpc-java and grpcio accept and are accepted.
    """

    __content_subtype__ = "proto"

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes <= 0:
            raise ValueError(f"max_message_bytes must be positive: {max_message_bytes!r}")
        self.max_message_bytes = max_message_bytes

    def encode(self, message: Any, message_type: Any) -> bytes:
        if not isinstance(message, Payload):
            raise TypeError(f"PayloadCodec encodes Payload, not {type(message).__name__}")
        return encode_payload(message)

    def decode(self, data: bytes, message_type: Any) -> Payload:
        if len(data) > self.max_message_bytes:
            raise PayloadTooLargeError(
                f"gRPC message of {len(data)} bytes exceeds the maximum size "
                f"{self.max_message_bytes}"
            )
        return decode_payload(data)
