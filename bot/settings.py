"""Configuration: one pydantic-settings class read from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
DEFAULT_TELEGRAM_FILE_URL = "https://api.telegram.org/file/bot"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    """Every setting surveybot reads, each from ``SURVEYBOT_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="SURVEYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_file_url: str = DEFAULT_TELEGRAM_FILE_URL
    telegram_bot_username: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("data")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    timezone: str = "Asia/Shanghai"
    #: The shipped survey files the console offers when a campaign is created (``*.yaml``, ``*.xlsx``...).
    surveys_dir: Path = Path("surveys")
    #: The web chat's public base URL (``https://survey.example.org``): a unit's link is ``{public_url}/s/{token}``.
    public_url: str | None = None
    #: The SMTP server e-mail reminders go through; unset: no e-mail channel.
    smtp_host: str | None = None
    #: 587 (submission, STARTTLS) by default; 465 is implicit TLS.
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    #: The From address of the e-mails (``surveybot@example.cn`` or ``南通评估 <surveybot@example.cn>``).
    smtp_from: str | None = None
    #: True: require STARTTLS; False: never; unset: when the server offers it.
    smtp_starttls: bool | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
            try:
                return frozenset(int(part) for part in parts)
            except ValueError:
                raise ValueError(
                    "must be Telegram user ids separated by commas, e.g. 12345,67890"
                ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a URL; write the base the web chat is reached at, e.g. https://survey.example.org")
        return value

    @field_validator("smtp_host", "smtp_user", "smtp_from")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() if value is not None and value.strip() else None

    @property
    def email_enabled(self) -> bool:
        """Whether reminders and broadcasts also go out by e-mail (``SURVEYBOT_SMTP_HOST`` is set)."""
        return self.smtp_host is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        """The database URL; by default a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'surveybot.db').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "SURVEYBOT_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
