"""One typed settings object, read once from ``BANDEJA_*`` environment variables.

Every field is documented here and in the README's settings table. Outside development, placeholder
secrets are refused at start-up instead of running with a key anybody can read in this file.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANDEJA_", extra="ignore")

    env: Literal["development", "production", "test"] = Field(
        "development",
        description="`production` refuses a missing secret key and turns off the demo shortcuts.",
    )
    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="Where the embedded SQLite database and the generated development key live.",
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL. Empty: SQLite at <data_dir>/bandeja.db. PostgreSQL: "
            "postgresql+asyncpg://user:pass@host/db (plain postgresql:// is accepted)."
        ),
    )
    database_pool_size: int = Field(
        10, ge=1, le=200, description="PostgreSQL pool size per process."
    )
    database_echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    secret_key: str = Field(
        "",
        description=(
            "Key that encrypts platform secrets at rest and signs tokens. Required in production; "
            "in development a random key is generated once into <data_dir>/secret.key."
        ),
    )
    host: str = Field("127.0.0.1", description="Address `bandeja serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `bandeja serve` listens on.")
    public_url: str = Field(
        "",
        description="Base URL the platforms reach Bandeja at (webhook URLs); default http://host:port.",
    )
    session_days: int = Field(14, ge=1, le=365, description="Lifetime of a browser login session.")
    cookie_secure: bool = Field(
        False, description="Mark the session cookie Secure (set it when served over HTTPS)."
    )
    default_locale: Literal["en", "es", "it"] = Field("en", description="Fallback UI language.")
    sandbox_url: str = Field(
        "http://127.0.0.1:8001",
        description="Where `bandeja sandbox` serves the stand-in platform APIs; the demo's "
        "channel accounts point there.",
    )
    workers_in_process: bool = Field(
        True,
        description="Run the ingest and send workers inside `bandeja serve`; set false when "
        "`bandeja worker` processes run them.",
    )
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU priority `bandeja worker` lowers itself by (Unix nice), so that web "
        "processes on the same machine acknowledge webhooks first; processing can lag a little, "
        "a platform waiting for its 2xx cannot. 0 keeps the normal priority.",
    )

    ingest_pace: float = Field(
        0.5,
        ge=0,
        le=10,
        description="While the ingest worker works through a backlog, it pauses after each full "
        "batch for this fraction of the time the batch took, leaving the CPU and the database to "
        "the webhook endpoint (0.5: busy at most two thirds of the time during a burst). "
        "Deliveries are stored before they are acknowledged, so processing can wait; the "
        "platform's 2xx cannot. 0: no pause.",
    )

    redis_url: str = Field(
        "",
        description="Redis for realtime events and presence shared by several processes "
        "(redis://host:6379/0). Empty: in-process only, which serves one `bandeja serve` process "
        "whose workers run inside it.",
    )
    realtime_replay: int = Field(
        2000,
        ge=10,
        le=1_000_000,
        description="Events kept per workspace for browsers that reconnect (`Last-Event-ID`); "
        "a browser that missed more refreshes fully.",
    )
    presence_ttl_s: float = Field(
        20.0,
        ge=2.0,
        le=600.0,
        description="Seconds a viewing/typing entry lives after the browser's last heartbeat.",
    )
    sse_keepalive_s: float = Field(
        15.0,
        ge=1.0,
        le=300.0,
        description="Seconds between keep-alive comments on an idle event stream (keeps proxies "
        "from closing it).",
    )

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise ValueError(
                    "BANDEJA_SECRET_KEY must be set to at least 32 random characters in production"
                )
            if not self.database_url:
                raise ValueError("BANDEJA_DATABASE_URL must be set in production")
        return self

    @property
    def effective_database_url(self) -> str:
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'bandeja.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        elif url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            url = "sqlite+aiosqlite://" + url.split("://", 1)[1]
        return url

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def webhook_url(self, platform: str, channel_account_id: int) -> str:
        """Where a platform delivers a channel account's webhooks (``web/hooks.py``)."""
        return f"{self.base_url}/webhooks/{platform}/{channel_account_id}"

    def resolved_secret_key(self) -> str:
        """The configured key, or (outside production) one generated once and kept on disk."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
