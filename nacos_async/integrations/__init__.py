"""Built on the client's public API: ``nacos_async.integrations.fastapi`` and ``.aiohttp`` (web
apps), ``.live_config`` (typed configs that follow the server) and ``.service_session`` (calls
by service name).

Nothing is imported here, so that ``import nacos_async`` never pulls a web framework in.
"""
