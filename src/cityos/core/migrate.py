"""Applying Alembic migrations from code (CLI, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from cityos.core.settings import ROOT_DIR


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(ROOT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT_DIR / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine | Connection, revision: str = "head") -> None:
    cfg = alembic_config()
    if isinstance(engine, Connection):
        cfg.attributes["connection"] = engine
        command.upgrade(cfg, revision)
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
