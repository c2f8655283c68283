"""Which API family each call uses, and how the client learns what the server serves."""

from __future__ import annotations

from nacos_async.response import Response
from nacos_async.testing import HttpRequest, answer

from .helpers import FakeNacos, make_client, spring_error

V1_REGISTER = "/v1/ns/instance"
V3_REGISTER = "/v3/client/ns/instance"


async def test_a_family_found_gone_is_tried_second_until_it_answers_again() -> None:
    """A rolling upgrade: a 3.2 node lacks v1 naming (501), a 2.x node lacks v3 (404)."""
    fake = FakeNacos()
    served = {V1_REGISTER: False, V3_REGISTER: True}

    def register(request: HttpRequest) -> Response:
        if served[request.path]:
            return answer(text="ok") if request.path == V1_REGISTER else answer(json={"code": 0})
        if request.path == V1_REGISTER:
            return answer(501, text=spring_error(501, "no such api:POST:/nacos/v1/ns/instance"))
        return answer(404, text=spring_error(404, "No message available", request.path))

    fake.route("POST", V1_REGISTER, register)
    fake.route("POST", V3_REGISTER, register)
    async with make_client(fake, deregister_on_close=False) as client:
        for _ in range(2):
            await client.naming.register_instance("orders", "10.0.0.5", 8080, ephemeral=False)
        served[V1_REGISTER], served[V3_REGISTER] = True, False
        for _ in range(2):
            await client.naming.register_instance("orders", "10.0.0.5", 8080, ephemeral=False)
    paths = [r.path for r in fake.requests]
    assert paths == [V1_REGISTER, V3_REGISTER, V3_REGISTER, V3_REGISTER, V1_REGISTER, V1_REGISTER]


async def test_pinned_v3_never_tries_v1_for_naming() -> None:
    fake = FakeNacos()
    fake.route("POST", V3_REGISTER, lambda _: answer(json={"code": 0, "data": "ok"}))
    async with make_client(fake, api_version="v3", deregister_on_close=False) as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080, ephemeral=False)
    assert [r.path for r in fake.requests] == [V3_REGISTER]
