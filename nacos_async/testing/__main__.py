"""``python -m nacos_async.testing``: the dev server, same options as ``nacos-async dev-server``."""

from nacos_async.testing.cli import run_dev_server_cli

raise SystemExit(run_dev_server_cli())
