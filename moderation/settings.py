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
    max_author_chars: int = Field(80, ge=1, description="Longest author name kept.")
    rate_limit_per_ip: int = Field(30, ge=0, description="Submissions per client IP per window; 0 = off.")
    rate_limit_per_author: int = Field(
        10, ge=0, description="Submissions per author (email or name); 0 = off."
    )
    rate_limit_window: int = Field(
        60, ge=1, description="Rate limit window, seconds (Redis when configured)."
    )

    task_time_limit: int = Field(60, ge=1, description="Hard time limit of a moderation task, seconds.")
    visibility_timeout: int = Field(300, ge=2, description="Redis broker visibility timeout, seconds.")
    worker_prefetch_multiplier: int = Field(4, ge=1, description="Messages each worker process reserves.")
    publish_timeout: float = Field(
        1.0, gt=0, description="Seconds a submission waits on the broker, to connect and for an answer."
    )

    crisis_message: str = Field(
        DEFAULT_CRISIS_MESSAGE, description="Shown at once to a reader whose comment reads as a crisis."
    )
    crisis_resources: tuple[str, ...] = Field(
        DEFAULT_CRISIS_RESOURCES, description="Crisis lines shown with it (JSON list in the environment)."
    )

    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="Log lines as JSON, text, or JSON unless on a terminal."
    )
    log_level: str = Field("INFO", description="Root log level.")

    # --- ecosystem: metrics, webhooks, admin API, Akismet compatibility (issue 8) ---
    metrics_dir: Path | None = Field(
        None,
        description="prometheus-client multiprocess directory; empty means data_dir/prometheus.",
    )
    admin_token: str = Field(
        "",
        description="Bearer token for /api/v1/admin/* until moderator accounts exist; empty disables it.",
    )
    akismet_keys: tuple[str, ...] = Field(
        (), description="API keys accepted by the Akismet-compatible endpoints (/1.1/*)."
    )
    webhook_timeout: float = Field(5.0, gt=0, description="Seconds a webhook delivery waits.")
    webhook_max_retries: int = Field(8, ge=0, description="Retries of a failed webhook delivery.")
    webhook_retry_backoff_max: int = Field(
        600, ge=1, description="Longest wait between retries, s (capped at half the visibility timeout)."
    )

    # --- moderator review: accounts, queue, reader reports (issue 4) ---
    session_hours: int = Field(12, ge=1, le=720, description="Lifetime of a moderator's page session.")
    claim_minutes: int = Field(10, ge=1, description="How long a moderator's claim on a comment lasts.")
    login_max_failures: int = Field(5, ge=1, description="Failed logins per name before it is throttled.")
    login_max_failures_per_ip: int = Field(
        20, ge=1, description="Failed logins per address before throttling."
    )
    login_window_minutes: int = Field(15, ge=1, description="Window over which failed logins are counted.")
    report_threshold: int = Field(3, ge=1, description="Reader reports that send a published comment back.")
    report_rate_limit: int = Field(10, ge=1, description="Reports accepted per address per window.")
    report_rate_window_seconds: int = Field(3600, ge=1, description="Window of the report rate limit.")

    # --- scheduled cleanup jobs (issue 5; moderation/jobs, README "Scheduled jobs") ---
    # Beat intervals in seconds; 0 leaves a job out of the beat schedule (it still runs by hand).
    jobs_batch_size: int = Field(500, ge=1, le=10000, description="Rows a job handles per batch (commit).")
    jobs_max_batches: int = Field(20, ge=1, description="Batches one job run may handle (bounded work).")
    jobs_time_limit: int = Field(240, ge=10, description="Hard time limit of a job task, seconds.")
    jobs_requeue_stuck_interval: int = Field(60, ge=0, description="Seconds between requeue-stuck runs.")
    jobs_requeue_after: int = Field(
        600, ge=1, description="Pending this long since published: publish again, s."
    )
    jobs_requeue_max_attempts: int = Field(5, ge=1, description="Publishes before processing_failed.")
    jobs_release_claims_interval: int = Field(60, ge=0, description="Seconds between release-claims runs.")
    jobs_escalate_interval: int = Field(60, ge=0, description="Seconds between escalate runs.")
    jobs_review_target: int = Field(
        7200, ge=60, description="Flagged and untouched this long: up one level, s."
    )
    jobs_crisis_notify_after: int = Field(
        300, ge=1, description="Urgent item undecided this long: notify, s."
    )
    jobs_webhook_url: str = Field("", description="Crisis notification webhook; empty means log only.")
    jobs_webhook_secret: str = Field("", description="Webhook HMAC key; empty means the secret key.")
    jobs_webhook_max_retries: int = Field(8, ge=0, description="Crisis webhook delivery retries (backoff).")
    jobs_webhook_timeout: float = Field(5.0, gt=0, description="Crisis webhook request timeout, seconds.")
    jobs_purge_interval: int = Field(3600, ge=0, description="Seconds between purge runs.")
    jobs_reject_retention_days: int = Field(30, ge=1, description="Rejected comments are kept this long.")
    jobs_run_retention_days: int = Field(30, ge=1, description="Job run records are kept this long.")
    jobs_anonymise_interval: int = Field(3600, ge=0, description="Seconds between anonymise runs.")
    jobs_pii_retention_days: int = Field(90, ge=1, description="Author email, IP, user agent hashed after.")
    jobs_retrain_hour: int = Field(3, ge=-1, le=23, description="UTC hour of the retrain; -1: not in beat.")
    jobs_retrain_time_limit: int = Field(1800, ge=60, description="Hard time limit of the retrain task, s.")

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

    @property
    def resolved_metrics_dir(self) -> Path:
        return (self.metrics_dir or self.data_dir / "prometheus").resolve()

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
