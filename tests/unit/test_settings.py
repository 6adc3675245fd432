"""Settings: production refuses unsafe secrets; GraphiQL, introspection and dev login follow the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import DEV_SECRET, Settings

STRONG = "x" * 48


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="GUICHET_JWT_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="GUICHET_JWT_SECRET"):
        Settings(environment="production", jwt_secret=DEV_SECRET)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", jwt_secret="short-but-not-default")


def test_production_refuses_asymmetric_algorithms_without_keys_and_kid():
    with pytest.raises(ValidationError, match="GUICHET_JWT_KEY_ID"):
        Settings(environment="production", jwt_algorithm="RS256", jwt_private_key="k", jwt_public_key="k")


def test_production_with_a_strong_secret_switches_dev_features_off():
    settings = Settings(environment="production", jwt_secret=STRONG)
    assert settings.is_production
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled
    assert not settings.dev_login


def test_development_switches_dev_features_on_and_they_can_be_overridden():
    settings = Settings(environment="development")
    assert settings.graphiql_enabled and settings.introspection_enabled and settings.dev_login
    off = Settings(environment="development", graphiql=False, introspection=False, dev_login_enabled=False)
    assert not (off.graphiql_enabled or off.introspection_enabled or off.dev_login)


def test_settings_come_from_guichet_environment_variables(monkeypatch):
    monkeypatch.setenv("GUICHET_ENVIRONMENT", "production")
    monkeypatch.setenv("GUICHET_JWT_SECRET", STRONG)
    monkeypatch.setenv("GUICHET_MAX_QUERY_DEPTH", "8")
    monkeypatch.setenv("GUICHET_CORS_ALLOWED_ORIGINS", '["https://portail.example.fr"]')
    settings = Settings()
    assert settings.is_production and settings.jwt_secret == STRONG
    assert settings.max_query_depth == 8
    assert settings.cors_allowed_origins == ["https://portail.example.fr"]
