"""Typed settings read from the environment (prefix ``CITYOS_``)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults. They are public (they are in this file), so outside development
# the settings refuse to start with them.
_DEV_SECRET = "cityos-development-secret-change-me-in-production"
_DEV_FIELD_KEY = base64.b64encode(b"cityos-dev-field-key-32-bytes!!!").decode()
_DEV_INDEX_KEY = "cityos-dev-blind-index-key"

ROOT_DIR = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOS_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT_DIR / 'var' / 'cityos.db'}"
    secret_key: str = _DEV_SECRET
    # key id -> base64 AES-256 key; the first entry encrypts, all of them decrypt (rotation).
    field_keys: dict[str, str] = Field(default_factory=lambda: {"k1": _DEV_FIELD_KEY})
    blind_index_key: str = _DEV_INDEX_KEY
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    session_cookie_name: str = "cityos_session"
    cookie_secure: bool = False
    signin_max_failures: int = 5
    signin_lock_minutes: int = 15
    signin_rate_per_minute: int = 20
    otp_minutes: int = 5
    sms_sender: str = "outbox"
    bus_transport: Literal["inprocess", "nats"] = "inprocess"
    nats_url: str = "nats://127.0.0.1:4222"
    divisions_dir: Path = ROOT_DIR.parent / "shared" / "data" / "admin-divisions"
    upload_dir: Path = ROOT_DIR / "var" / "uploads"  # photos of cases, stored by content hash
    max_upload_mb: int = 8
    archive_dir: Path = ROOT_DIR / "var" / "archive"  # observations as Parquet, one folder per day
    # The data hub's MQTT bridge (the production path for devices); None: HTTP ingest only.
    mqtt_url: str | None = None
    mqtt_topic_prefix: str = "cityos"
    # JSON-LD contexts named in a Link header are fetched; private and loopback addresses are
    # refused unless an intranet deployment hosts its contexts there (SSRF otherwise).
    ngsi_context_allow_private: bool = False
    # The lean path for NGSI-LD partial updates (hub/ngsi/fastpath.py); off: the normal routes answer.
    ngsi_fast_path: bool = True
    # The demo city's generated traffic, ingested every minute (only ever on the demo road network).
    mobility_live_feed: bool = True
    log_level: str = "INFO"
    # Threads that run request handlers (blocking database work). Few threads beat many on
    # SQLite, where the work is CPU-bound and threads only fight over the GIL; PostgreSQL
    # requests wait on the network and gain from more. None: 4 on SQLite, 16 on PostgreSQL.
    worker_threads: int | None = Field(default=None, ge=1, le=200)
    # Processes serving requests (``cityos serve --workers``). Above 1, the one holding the
    # database's background lock runs the background work (core/leader.py).
    workers: int = Field(default=1, ge=1, le=64)

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Settings:
        if self.env == "development" or self.env == "test":
            return self
        problems = []
        if self.secret_key == _DEV_SECRET:
            problems.append("CITYOS_SECRET_KEY")
        if _DEV_FIELD_KEY in self.field_keys.values():
            problems.append("CITYOS_FIELD_KEYS")
        if self.blind_index_key == _DEV_INDEX_KEY:
            problems.append("CITYOS_BLIND_INDEX_KEY")
        if len(self.secret_key) < 32:
            problems.append("CITYOS_SECRET_KEY (at least 32 characters)")
        if problems:
            raise ValueError(
                "default development secrets may not be used outside development: set " + ", ".join(problems)
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_worker_threads(self) -> int:
        if self.worker_threads is not None:
            return self.worker_threads
        return 4 if self.is_sqlite else 16


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
