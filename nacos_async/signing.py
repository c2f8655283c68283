"""Access-key signing for Alibaba Cloud MSE (the open-source server ignores it).

Config requests carry ``Spas-*`` headers signed over ``[tenant+]group+timestamp``; naming
requests carry ``ak``/``data``/``signature`` parameters signed over ``timestamp[@@group@@svc]``.
Both are base64 HMAC-SHA1 with the secret key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic import SecretStr

Resource = Literal["config", "naming"]


def hmac_sha1_base64(secret: str, data: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class AccessKeySigner:
    """Signs one request at a time with a fresh millisecond timestamp."""

    def __init__(
        self,
        access_key: str,
        secret_key: SecretStr,
        *,
        millis: Callable[[], int] | None = None,
    ) -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._millis = millis or (lambda: int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"AccessKeySigner(access_key={self._access_key!r})"

    def config_headers(self, params: Mapping[str, str]) -> dict[str, str]:
        timestamp = str(self._millis())
        tenant = params.get("tenant") or params.get("namespaceId") or ""
        group = params.get("group") or params.get("groupName") or ""
        if tenant and group:
            resource = f"{tenant}+{group}+"
        elif group:
            resource = f"{group}+"
        else:
            resource = ""
        return {
            "Spas-AccessKey": self._access_key,
            "Timestamp": timestamp,
            "Spas-Signature": hmac_sha1_base64(
                self._secret_key.get_secret_value(), resource + timestamp
            ),
        }

    def naming_params(self, params: Mapping[str, str]) -> dict[str, str]:
        timestamp = str(self._millis())
        service = params.get("serviceName") or ""
        group = params.get("groupName") or ""
        if service and group and "@@" not in service:
            service = f"{group}@@{service}"
        data = f"{timestamp}@@{service}" if service else timestamp
        return {
            "ak": self._access_key,
            "data": data,
            "signature": hmac_sha1_base64(self._secret_key.get_secret_value(), data),
        }

    def sign(
        self, resource: Resource, params: Mapping[str, str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Extra (headers, params) for a request on ``resource``."""
        if resource == "config":
            return self.config_headers(params), {}
        return {}, self.naming_params(params)
