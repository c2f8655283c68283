"""Service discovery: ``client.naming``."""

from nacos_async.naming.models import Instance
from nacos_async.naming.service import NamingService, ServicePage

__all__ = ["Instance", "NamingService", "ServicePage"]
