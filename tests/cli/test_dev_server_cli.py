"""``nacos-async dev-server --port 0 --quiet``: says where it listens, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import aiohttp

from ..test_shutdown import finish
from .test_signals import CLI


async def test_quiet_with_port_0_still_prints_the_address_and_sigterm_stops_it() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, "dev-server", "--port", "0", "--quiet",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        first = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        match = re.search(r" at (http://127\.0\.0\.1:(\d+)/nacos);", first)
        assert match and int(match.group(2)) > 0, first
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{match.group(1)}/v1/ns/operator/metrics") as resp:
                assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        code, _, err = await finish(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0 and err == "", err  # quiet: no request log, no traceback
