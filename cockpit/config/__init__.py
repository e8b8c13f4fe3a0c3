"""config.toml: find it, load it with tomllib, validate it, and write a starter with tomli-w.

Every mistake is reported as one `ConfigError` line naming the file, the key and what was
expected. `tables` and `services` hold the tables (plain dataclasses whose field metadata,
from `fields`, declares ranges, limits and secrets); `coerce` reads a TOML table into one;
`checks` and `service_checks` hold the rules between keys; `locate` finds the files, `load`
reads one and `starter` writes the file `cockpit init` makes.
"""

from cockpit.config.checks import check_template
from cockpit.config.fields import SECRET, Bounds, ConfigError
from cockpit.config.load import CONFIG_MAX_BYTES, config_from_dict, load_config
from cockpit.config.locate import database_path, find_config, user_config_path, user_data_path
from cockpit.config.services import (
    BETTERSTACK_RESOURCE_STATUSES,
    INSTATUS_COMPONENT_STATUSES,
    STATUSPAGE_COMPONENT_STATUSES,
    STATUSPAGE_IMPACTS,
    BetterstackConfig,
    InstatusConfig,
    PagerdutyConfig,
    SlackConfig,
    StatuspageConfig,
    SyncConfig,
    WebhookConfig,
)
from cockpit.config.starter import config_to_toml, starter_config, write_starter
from cockpit.config.tables import (
    DEFAULT_TEMPLATES,
    PACKAGE_RUNBOOKS,
    TEMPLATE_FIELDS,
    Config,
    DatabaseConfig,
    DeclareConfig,
    DrillsConfig,
    KeysConfig,
    OncallConfig,
    PostmortemConfig,
    RolesConfig,
    RunbooksConfig,
    SeverityConfig,
    TemplatesConfig,
    UserConfig,
    login_name,
)

__all__ = [
    "BETTERSTACK_RESOURCE_STATUSES",
    "CONFIG_MAX_BYTES",
    "DEFAULT_TEMPLATES",
    "INSTATUS_COMPONENT_STATUSES",
    "PACKAGE_RUNBOOKS",
    "SECRET",
    "STATUSPAGE_COMPONENT_STATUSES",
    "STATUSPAGE_IMPACTS",
    "TEMPLATE_FIELDS",
    "BetterstackConfig",
    "Bounds",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DeclareConfig",
    "DrillsConfig",
    "InstatusConfig",
    "KeysConfig",
    "OncallConfig",
    "PagerdutyConfig",
    "PostmortemConfig",
    "RolesConfig",
    "RunbooksConfig",
    "SeverityConfig",
    "SlackConfig",
    "StatuspageConfig",
    "SyncConfig",
    "TemplatesConfig",
    "UserConfig",
    "WebhookConfig",
    "check_template",
    "config_from_dict",
    "config_to_toml",
    "database_path",
    "find_config",
    "load_config",
    "login_name",
    "starter_config",
    "user_config_path",
    "user_data_path",
    "write_starter",
]
