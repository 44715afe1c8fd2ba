"""Configuration: which database is chosen, and that its password never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shrinkage.config import HOME_ENV, Settings, mask_url, project_home, scrub_secrets
from shrinkage.logs import SecretScrubber

ENV_NAMES = ["SHRINKAGE_DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
             "DB_PASSWORD_FILE", "POOL_SIZE", "MAX_OVERFLOW", "POOL_RECYCLE", "POOL_PRE_PING"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_embedded_sqlite_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    assert str(Settings().url()) == f"sqlite:///{tmp_path / 'data' / 'shrinkage.db'}"


def test_default_paths_resolve_from_the_project_home_not_the_current_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(HOME_ENV, raising=False)
    checkout = Path(__file__).resolve().parents[2]
    assert project_home() == checkout  # an editable install runs from its checkout
    settings = Settings()
    assert settings.inbox_dir == checkout / "inbox" and settings.reports_dir == checkout / "reports"
    home = tmp_path / "elsewhere"
    monkeypatch.setenv(HOME_ENV, str(home))
    assert (settings.inbox_dir, settings.reports_dir, settings.backup_dir, settings.keywords_file,
            settings.dagster_home) == (home / "inbox", home / "reports", home / "backups",
                                       home / "data" / "product_type_keywords.json", home / ".dagster_home")
    monkeypatch.setenv("SHRINKAGE_INBOX", "/srv/drop")
    assert Settings().inbox_dir == Path("/srv/drop")  # an explicit folder is taken as given


def test_seed_db_variables_build_a_postgresql_url(monkeypatch):
    for key, value in {"DB_HOST": "db.local", "DB_PORT": "6543", "DB_NAME": "shrink",
                       "DB_USER": "app", "DB_PASSWORD": "p@ss:w/rd"}.items():
        monkeypatch.setenv(key, value)
    url = Settings().url()
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.local", 6543, "shrink", "app", "p@ss:w/rd")
    assert url.get_backend_name() == "postgresql"
    assert "p@ss" not in mask_url(url)


def test_explicit_url_wins_over_db_variables(monkeypatch):
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("SHRINKAGE_DATABASE_URL", "sqlite:////tmp/x.db")
    assert str(Settings().url()) == "sqlite:////tmp/x.db"


def test_password_file_wins(monkeypatch, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    monkeypatch.setenv("DB_HOST", "h")
    monkeypatch.setenv("DB_PASSWORD", "from-env")
    monkeypatch.setenv("DB_PASSWORD_FILE", str(secret))
    assert Settings().url().password == "from-file"


def test_pool_settings(monkeypatch):
    monkeypatch.setenv("POOL_SIZE", "7")
    monkeypatch.setenv("MAX_OVERFLOW", "3")
    monkeypatch.setenv("POOL_RECYCLE", "60")
    monkeypatch.setenv("POOL_PRE_PING", "false")
    s = Settings()
    assert (s.pool_size, s.max_overflow, s.pool_recycle, s.pool_pre_ping) == (7, 3, 60, False)


def test_settings_repr_hides_secrets(monkeypatch):
    monkeypatch.setenv("SHRINKAGE_DATABASE_URL", "postgresql://u:SECRETPW@h/db")
    monkeypatch.setenv("DB_PASSWORD", "SECRETPW")
    assert "SECRETPW" not in repr(Settings())


def test_masking_helpers():
    assert "SECRETPW" not in mask_url("postgresql://u:SECRETPW@h:5432/db")
    assert "SECRETPW" not in mask_url("not a url: postgresql://u:SECRETPW@h")
    assert scrub_secrets("failed for postgresql://u:SECRETPW@h/db and SECRETPW", "SECRETPW").count("***") == 2


def test_log_records_are_scrubbed(caplog):
    logger = logging.getLogger("test.scrub")
    logger.addFilter(SecretScrubber("SECRETPW"))
    with caplog.at_level(logging.INFO, logger="test.scrub"):
        logger.info("connecting to %s", "postgresql://u:SECRETPW@h/db")
        logger.info("password is %s", "SECRETPW")
    assert "SECRETPW" not in caplog.text
