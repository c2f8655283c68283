"""Config over HTTP: v1 ``/v1/cs/configs`` (+ long-poll listener) and the v3 client/admin APIs.

Change detection, chosen by what the server answers:
- long-poll (Nacos 1.x-3.1): ``POST /v1/cs/configs/listener`` in batches of at most 3,000 keys,
  held by the server until something changes (``long_poll.py``: only the batch of a changed key
  is asked again);
- MD5 polling (Nacos 3.2+, no HTTP listener): read each key and compare MD5s, round-robin, never
  more than ``config_poll_budget`` reads per second however many keys are watched.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from nacos_async._concurrent import run_all
from nacos_async._runtime import Runtime
from nacos_async.config.long_poll import LongPollBatches
from nacos_async.config.models import ConfigItem, ConfigKey, md5_hex
from nacos_async.errors import NacosApiUnavailableError, NacosConflictError, NacosError
from nacos_async.response import Response

V1 = "/v1/cs/configs"
V3_CLIENT = "/v3/client/cs/config"
V3_ADMIN = "/v3/admin/cs/config"
LISTENER = "/v1/cs/configs/listener"
NOT_FOUND = 20004
CONFLICT = 20005
WORD, LINE = "\x02", "\x01"
_MISSING_OK = frozenset({404})


def _data_of_v3(response: Response) -> dict[str, Any] | None:
    """A v3 read's ``data`` (its ``content`` checked), or None when the config does not exist."""
    body = response.json_object("config answer")
    if body.get("code") == NOT_FOUND:
        return None
    data = body.get("data")
    if body.get("code") != 0 or not isinstance(data, dict):
        raise response.error(f"unexpected config answer {response.message!r}")
    if not isinstance(data.get("content"), str):
        raise response.protocol_error("config answer has no 'content'")
    return data


def _item_of_v3(response: Response) -> ConfigItem | None:
    data = _data_of_v3(response)
    if data is None:
        return None
    content = data["content"]
    md5 = data.get("md5")
    modified = data.get("lastModified")
    return ConfigItem(  # content, md5, type, last-modified: in order
        content,
        md5 if isinstance(md5, str) and md5 else md5_hex(content),
        str(data.get("contentType") or "text"),
        str(modified) if modified is not None else None,
    )


def _content_of_v3(response: Response) -> str | None:
    data = _data_of_v3(response)
    return None if data is None else data["content"]


def _content_of_v1(response: Response) -> str | None:
    """A v1 read's answer: the content is the body (None: no such config)."""
    if response.status == 404:
        if response.is_api_missing():
            raise response.error()
        return None
    return response.text()


def _item_of_v1(response: Response) -> ConfigItem | None:
    """The content, and what the server knows of it in the headers."""
    content = _content_of_v1(response)
    if content is None:
        return None
    headers = response.headers
    return ConfigItem(  # content, md5, type, last-modified: in order
        content,
        headers.get("Content-MD5") or md5_hex(content),
        headers.get("Config-Type") or "text",
        headers.get("Last-Modified"),
    )


class _Readers(NamedTuple):
    """How each API family's answer to a read is read."""

    v3: Callable[[Response], Any]
    v1: Callable[[Response], Any]


_ITEM = _Readers(_item_of_v3, _item_of_v1)
_CONTENT = _Readers(_content_of_v3, _content_of_v1)


def _tenant(key: ConfigKey) -> dict[str, str]:
    return {} if key.namespace == "public" else {"tenant": key.namespace}


class HttpConfigBackend:
    """Requests of each API family, the reading of their answers, and change detection."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._send = runtime.send
        self.watch_mode: str | None = None  # "long-poll" or "md5", learned on the first turn
        self._cursor = 0
        self._round_started = -math.inf
        self._next_read_at = -math.inf
        self._long_polls = LongPollBatches(self._listen_held, runtime.supervisor)

    def get(self, key: ConfigKey) -> Awaitable[ConfigItem | None]:
        # the family's choice itself, not a coroutine awaiting it: one layer less on every read
        return self._runtime.api.call(self._read_v3, self._read_v1, key, _ITEM)

    def content(self, key: ConfigKey) -> Awaitable[str | None]:
        return self._runtime.api.call(self._read_v3, self._read_v1, key, _CONTENT)

    def _read_v3(self, key: ConfigKey, readers: _Readers) -> Awaitable[Any]:
        params = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace}
        return self._send("GET", V3_CLIENT, params=params, resource="config", read=readers.v3)

    def _read_v1(self, key: ConfigKey, readers: _Readers) -> Awaitable[Any]:
        params = {"dataId": key.data_id, "group": key.group}
        if key.namespace != "public":
            params["tenant"] = key.namespace
        return self._send(
            "GET", V1, params=params, accept=_MISSING_OK, resource="config", read=readers.v1
        )

    async def publish(
        self, key: ConfigKey, content: str, config_type: str, cas_md5: str | None
    ) -> None:
        """The v3 admin API on 3.x, which needs a token even with client auth off: refused for
        want of one, the open v1 API where the server still serves it (3.0/3.1), else the
        refusal, which says what to configure. Delete goes the same way."""
        headers = {"casMd5": cas_md5} if cas_md5 is not None else None
        accept = (500,) if cas_md5 is not None else ()  # a CAS miss is a 500, not a fault

        async def v3() -> None:
            form = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace,
                    "content": content, "type": config_type}  # fmt: skip
            response = await self._send("POST", V3_ADMIN, data=form, headers=headers,
                                        accept=accept, resource="config")  # fmt: skip
            body = _json_or_none(response)
            if response.status == 500:
                code = body.get("code") if isinstance(body, dict) else None
                raise _conflict(response) if code == CONFLICT else response.error()
            if not isinstance(body, dict) or body.get("code") != 0 or body.get("data") is not True:
                raise response.error(f"publish refused: {response.message!r}")

        async def v1() -> None:
            form = {"dataId": key.data_id, "group": key.group, "content": content,
                    "type": config_type} | _tenant(key)  # fmt: skip
            response = await self._send("POST", V1, data=form, headers=headers, accept=accept,
                                        resource="config")  # fmt: skip
            text = response.body.decode("utf-8", "replace").strip()
            if response.status == 500:
                cas_miss = text == "false" or "cas publish fail" in text.lower()
                raise _conflict(response) if cas_miss else response.error()
            if text != "true":
                raise response.error(f"publish refused: {text[:200]!r}")

        await self._runtime.api.call(v3, v1, around_refusal=True)

    async def delete(self, key: ConfigKey) -> None:
        async def v3() -> None:
            params = {"dataId": key.data_id, "groupName": key.group, "namespaceId": key.namespace}
            await self._send("DELETE", V3_ADMIN, params=params, resource="config")

        async def v1() -> None:
            params = {"dataId": key.data_id, "group": key.group} | _tenant(key)
            await self._send("DELETE", V1, params=params, resource="config")

        await self._runtime.api.call(v3, v1, around_refusal=True)

    async def changes(self, watched: Mapping[ConfigKey, str], *, fresh: bool) -> set[ConfigKey]:
        if self.watch_mode != "md5":
            try:
                changed = await self._long_polls.changes(watched, fresh=fresh)
            except NacosApiUnavailableError:
                self._long_polls.stop()
                self.watch_mode = "md5"
                self._runtime.events.emit("config_watch_mode", mode="md5")
            else:
                self.watch_mode = "long-poll"
                return changed
        return await self._md5_poll(watched)

    async def _listen_held(
        self, probes: list[tuple[ConfigKey, str]], no_hangup: bool
    ) -> set[ConfigKey]:
        hold_ms = int(self._runtime.settings.long_poll_timeout * 1000)
        return await self.listen(probes, hold_ms=hold_ms, no_hangup=no_hangup)

    async def listen(
        self, probes: list[tuple[ConfigKey, str]], *, hold_ms: int, no_hangup: bool
    ) -> set[ConfigKey]:
        """One v1 long-poll: the keys whose MD5 differs from the one given (held if none)."""
        lines = []
        for key, md5 in probes:
            tenant = "" if key.namespace == "public" else WORD + key.namespace
            lines.append(f"{key.data_id}{WORD}{key.group}{WORD}{md5}{tenant}{LINE}")
        headers = {"Long-Pulling-Timeout": str(hold_ms)}
        if no_hangup:
            headers["Long-Pulling-Timeout-No-Hangup"] = "true"
        response = await self._send(
            "POST", LISTENER, data={"Listening-Configs": "".join(lines)}, headers=headers,
            timeout=hold_ms / 1000 * 1.5, resource="config",
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

    async def _md5_poll(self, watched: Mapping[ConfigKey, str]) -> set[ConfigKey]:
        """Read the next keys in turn (paced by the budget); return those whose MD5 differs."""
        settings = self._runtime.settings
        clock = self._runtime.clock
        wait = self._next_read_at - clock.now()
        if wait > 0:
            await clock.sleep(wait)
        keys = list(watched)
        if self._cursor >= len(keys):
            self._cursor = 0
        if self._cursor == 0:
            wait = self._round_started + settings.config_poll_interval - clock.now()
            if wait > 0:
                await clock.sleep(wait)  # every key was read within this interval already
            self._round_started = clock.now()
        chunk = keys[self._cursor : self._cursor + max(1, math.floor(settings.config_poll_budget))]
        changed: set[ConfigKey] = set()

        async def check(key: ConfigKey) -> None:
            item = await self.get(key)
            if (item.md5 if item is not None else "") != watched[key]:
                changed.add(key)

        self._cursor += len(chunk)
        self._next_read_at = clock.now() + len(chunk) / settings.config_poll_budget
        await run_all(functools.partial(check, key) for key in chunk)
        return changed


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
