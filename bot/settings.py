"""Configuration: one pydantic-settings class read from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
DEFAULT_TELEGRAM_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_WECOM_API_URL = "https://qyapi.weixin.qq.com"
#: The settings the WeCom channel needs, all or none (``SURVEYBOT_WECOM_API_URL`` has a default).
WECOM_REQUIRED: tuple[str, ...] = ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key")



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
    #: The WeCom (企业微信) self-built app: 我的企业 → 企业ID.
    wecom_corp_id: str | None = None
    #: 应用管理 → the app → AgentId.
    wecom_agent_id: int | None = None
    #: 应用管理 → the app → Secret.
    wecom_secret: SecretStr | None = None
    #: 接收消息 → API 接收 → Token.
    wecom_token: SecretStr | None = None
    #: 接收消息 → API 接收 → EncodingAESKey (43 characters).
    wecom_aes_key: SecretStr | None = None
    #: The API base: WeCom's own, or 政务微信's / a private deployment's.
    wecom_api_url: str = DEFAULT_WECOM_API_URL
    #: Choice questions also go out as template cards (the numbered text always works too).
    wecom_cards: bool = False


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

    @field_validator("wecom_corp_id")
    @classmethod
    def _blank_corp_id_is_unset(cls, value: str | None) -> str | None:
        return value.strip() if value is not None and value.strip() else None

    @field_validator("wecom_secret", "wecom_token", "wecom_aes_key")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("wecom_api_url")
    @classmethod
    def _check_wecom_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/") or DEFAULT_WECOM_API_URL
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a URL; leave it unset for WeCom's own ({DEFAULT_WECOM_API_URL})")
        return value

    @property
    def wecom_missing(self) -> tuple[str, ...]:
        """The WeCom settings not set, as ``SURVEYBOT_…`` names (all five when WeCom is not used)."""
        return tuple(f"SURVEYBOT_{name.upper()}" for name in WECOM_REQUIRED if getattr(self, name) is None)

    @property
    def wecom_enabled(self) -> bool:
        """Whether the WeCom channel runs: all five required settings are set."""
        return not self.wecom_missing

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
