"""Config over HTTP: v1 ``/v1/cs/configs`` (+ long-poll listener) and v3 client/admin APIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from nacos_async.config.models import ConfigItem, ConfigKey, md5_hex
from nacos_async.errors import NacosConflictError, NacosError
from nacos_async.response import Response

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

V1 = "/v1/cs/configs"
V3_CLIENT = "/v3/client/cs/config"
V3_ADMIN = "/v3/admin/cs/config"
LISTENER = "/v1/cs/configs/listener"
NOT_FOUND = 20004
CONFLICT = 20005
WORD, LINE = "\x02", "\x01"


def _tenant(key: ConfigKey) -> dict[str, str]:
    return {} if key.namespace == "public" else {"tenant": key.namespace}


class ConfigProtocol:
    """Requests of each API family and the reading of their answers."""

    def __init__(self, client: NacosClient) -> None:
        self._client = client

    async def get(self, key: ConfigKey) -> ConfigItem | None:
        """The config, or None when it does not exist."""

        async def v3() -> ConfigItem | None:
            params = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace}
            response = await self._request("GET", V3_CLIENT, params=params)
            body = response.json()
            if not isinstance(body, dict):
                raise response.protocol_error("config answer is not a JSON object")
            if body.get("code") == NOT_FOUND:
                return None
            data = body.get("data")
            if body.get("code") != 0 or not isinstance(data, dict):
                raise response.error(f"unexpected config answer {response.message!r}")
            content = data.get("content")
            if not isinstance(content, str):
                raise response.protocol_error("config answer has no 'content'")
            md5 = data.get("md5")
            modified = data.get("lastModified")
            return ConfigItem(
                content=content,
                md5=md5 if isinstance(md5, str) and md5 else md5_hex(content),
                type=str(data.get("contentType") or "text"),
                last_modified=str(modified) if modified is not None else None,
            )

        async def v1() -> ConfigItem | None:
            params = {"dataId": key.data_id, "group": key.group} | _tenant(key)
            response = await self._request("GET", V1, params=params, accept=(404,))
            if response.status == 404:
                if response.is_api_missing():
                    raise response.error()
                return None
            content = response.text()
            headers = response.headers
            return ConfigItem(
                content=content,
                md5=headers.get("Content-MD5") or md5_hex(content),
                type=headers.get("Config-Type") or "text",
                last_modified=headers.get("Last-Modified"),
            )

        return await self._client.api.call(v3, v1)

    async def publish(
        self, key: ConfigKey, content: str, config_type: str, cas_md5: str | None
    ) -> None:
        headers = {"casMd5": cas_md5} if cas_md5 is not None else None
        accept = (500,) if cas_md5 is not None else ()  # a CAS miss is a 500, not a fault

        async def v3() -> None:
            form = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace,
                    "content": content, "type": config_type}  # fmt: skip
            response = await self._request(
                "POST", V3_ADMIN, data=form, headers=headers, accept=accept
            )
            body = _json_or_none(response)
            if response.status == 500:
                code = body.get("code") if isinstance(body, dict) else None
                raise self._conflict(response) if code == CONFLICT else response.error()
            if not isinstance(body, dict) or body.get("code") != 0 or body.get("data") is not True:
                raise response.error(f"publish refused: {response.message!r}")

        async def v1() -> None:
            form = {"dataId": key.data_id, "group": key.group, "content": content,
                    "type": config_type} | _tenant(key)  # fmt: skip
            response = await self._request("POST", V1, data=form, headers=headers, accept=accept)
            text = response.body.decode("utf-8", "replace").strip()
            if response.status == 500:
                cas_miss = text == "false" or "cas publish fail" in text.lower()
                raise self._conflict(response) if cas_miss else response.error()
            if text != "true":
                raise response.error(f"publish refused: {text[:200]!r}")

        await self._client.api.call(v3, v1)

    async def delete(self, key: ConfigKey) -> None:
        async def v3() -> None:
            params = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace}
            await self._request("DELETE", V3_ADMIN, params=params)

        async def v1() -> None:
            await self._request(
                "DELETE", V1, params={"dataId": key.data_id, "group": key.group} | _tenant(key)
            )

        await self._client.api.call(v3, v1)

    async def listen(
        self, probes: Sequence[tuple[ConfigKey, str]], *, hold_ms: int, no_hangup: bool
    ) -> set[ConfigKey]:
        """One v1 long-poll: the keys whose MD5 differs from the one given (held if none)."""
        lines = []
        for key, md5 in probes:
            tenant = "" if key.namespace == "public" else WORD + key.namespace
            lines.append(f"{key.data_id}{WORD}{key.group}{WORD}{md5}{tenant}{LINE}")
        headers = {"Long-Pulling-Timeout": str(hold_ms)}
        if no_hangup:
            headers["Long-Pulling-Timeout-No-Hangup"] = "true"
        response = await self._request(
            "POST", LISTENER, data={"Listening-Configs": "".join(lines)}, headers=headers,
            timeout=hold_ms / 1000 * 1.5,
        )  # fmt: skip
        by_wire = {(k.data_id, k.group, "" if k.namespace == "public" else k.namespace): k
                   for k, _ in probes}  # fmt: skip
        changed: set[ConfigKey] = set()
        body = unquote_plus(response.text().strip())
        for line in filter(None, body.split(LINE)):
            words = line.split(WORD)
            wire = (
                words[0],
                words[1] if len(words) > 1 else "",
                words[2] if len(words) > 2 else "",
            )
            if wire in by_wire:
                changed.add(by_wire[wire])
        return changed

    async def _request(self, method: str, path: str, **kwargs: Any) -> Response:
        return await self._client.request(method, path, resource="config", **kwargs)

    @staticmethod
    def _conflict(response: Response) -> NacosConflictError:
        return NacosConflictError(
            "publish lost a compare-and-set: the server's MD5 differs from cas_md5",
            method=response.method, path=response.path, server=response.server,
            status=response.status, server_message=response.message or None,
        )  # fmt: skip


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except NacosError:
        return None
