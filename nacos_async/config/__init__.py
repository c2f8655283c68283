"""Dynamic configuration: ``client.config``."""

from nacos_async.config.models import ConfigChange, ConfigItem, NacosConfigParseError
from nacos_async.config.service import ConfigService

__all__ = ["ConfigChange", "ConfigItem", "ConfigService", "NacosConfigParseError"]
