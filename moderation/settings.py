"""Settings: the only module that reads the environment (``MODERATION_*`` variables).

With nothing set, the service runs on one machine with no external services: a SQLite
database and kombu's SQLAlchemy transport on a second SQLite file as the Celery broker,
both under ``data_dir``. Set ``MODERATION_DATABASE_URL`` and ``MODERATION_BROKER_URL`` to
use PostgreSQL and Redis.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CRISIS_MESSAGE = (
    "It sounds like you may be going through a very hard time. You are not alone, and help is "
    "available right now. A moderator will read your comment soon."
)
DEFAULT_CRISIS_RESOURCES = (
    "US: call or text 988 (Suicide & Crisis Lifeline)",
    "UK & Ireland: call Samaritans on 116 123",
    "Elsewhere: find a helpline at https://findahelpline.com",
    "If you are in immediate danger, call your local emergency number.",
)
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "dev", "test", "password"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODERATION_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("moderation-data"), description="Where embedded-mode files live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    broker_url: str = Field("", description="Celery broker URL; empty means SQLite (kombu sqla) in data_dir.")
    redis_url: str = Field("", description="Redis for rate limits and behaviour state; empty means none.")
    secret_key: str = Field(
        "", description="Signs sessions and CSRF tokens; generated into data_dir if empty."
    )

    max_body_chars: int = Field(5000, ge=1, description="Longest comment body accepted.")
    max_request_bytes: int = Field(65536, ge=1024, description="Largest request body accepted (413 above).")
    max_author_chars: int = Field(80, ge=1)
    page_size_default: int = Field(50, ge=1, le=500)

    task_time_limit: int = Field(60, ge=1, description="Hard time limit of a moderation task, seconds.")
    visibility_timeout: int = Field(300, ge=2, description="Redis broker visibility timeout, seconds.")
    worker_prefetch_multiplier: int = Field(4, ge=1)
    publish_timeout: float = Field(1.0, gt=0, description="Seconds a submission waits on the broker.")

    crisis_message: str = DEFAULT_CRISIS_MESSAGE
    crisis_resources: tuple[str, ...] = DEFAULT_CRISIS_RESOURCES

    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: str = "INFO"

    @field_validator("secret_key")
    @classmethod
    def _no_placeholder_secret(cls, value: str) -> str:
        if value and (value.lower() in _PLACEHOLDER_SECRETS or len(value) < 16):
            raise ValueError("MODERATION_SECRET_KEY must be a random string of at least 16 characters")
        return value

    @model_validator(mode="after")
    def _visibility_above_time_limit(self) -> Settings:
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError("visibility_timeout must be longer than task_time_limit")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'moderation.sqlite3'}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir.resolve() / 'broker.sqlite3'}"

    @property
    def embedded(self) -> bool:
        return self.resolved_broker_url.startswith("sqla+")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept in ``data_dir``."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
