"""Drives the official nacos-sdk-python 2.0.11 ``NacosClient`` in a child process.

That client is thread- and multiprocessing-based (daemon threads that never stop, a
``multiprocessing.Manager`` process, deprecated ``setDaemon``/``SSLContext()`` calls), so the
tests run it here and talk to it over stdin/stdout: one JSON command per line, one JSON answer
per line. The pytest process stays free of its threads, processes and warnings.

Usage: python _official_driver.py HOST:PORT WORKDIR
"""

from __future__ import annotations

import json
import os
import queue
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")

from nacos import NacosClient  # noqa: E402


def main() -> None:
    address, workdir = sys.argv[1], sys.argv[2]
    os.chdir(workdir)  # the client writes snapshots relative to the working directory
    client = NacosClient(
        address, username="nacos", password="nacos", logDir=os.path.join(workdir, "logs")
    )
    client.set_options(
        snapshot_base=os.path.join(workdir, "snapshot"),
        failover_base=os.path.join(workdir, "failover"),
    )
    events: queue.Queue[dict[str, Any]] = queue.Queue()

    def on_change(params: dict[str, Any]) -> None:
        events.put(params)

    for line in sys.stdin:
        command = json.loads(line)
        op, args, kwargs = command["op"], command.get("args", []), command.get("kwargs", {})
        if op == "exit":
            break
        try:
            if op == "token":
                result: Any = client.token
            elif op == "add_config_watcher":
                client.add_config_watcher(*args, on_change)
                result = True
            elif op == "next_event":
                result = events.get(timeout=args[0])
            else:
                result = getattr(client, op)(*args, **kwargs)
            answer = {"ok": True, "result": result}
        except Exception as exc:  # reported to the test, which asserts on it
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    if client.process_mgr is not None:
        client.process_mgr.shutdown()
    sys.stdout.flush()
    os._exit(0)  # its daemon threads may sit in a held long-poll; do not wait for them


if __name__ == "__main__":
    main()
