"""Framework integrations: ``nacos_async.integrations.aiohttp`` and ``.fastapi``.

Nothing is imported here, so that ``import nacos_async`` never pulls a web framework in.
"""
