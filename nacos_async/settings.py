"""Client settings: one pydantic model, filled from arguments and ``NACOS_*`` environment variables.

Arguments win over the environment; every field ``x`` also reads ``NACOS_X``. Secrets are
``SecretStr`` and validation errors never echo an input value (``hide_input_in_errors``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from nacos_async.servers import DEFAULT_ENDPOINT_PORT, parse_server_address, parse_server_addresses

ENV_PREFIX = "NACOS_"


class NacosSettings(BaseModel):
    """Everything a ``NacosClient`` needs to know; immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    server_addr: str = Field(
        "127.0.0.1:8848", description="Comma-separated `host[:port]` list, `http(s)://` allowed."
    )
    namespace: str = Field("public", description="Namespace id for config and naming.")
    username: str | None = Field(None, description="Login user; none means auth is off.")
    password: SecretStr | None = Field(None, description="Login password.")
    access_key: str | None = Field(None, description="Alibaba Cloud access key (MSE).")
    secret_key: SecretStr | None = Field(None, description="Alibaba Cloud secret key (MSE).")
    context_path: str = Field("/nacos", description="Web context of the Nacos server.")
    endpoint: str | None = Field(
        None, description="Address server `host[:port]` serving `<context>/serverlist`."
    )
    endpoint_refresh_interval: float = Field(30.0, gt=0, description="Seconds between reads.")
    api_version: Literal["auto", "v1", "v3"] = Field(
        "auto", description="`auto` learns which API families the server serves; `v1`/`v3` pin."
    )
    request_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds one request may take in all: a connection slot, a token, every "
        "attempt and the pauses between retries.",
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Attempts per request, across servers.")
    retry_backoff: float = Field(0.1, gt=0, description="First retry delay in seconds.")
    pool_size: int = Field(100, ge=1, le=100_000, description="Concurrent connections.")
    max_response_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Larger answers are refused."
    )
    token_placement: Literal["header", "query"] = Field(
        "header", description="`Authorization: Bearer` header, or `accessToken` query parameter."
    )
    lazy_login: bool = Field(False, description="Log in on first use instead of on start.")
    relogin_min_interval: float = Field(
        1.0, ge=0, description="Least seconds between two logins forced by 403 answers."
    )
    telemetry: bool = Field(
        True, description="Record OpenTelemetry metrics when `opentelemetry-api` is installed."
    )
    transport: Literal["auto", "http", "grpc"] = Field(
        "auto",
        description="How config travels: `auto` uses gRPC when the `[grpc]` extra is installed "
        "and the server's gRPC port answers (decided once, at start), else HTTP; `http` and "
        "`grpc` pin it.",
    )
    grpc_port_offset: int = Field(
        1000,
        ge=0,
        le=64535,
        description="The gRPC port is the server's port plus this (Nacos: 1000; change it only "
        "behind a proxy that maps ports).",
    )

    # --- config service options (issue 4) go here ---
    long_poll_timeout: float = Field(
        30.0, ge=10, le=300, description="Seconds the server may hold a config long-poll."
    )
    config_poll_interval: float = Field(
        5.0, gt=0, le=3600, description="Seconds between MD5 polls of a key (Nacos 3.2+)."
    )
    config_poll_budget: float = Field(
        50.0, gt=0, le=10_000, description="Most config reads per second that MD5 polling makes."
    )
    snapshot_dir: str | None = Field(
        None, description="Save every config read here; serve it when no server answers."
    )
    failover_dir: str | None = Field(
        None, description="Configs placed here by hand win over the server."
    )
    config_recheck_interval: float = Field(
        180.0,
        gt=0,
        le=86400,
        description="Seconds between full re-checks of every watched config over gRPC: the "
        "safety net under pushes.",
    )

    tls_verify: bool = Field(True, description="Verify server certificates.")
    trust_env: bool = Field(
        False,
        description="Use HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and ~/.netrc) from the environment.",
    )
    ca_file: str | None = Field(None, description="CA bundle for TLS verification.")
    client_cert: str | None = Field(None, description="Client certificate (PEM) for mutual TLS.")
    client_key: str | None = Field(None, description="Client private key (PEM) for mutual TLS.")

    # --- naming service options (issue 5) go here ---
    heartbeat_interval: float = Field(
        5.0, gt=0, le=3600, description="Seconds between heartbeats unless the server says."
    )
    naming_poll_interval: float = Field(
        10.0, gt=0, le=3600, description="Seconds between polls of a watched service."
    )
    push_empty_protection: bool = Field(
        True, description="Never replace a watched non-empty instance list by an empty one."
    )
    deregister_on_close: bool = Field(
        True, description="Deregister this client's ephemeral instances on `close()`."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        for name in cls.model_fields:
            value = os.environ.get(ENV_PREFIX + name.upper())
            if name not in filled and value is not None:
                filled[name] = value
        return filled

    @field_validator("server_addr")
    @classmethod
    def _check_servers(cls, value: str) -> str:
        parse_server_addresses(value)
        return value

    @field_validator("endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None:
            parse_server_address(value, default_port=DEFAULT_ENDPOINT_PORT)
        return value

    @field_validator("ca_file", "client_cert", "client_key")
    @classmethod
    def _check_file(cls, value: str | None) -> str | None:
        if value is not None and not os.path.isfile(value):
            raise ValueError(f"no such file: {value!r}")
        return value

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        value = value.strip() or "public"
        if len(value) > 128:
            raise ValueError(f"namespace longer than 128 characters: {value[:40]!r}...")
        return value

    @field_validator("context_path")
    @classmethod
    def _check_context_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            value = "/" + value
        if any(c in value for c in "?#% "):
            raise ValueError(f"invalid context_path {value!r}")
        return value

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("username must not be blank (leave it unset when auth is off)")
        return value

    @model_validator(mode="after")
    def _check_pairs(self) -> NacosSettings:
        if self.username is not None and not _secret(self.password):
            raise ValueError(f"password is required for username {self.username!r}")
        if self.password is not None and self.username is None:
            raise ValueError("password given without username")
        if (self.access_key is None) != (self.secret_key is None) or (
            self.access_key is not None
            and not (self.access_key.strip() and _secret(self.secret_key))
        ):
            raise ValueError("access_key and secret_key must be given together, both non-empty")
        if (self.client_cert is None) and self.client_key is not None:
            raise ValueError("client_key given without client_cert")
        return self

    @property
    def auth_enabled(self) -> bool:
        return self.username is not None


def _secret(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())
