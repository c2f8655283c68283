"""The TLS context of a client's connections, built from its settings in one place.

Verification is on unless ``tls_verify=False``; ``ca_file`` replaces the system's trust store
and ``client_cert``/``client_key`` give mutual TLS. The HTTP transport leaves certificate checks
to aiohttp when nothing is configured; gRPC always needs a context, with ALPN ``h2``.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nacos_async.settings import NacosSettings


def client_context(settings: NacosSettings, *, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A client-side context for ``settings`` (verifying unless told not to)."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.client_cert is not None:
        context.load_cert_chain(settings.client_cert, settings.client_key)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context
