"""Settings from the environment and an optional `.env`, validated once at start."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_API_BASE = "https://api.telegram.org"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
# LINK_SECRET and MERCHANT_API_SECRET key HMAC-SHA256: 32 bytes is its full strength.
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Every knob a merchant can turn; the README lists each with its default."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr | None = None
    telegram_api_base: str = OFFICIAL_API_BASE
    database_url: str = "sqlite+aiosqlite:///cancelbot.db"
    database_schema: str | None = None
    redis_url: str | None = None
    agent_chat_id: int | None = None
    policy_file: Path | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    merchant_api_secret: SecretStr | None = None
    # The merchant's webhook (bot/channels/merchant_webhook.py): requests created, offers
    # accepted, vouchers issued and refund changes are POSTed here, signed with
    # MERCHANT_API_SECRET like the requests the merchant sends us. Unset, nothing is queued.
    merchant_webhook_url: str | None = None
    merchant_webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Attempts before an event is given up (kept as failed). The wait doubles from 5 s
    # up to an hour, jittered down to half: the default keeps trying for 7 to 14 hours.
    merchant_webhook_max_attempts: int = Field(default=24, ge=1, le=100)
    link_secret: SecretStr | None = None
    link_ttl_days: int = Field(default=7, ge=1, le=365)
    bot_username: str | None = None
    default_locale: Literal["en", "zh"] = "en"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    timezone: str | None = None  # None: the policy file's [general] timezone
    guest_max_failures: int = Field(default=5, ge=1)
    guest_lockout_minutes: int = Field(default=60, ge=1)
    guest_access_days: int = Field(default=7, ge=1)
    # The outbox notifier (bot/channels/notifier.py). The rate is per process and
    # Telegram's own limit is 30/s, so N notifier processes get at most 30/N each.
    notifier_rate_per_second: float = Field(default=25.0, gt=0, le=30)
    notifier_per_chat_interval_seconds: float = Field(default=1.0, ge=1.0)
    notifier_max_attempts: int = Field(default=8, ge=1)
    notifier_lease_seconds: float = Field(default=30.0, ge=1)
    notifier_poll_seconds: float = Field(default=1.0, gt=0)
    # How often the overdue watchdog (bot/channels/watchdog.py) looks for stuck refunds.
    watchdog_interval_seconds: float = Field(default=300.0, gt=0)
    # Insights and observability (issue 13): the dashboard at /dashboard (off unless a
    # token or a user and password is set), /metrics, /readyz and `cancelbot report`.
    dashboard_token: SecretStr | None = None
    dashboard_user: str | None = None
    dashboard_password: SecretStr | None = None
    metrics_token: SecretStr | None = None
    insights_kept_window_days: int = Field(default=30, ge=1, le=365)
    readyz_polling_stale_seconds: float = Field(default=90.0, gt=0)
    # -- human agents (issue 9) --------------------------------------------------------------
    # Who counts as an agent: members of AGENT_CHAT_ID, narrowed to these Telegram ids
    # when given (comma-separated in the environment: AGENT_IDS=111,222).
    agent_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # Membership is asked of Telegram (getChatMember) and remembered this long.
    agent_check_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Sends to the agents' group a minute; Telegram allows about 20 and counts topic
    # creation, edits and copies. Per process, like the notifier's rate.
    agent_group_messages_per_minute: float = Field(default=18.0, gt=0, le=20)
    # How often untaken cases are looked for (re-announced after the policy's minutes).
    agent_sweep_seconds: float = Field(default=60.0, gt=0)

    @field_validator("agent_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return frozenset(int(part) for part in parts)
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas") from None
        return value

    # Hardening (issue 11). The update inbox (bot/channels/inbox.py): how long a worker
    # owns an update it is handling (renewed while it works; a dead worker's updates are
    # replayed after this), and how long received updates are remembered (Telegram
    # redelivers for up to 24 h).
    inbox_lease_seconds: float = Field(default=30.0, ge=1, le=600)
    inbox_retention_hours: int = Field(default=48, ge=24)
    # The incoming flood guard (bot/channels/flood.py): per person, `flood_burst` updates
    # at once, then `flood_rate_per_second`; the rest are dropped with one notice.
    flood_burst: int = Field(default=10, ge=1, le=1000)
    flood_rate_per_second: float = Field(default=1.0, gt=0, le=100)
    # This process's name in the inbox's claims; unique per process (default: host and port).
    worker_name: str | None = Field(default=None, min_length=1, max_length=64)
    # Run the outbox notifier and the overdue watchdog in `cancelbot run` (false when a
    # separate `cancelbot worker` runs them).
    background_jobs: bool = True

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            raise ValueError("must look like 123456:ABC-DEF… as given by @BotFather")
        return value

    @field_validator("telegram_api_base", "webhook_url", "merchant_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            rest = value.split("://", 1)[1]
            return f"postgresql+asyncpg://{rest}"
        if value.startswith("sqlite://"):
            return value.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be sqlite+aiosqlite:///FILE or postgresql+asyncpg://…")
        return value

    @field_validator("database_schema")
    @classmethod
    def _schema_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z_][a-z0-9_]{0,62}$", value):
            raise ValueError("must be a lower-case PostgreSQL identifier")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("dashboard_token", "metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters, e.g. from `openssl rand -hex 16`")
        return value

    @field_validator("dashboard_password")
    @classmethod
    def _long_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 12:
            raise ValueError("must be at least 12 characters")
        return value

    @model_validator(mode="after")
    def _user_with_password(self) -> Settings:
        if (self.dashboard_user is None) != (self.dashboard_password is None):
            raise ValueError(
                "DASHBOARD_USER and DASHBOARD_PASSWORD go together: set both or neither"
            )
        return self

    @model_validator(mode="after")
    def _webhook_is_signed(self) -> Settings:
        if self.merchant_webhook_url is not None and self.merchant_api_secret is None:
            raise ValueError(
                "MERCHANT_WEBHOOK_URL needs MERCHANT_API_SECRET: every event is signed with it"
            )
        return self

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return value.lstrip("@") if value else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("link_secret", "merchant_api_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        """A short secret can be guessed offline from one signed link or request."""
        if value is not None:
            size = len(value.get_secret_value().encode())
            if size < MIN_SECRET_BYTES:
                raise ValueError(
                    f"must be at least {MIN_SECRET_BYTES} bytes, this one has {size}; "
                    "make one with `openssl rand -hex 32`"
                )
        return value

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def guest_lockout(self) -> timedelta:
        return timedelta(minutes=self.guest_lockout_minutes)

    @property
    def guest_access(self) -> timedelta:
        return timedelta(days=self.guest_access_days)


class ConfigError(Exception):
    """Raised with one readable line per bad setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into `NAME: problem` lines."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "SETTINGS"
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise ConfigError(lines) from None
