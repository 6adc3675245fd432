"""Configuration from the environment (prefix ``GUICHET_``), with pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.files.models import FilePurpose
from domain.files.rules import DEFAULT_ALLOWED

DEV_SECRET = "guichet-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # Database: unset -> an embedded PostgreSQL (pgserver) in data_dir
    database_url: str | None = None
    data_dir: Path = Path(".guichet")
    db_pool_size: int = 10
    db_max_overflow: int = 10
    run_migrations_on_start: bool = True

    # Tokens
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_secret: str = DEV_SECRET
    jwt_private_key: str | None = None  # PEM, for RS256/ES256
    jwt_public_key: str | None = None  # PEM, for RS256/ES256
    jwt_key_id: str | None = None
    jwt_issuer: str = "guichet"
    access_token_ttl_seconds: int = 3600
    dev_login_enabled: bool | None = None  # default: on outside production

    # GraphQL
    graphiql: bool | None = None  # default: on outside production
    introspection: bool | None = None  # default: on outside production
    max_query_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000

    # HTTP
    cors_allowed_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"])
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    metrics_token: str | None = None  # Bearer token required by /metrics when set

    # Dashboards
    indicators_raw_max_days: int = 93  # longest period computed from the base tables (source RAW)
    indicators_max_days: int = 3660  # longest period of any indicator query
    export_min_group_size: int = 5  # smaller groups are suppressed in pseudonymised aggregate outputs
    # the server folds new events into the rollups every N seconds (0: off, e.g. when cron runs
    # `guichet rollups refresh` instead); safe with several workers (one refresh per tenant at a time)
    rollups_refresh_seconds: int = 300
    # Files (domain/files, docs/files.md)
    storage_dir: Path = Path(".guichet/files")  # GUICHET_STORAGE_DIR
    max_upload_bytes: int = 10 * 1024 * 1024  # per file
    max_image_pixels: int = 40_000_000  # decompression-bomb guard
    thumbnail_max_side: int = 320
    attachment_content_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED[FilePurpose.ATTACHMENT]))
    photo_content_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED[FilePurpose.PHOTO]))
    file_url_ttl_seconds: int = 300
    file_url_secret: str | None = None  # default: derived from the JWT secret (or private key)
    public_base_url: str | None = None  # e.g. https://api.example.org; default: the request's own base URL

    @property
    def max_upload_request_bytes(self) -> int:
        """Body limit of multipart/form-data requests: one file plus room for the operations and map fields."""
        return self.max_upload_bytes + 1024 * 1024

    @model_validator(mode="after")
    def _production_safety(self) -> "Settings":
        if self.environment == "production":
            if self.jwt_algorithm == "HS256" and (self.jwt_secret == DEV_SECRET or len(self.jwt_secret) < 32):
                raise ValueError(
                    "GUICHET_JWT_SECRET must be set to a random secret of at least 32 characters in production"
                )
            if self.jwt_algorithm != "HS256" and not (self.jwt_private_key and self.jwt_public_key and self.jwt_key_id):
                raise ValueError("RS256/ES256 need GUICHET_JWT_PRIVATE_KEY, GUICHET_JWT_PUBLIC_KEY and GUICHET_JWT_KEY_ID")
        elif self.jwt_algorithm != "HS256" and not (self.jwt_private_key and self.jwt_public_key):
            raise ValueError("RS256/ES256 need GUICHET_JWT_PRIVATE_KEY and GUICHET_JWT_PUBLIC_KEY")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def dev_login(self) -> bool:
        return self.dev_login_enabled if self.dev_login_enabled is not None else not self.is_production


@lru_cache
def get_settings() -> Settings:
    return Settings()
