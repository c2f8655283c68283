"""Long-polling thousands of keys: each batch answers on its own and only it is asked again."""

from __future__ import annotations

from urllib.parse import quote_plus

import anyio

from nacos_async import NacosClient
from nacos_async.config.models import ConfigChange, md5_hex
from nacos_async.response import Response
from nacos_async.testing import FakeClock, HttpRequest, MockTransport, answer, form_of


class Listener:
    """A v1 listener that holds each request until one of its keys differs (as Nacos does)."""

    def __init__(self) -> None:
        self.configs: dict[str, str] = {}
        self.asked: list[int] = []  # keys per long-poll request, in order
        self.clock = FakeClock(start=0.0)
        self._published = anyio.Event()
        self.transport = MockTransport(self.handle)

    def publish(self, data_id: str, content: str) -> None:
        self.configs[data_id] = content
        self._published.set()
        self._published = anyio.Event()

    async def handle(self, request: HttpRequest) -> Response:
        if request.path == "/v3/client/cs/config":
            content = self.configs[(request.params or {})["dataId"]]
            return answer(json={"code": 0, "data": {"content": content, "md5": md5_hex(content)}})
        assert request.path == "/v1/cs/configs/listener"
        lines = [line.split("\x02") for line in form_of(request)["Listening-Configs"].split("\x01")]
        probes = [(words[0], words[1], words[2]) for words in lines if len(words) >= 3]
        self.asked.append(len(probes))
        no_hangup = (request.headers or {}).get("Long-Pulling-Timeout-No-Hangup") == "true"
        while True:
            changed = [(d, g) for d, g, md5 in probes if md5_hex(self.configs[d]) != md5]
            if changed or no_hangup:
                body = "".join(f"{d}\x02{g}\x01" for d, g in changed)
                return answer(text=quote_plus(body))
            await self._published.wait()


async def test_a_change_in_one_batch_is_delivered_while_the_other_is_held() -> None:
    server = Listener()
    seen: list[ConfigChange] = []
    client = NacosClient("nacos.test:8848", transport=server.transport, clock=server.clock)
    async with client:
        for i in range(5000):  # two batches: 3,000 and 2,000 keys
            server.configs[f"key-{i}"] = "v0"
            await client.config.add_listener(f"key-{i}", seen.append)
        await server.clock.settle()
        assert client.health().services["config"]["mode"] == "long-poll"
        before = len(server.asked)
        server.publish("key-10", "v1")  # in the first batch; the second stays held
        with anyio.fail_after(5):
            while not seen:
                await server.clock.settle()
        assert [(c.data_id, c.content) for c in seen] == [("key-10", "v1")]
        await server.clock.settle()
        # the answered batch is asked again, the held one is not re-sent
        assert server.asked[before:] == [3000]
