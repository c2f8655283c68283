"""Dynamic configuration: ``client.config``."""

from nacos_async.config.models import ConfigChange, ConfigItem
from nacos_async.config.service import ConfigService
from nacos_async.errors import NacosConfigParseError

__all__ = ["ConfigChange", "ConfigItem", "ConfigService", "NacosConfigParseError"]
