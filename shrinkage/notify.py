"""Failure alerts: by e-mail (SMTP) and/or a webhook that chat tools accept.

The orchestration (a Dagster run-failure sensor, a failed blocking check) builds an
:class:`Alert` and calls :func:`notify_failure`; nothing here knows Dagster. Channels are off
unless configured (:class:`shrinkage.config.AlertSettings`, from the environment):

- e-mail: ``SHRINKAGE_SMTP_HOST`` and ``SHRINKAGE_ALERT_TO`` (plus port, user, password,
  STARTTLS / implicit TLS / none, sender);
- webhook: ``SHRINKAGE_ALERT_WEBHOOK_URL``; the body is ``{"text": ..., "alert": {...}}``:
  Slack, Mattermost, Rocket.Chat and Teams' incoming webhooks show ``text``; ``alert`` holds the
  same facts as fields for receivers that parse them.

An alert must never take down what it reports on: every failure to deliver (refused
connection, timeout, TLS, authentication, an HTTP error status) is logged and the caller goes
on. Secrets (the SMTP password, the webhook URL, whose path is its token, database passwords
in a reason) never reach a log line or a message.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from http.client import HTTPException
from urllib.parse import urlsplit

from shrinkage.config import AlertSettings, get_alert_settings, scrub_secrets
from shrinkage.logs import configured_secrets

log = logging.getLogger(__name__)

EMAIL, WEBHOOK = "email", "webhook"
SUBJECT_PREFIX = "[shrinkage]"
# What an alert's fields are called in the message (read by analysts and engineers alike).
LABELS = {"file": "Файл", "step": "Шаг", "reason": "Причина", "run_url": "Запуск",
          "job": "Задание", "occurred_at": "Время"}


class NotifyError(RuntimeError):
    """One channel could not deliver an alert; the message is safe to log."""


@dataclass(frozen=True)
class Alert:
    """What went wrong, for a person: a one-line title, the file, the step, the reason and a
    link to the run (``run_url``, or built from ``run_id`` and ``SHRINKAGE_UI_URL``)."""

    title: str
    reason: str
    file: str | None = None
    step: str | None = None
    run_id: str | None = None
    run_url: str | None = None
    job: str | None = None
    occurred_at: datetime | None = None

    def with_link(self, settings: AlertSettings) -> Alert:
        """The alert with ``run_url`` filled from the UI base URL when only the run id is known."""
        if self.run_url or not self.run_id or not settings.ui_url:
            return self
        return replace(self, run_url=run_link(settings.ui_url, self.run_id))


def run_link(ui_url: str, run_id: str) -> str:
    """The Dagster UI page of a run."""
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def _clean(alert: Alert, settings: AlertSettings, secrets: list[str]) -> Alert:
    """Secrets out of every text field, and a long reason cut to the configured size."""
    def scrub(value):
        return None if value is None else scrub_secrets(str(value), *secrets)
    reason = scrub(alert.reason) or ""
    if len(reason) > settings.max_reason_chars:
        reason = reason[: settings.max_reason_chars - 1] + "…"
    return replace(alert, title=scrub(alert.title), reason=reason, file=scrub(alert.file),
                   step=scrub(alert.step), job=scrub(alert.job), run_url=scrub(alert.run_url))


def _fields(alert: Alert) -> list[tuple[str, str, str]]:
    """(key, label, value) of the fields that are set, in reading order."""
    values = {"file": alert.file, "step": alert.step, "reason": alert.reason,
              "run_url": alert.run_url or alert.run_id, "job": alert.job,
              "occurred_at": alert.occurred_at.isoformat(sep=" ", timespec="seconds")
              if alert.occurred_at else None}
    return [(k, LABELS[k], str(v)) for k, v in values.items() if v]


def alert_text(alert: Alert) -> str:
    """The message as plain text: the title, then one ``Label: value`` line per field."""
    return "\n".join([alert.title, *(f"{label}: {value}" for _k, label, value in _fields(alert))])


def webhook_payload(alert: Alert) -> dict:
    """``{"text": ...}`` for chat receivers, plus the fields under ``alert``."""
    data = {"title": alert.title, "file": alert.file, "step": alert.step, "reason": alert.reason,
            "run_id": alert.run_id, "run_url": alert.run_url, "job": alert.job,
            "occurred_at": alert.occurred_at.isoformat() if alert.occurred_at else None}
    return {"text": alert_text(alert), "alert": data}


def email_message(alert: Alert, settings: AlertSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{SUBJECT_PREFIX} {alert.title}"
    message["From"] = _sender(settings)
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=_domain_of(message["From"]))
    message.set_content(alert_text(alert))
    return message


def _sender(settings: AlertSettings) -> str:
    if settings.mail_from:
        return settings.mail_from
    if settings.smtp_user and "@" in settings.smtp_user:
        return settings.smtp_user
    return f"shrinkage@{socket.getfqdn()}"


def _domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip("> ") or "localhost"


def _tls_context(settings: AlertSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def send_email(alert: Alert, settings: AlertSettings) -> None:
    """Deliver ``alert`` by SMTP; raises :class:`NotifyError` with a loggable reason."""
    where = f"{settings.smtp_host}:{settings.port}"
    try:
        message = email_message(alert, settings)
        password = settings.password()
        context = _tls_context(settings) if settings.smtp_security != "none" else None
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.port,
                                      timeout=settings.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.port, timeout=settings.timeout_seconds)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
            if settings.smtp_user:
                client.login(settings.smtp_user, password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(f"the SMTP server {where} refused the login of user "
                          f"{settings.smtp_user!r} ({exc.smtp_code}): check SHRINKAGE_SMTP_USER and the "
                          "password") from None
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise NotifyError(f"cannot send e-mail through {where} ({settings.smtp_security}): "
                          f"{type(exc).__name__}: {exc}") from None
    if refused:
        log.warning("alert e-mail not accepted for %s by %s", ", ".join(sorted(refused)), where)
    log.info("alert e-mailed to %d recipient(s) through %s", len(settings.recipients) - len(refused), where)


def _describe_url(url: str) -> str:
    """Scheme and host of a webhook URL: its path and query carry the token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}/…"


def post_webhook(alert: Alert, settings: AlertSettings) -> None:
    """POST the alert as JSON; raises :class:`NotifyError` with a loggable reason."""
    url = settings.webhook_url.get_secret_value().strip()
    where = _describe_url(url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise NotifyError(f"SHRINKAGE_ALERT_WEBHOOK_URL must be an http(s) URL, not {urlsplit(url).scheme}:")
    body = json.dumps(webhook_payload(alert), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "shrinkage-alerts"})
    context = _tls_context(settings) if url.lower().startswith("https") else None
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_seconds, context=context) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        answer = exc.read(200).decode("utf-8", "replace").strip()
        raise NotifyError(f"the webhook {where} answered HTTP {exc.code}"
                          f"{f': {answer}' if answer else ''}") from None
    except urllib.error.URLError as exc:
        raise NotifyError(f"cannot reach the webhook {where}: {exc.reason}") from None
    except (HTTPException, OSError, ValueError) as exc:
        raise NotifyError(f"cannot post to the webhook {where}: {type(exc).__name__}: {exc}") from None
    log.info("alert posted to the webhook %s (HTTP %s)", where, status)


def notify_failure(alert: Alert, settings: AlertSettings | None = None) -> list[str]:
    """Send ``alert`` on every configured channel; returns the channels that took it
    (``"email"``, ``"webhook"``). Never raises: a failed channel is logged as a warning."""
    if settings is None:
        try:
            settings = get_alert_settings()
        except ValueError as exc:  # pydantic's ValidationError: a malformed SHRINKAGE_* variable
            log.warning("alert %r not sent: the alert settings are invalid: %s", alert.title,
                        scrub_secrets(str(exc)))
            return []
    secrets = _known_secrets(settings)
    alert = _clean(alert.with_link(settings), settings, secrets)
    channels = [(EMAIL, settings.email_enabled, send_email), (WEBHOOK, settings.webhook_enabled, post_webhook)]
    if not any(enabled for _n, enabled, _f in channels):
        if settings.smtp_host and not settings.recipients:
            log.warning("alert not sent: SHRINKAGE_SMTP_HOST is set but SHRINKAGE_ALERT_TO is empty")
        else:
            log.debug("alert not sent: no alert channel is configured (%s)", alert.title)
        return []
    delivered = []
    for name, enabled, send in channels:
        if not enabled:
            continue
        try:
            send(alert, settings)
        except NotifyError as exc:
            log.warning("alert %r not delivered by %s: %s", alert.title, name,
                        scrub_secrets(str(exc), *secrets))
        except Exception as exc:  # an alert must never fail the run it reports on
            log.warning("alert %r not delivered by %s: unexpected %s: %s", alert.title, name,
                        type(exc).__name__, scrub_secrets(str(exc), *secrets))
        else:
            delivered.append(name)
    return delivered


def _known_secrets(settings: AlertSettings) -> list[str]:
    """The alert channels' secrets and the database's (a reason may quote a connection URL)."""
    return [*settings.secrets(), *configured_secrets()]
