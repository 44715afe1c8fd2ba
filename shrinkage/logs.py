"""Logging for the CLI and the pipeline: secrets never reach a log line."""

from __future__ import annotations

import logging

from shrinkage.config import get_alert_settings, get_settings, scrub_secrets


class SecretScrubber(logging.Filter):
    """Rewrites every record's message with passwords and URL credentials masked."""

    def __init__(self, *secrets: str | None):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_secrets(message, *self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def configured_secrets() -> list[str]:
    settings = get_settings()
    found = []
    try:
        password = settings.url().password
    except Exception:  # a broken URL has no secret we could know
        password = None
    if password:
        found.append(str(password))
    if settings.db_password:
        found.append(settings.db_password.get_secret_value())
    try:
        found += get_alert_settings().secrets()  # the SMTP password and the webhook URL
    except ValueError:  # invalid alert settings: shrinkage.notify reports them when it is used
        pass
    return found


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(SecretScrubber(*configured_secrets()))
    handler.setLevel(level)  # libraries that lower their own loggers' levels still stay quiet
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic.runtime.migration", "great_expectations", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
