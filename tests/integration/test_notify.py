"""Failure alerts against real receivers on loopback: an SMTP server (plain with login,
STARTTLS, implicit TLS) and an HTTP(S) server; what arrives, and that no failure to deliver
ever raises or logs a secret."""

from __future__ import annotations

import logging
import ssl
from datetime import datetime

import pytest
import trustme
from pydantic import ValidationError

from shrinkage.config import AlertSettings, get_alert_settings
from shrinkage.notify import Alert, alert_text, notify_failure, run_link
from tests.notify_helpers import free_port, http_server, smtp_server

PASSWORD = "smtp-S3cret-pw"
TOKEN = "T000/B000/XXXXsecrettoken"
ENV = ["SHRINKAGE_SMTP_HOST", "SHRINKAGE_SMTP_PORT", "SHRINKAGE_SMTP_USER", "SHRINKAGE_SMTP_PASSWORD",
       "SHRINKAGE_SMTP_PASSWORD_FILE", "SHRINKAGE_SMTP_SECURITY", "SHRINKAGE_ALERT_FROM", "SHRINKAGE_ALERT_TO",
       "SHRINKAGE_ALERT_WEBHOOK_URL", "SHRINKAGE_ALERT_TIMEOUT", "SHRINKAGE_ALERT_CA_FILE", "SHRINKAGE_UI_URL",
       "SHRINKAGE_ALERT_MAX_REASON_CHARS", "SHRINKAGE_DATABASE_URL", "DB_PASSWORD"]

ALERT = Alert(
    title="Загрузка файла не удалась", reason="В строке 118 нет даты документа",
    file="Ведомость по партиям 07.07.2025-13.07.2025.xls", step="parsed_reports",
    run_id="6f1c2a", job="ingest_file", occurred_at=datetime(2025, 7, 14, 6, 30, 5))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    get_alert_settings.cache_clear()
    yield
    get_alert_settings.cache_clear()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def mail_settings(port: int, **overrides) -> AlertSettings:
    values = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
              "mail_from": "shrinkage@example.test", "mail_to": "ops@example.test; analyst@example.test",
              "timeout_seconds": 5.0, "ui_url": "http://dagster.local:3000/"}
    values.update(overrides)
    return AlertSettings(**values)


def assert_no_secret(caplog, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in caplog.text


def test_email_arrives_with_file_step_reason_and_link(caplog):
    with smtp_server(user="alerts", password=PASSWORD) as (port, box), caplog.at_level(logging.DEBUG):
        sent = notify_failure(ALERT, mail_settings(port, smtp_user="alerts", smtp_password=PASSWORD))
    assert sent == ["email"]
    assert box.logins == [("alerts", PASSWORD)]
    (message,) = box.messages
    assert box.envelopes == [("shrinkage@example.test", ["ops@example.test", "analyst@example.test"])]
    assert message["Subject"] == "[shrinkage] Загрузка файла не удалась"
    body = message.get_content()
    for line in ("Файл: Ведомость по партиям 07.07.2025-13.07.2025.xls", "Шаг: parsed_reports",
                 "Причина: В строке 118 нет даты документа", "Запуск: http://dagster.local:3000/runs/6f1c2a",
                 "Задание: ingest_file", "Время: 2025-07-14 06:30:05"):
        assert line in body
    assert "e-mailed to 2 recipient(s)" in caplog.text
    assert_no_secret(caplog, PASSWORD)


def test_email_over_starttls_trusts_the_configured_ca(server_tls, ca_file, caplog):
    with smtp_server(user="alerts", password=PASSWORD, tls=server_tls) as (port, box):
        sent = notify_failure(ALERT, mail_settings(port, smtp_security="starttls", smtp_user="alerts",
                                                   smtp_password=PASSWORD, ca_file=ca_file))
        assert sent == ["email"] and box.tls == [True] and box.logins == [("alerts", PASSWORD)]
        with caplog.at_level(logging.DEBUG):  # the same server without its CA: refused, logged, no raise
            assert notify_failure(ALERT, mail_settings(port, smtp_security="starttls", smtp_user="alerts",
                                                       smtp_password=PASSWORD)) == []
    assert len(box.messages) == 1
    assert "not delivered by email" in caplog.text and "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert_no_secret(caplog, PASSWORD)


def test_email_over_implicit_tls(server_tls, ca_file):
    with smtp_server(tls=server_tls, implicit_tls=True) as (port, box):
        assert notify_failure(ALERT, mail_settings(port, smtp_security="ssl", ca_file=ca_file)) == ["email"]
    assert box.tls == [True] and box.messages[0]["To"] == "ops@example.test, analyst@example.test"


def test_a_refused_login_is_logged_without_the_password(caplog):
    with smtp_server(user="alerts", password="the-right-one") as (port, box), caplog.at_level(logging.DEBUG):
        assert notify_failure(ALERT, mail_settings(port, smtp_user="alerts", smtp_password=PASSWORD)) == []
    assert box.messages == [] and set(box.logins) == {("alerts", PASSWORD)}  # smtplib tries PLAIN, then LOGIN
    assert "refused the login of user 'alerts'" in caplog.text
    assert_no_secret(caplog, PASSWORD)


def test_password_file_wins(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    with smtp_server(user="alerts", password=PASSWORD) as (port, box):
        settings = mail_settings(port, smtp_user="alerts", smtp_password="stale", smtp_password_file=secret)
        assert notify_failure(ALERT, settings) == ["email"]
    assert box.logins == [("alerts", PASSWORD)]


def test_webhook_receives_text_and_fields(caplog):
    with http_server() as (url, inbox), caplog.at_level(logging.DEBUG):
        sent = notify_failure(ALERT, AlertSettings(webhook_url=f"{url}/hooks/{TOKEN}", ui_url="http://dagster.local:3000"))
    assert sent == ["webhook"]
    (request,) = inbox.requests
    assert request["path"] == f"/hooks/{TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    payload = request["json"]
    assert payload["text"] == alert_text(Alert(**{**vars(ALERT), "run_url": "http://dagster.local:3000/runs/6f1c2a"}))
    assert payload["text"].splitlines()[0] == "Загрузка файла не удалась"
    assert payload["alert"] == {
        "title": ALERT.title, "file": ALERT.file, "step": "parsed_reports", "reason": ALERT.reason,
        "run_id": "6f1c2a", "run_url": "http://dagster.local:3000/runs/6f1c2a", "job": "ingest_file",
        "occurred_at": "2025-07-14T06:30:05"}
    assert "posted to the webhook http://127.0.0.1" in caplog.text
    assert_no_secret(caplog, TOKEN)


def test_https_webhook_trusts_the_configured_ca(server_tls, ca_file):
    with http_server(tls=server_tls) as (url, inbox):
        assert notify_failure(ALERT, AlertSettings(webhook_url=f"{url}/{TOKEN}", ca_file=ca_file)) == ["webhook"]
        assert notify_failure(ALERT, AlertSettings(webhook_url=f"{url}/{TOKEN}")) == []  # untrusted: logged
    assert len(inbox.requests) == 1


def test_both_channels_and_a_secret_in_the_reason_is_masked(monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "db-pw-123")
    reason = "could not connect to postgresql://app:db-pw-123@db:5432/shrinkage: timeout"
    alert = Alert(title="Сбой запуска", reason=reason, step="load", run_url="http://ui/runs/1")
    with smtp_server() as (port, box), http_server() as (url, inbox):
        sent = notify_failure(alert, mail_settings(port, webhook_url=f"{url}/{TOKEN}"))
    assert sent == ["email", "webhook"]
    for text in (box.messages[0].get_content(), inbox.requests[0]["json"]["text"],
                 inbox.requests[0]["json"]["alert"]["reason"]):
        assert "db-pw-123" not in text and "postgresql://app:***@db:5432/shrinkage" in text


def test_failures_are_logged_and_never_raised(caplog):
    closed = free_port()
    settings = mail_settings(closed, webhook_url=f"http://127.0.0.1:{free_port()}/{TOKEN}",
                             smtp_user="alerts", smtp_password=PASSWORD, timeout_seconds=2.0)
    with caplog.at_level(logging.WARNING, logger="shrinkage.notify"):
        assert notify_failure(ALERT, settings) == []
    warnings = [r.getMessage() for r in caplog.records]
    assert any("not delivered by email" in w and f"127.0.0.1:{closed}" in w for w in warnings)
    assert any("not delivered by webhook" in w and "cannot reach the webhook http://127.0.0.1" in w for w in warnings)
    assert_no_secret(caplog, PASSWORD, TOKEN)


def test_webhook_error_status_and_timeout_are_logged(caplog):
    with http_server() as (url, inbox), caplog.at_level(logging.WARNING, logger="shrinkage.notify"):
        inbox.status = 403
        assert notify_failure(ALERT, AlertSettings(webhook_url=f"{url}/{TOKEN}")) == []
        inbox.status, inbox.delay = 200, 1.5
        assert notify_failure(ALERT, AlertSettings(webhook_url=f"{url}/{TOKEN}", timeout_seconds=0.3)) == []
    assert "answered HTTP 403: invalid_token" in caplog.text
    assert "timed out" in caplog.text
    assert_no_secret(caplog, TOKEN)


def test_only_http_webhooks_are_used(tmp_path, caplog):
    target = tmp_path / "not-a-webhook"
    with caplog.at_level(logging.WARNING, logger="shrinkage.notify"):
        assert notify_failure(ALERT, AlertSettings(webhook_url=f"file://{target}")) == []
    assert "must be an http(s) URL" in caplog.text and not target.exists()


def test_off_unless_configured(monkeypatch, caplog):
    with caplog.at_level(logging.DEBUG, logger="shrinkage.notify"):
        assert notify_failure(ALERT) == []
    assert "no alert channel is configured" in caplog.text
    monkeypatch.setenv("SHRINKAGE_SMTP_HOST", "127.0.0.1")  # a host but nobody to write to
    get_alert_settings.cache_clear()
    with caplog.at_level(logging.WARNING, logger="shrinkage.notify"):
        assert notify_failure(ALERT) == []
    assert "SHRINKAGE_ALERT_TO is empty" in caplog.text


def test_settings_come_from_the_environment(monkeypatch):
    with smtp_server() as (port, box), http_server() as (url, inbox):
        for name, value in {"SHRINKAGE_SMTP_HOST": "127.0.0.1", "SHRINKAGE_SMTP_PORT": str(port),
                            "SHRINKAGE_SMTP_SECURITY": "NONE", "SHRINKAGE_ALERT_TO": "ops@example.test",
                            "SHRINKAGE_ALERT_FROM": "robot@example.test",
                            "SHRINKAGE_ALERT_WEBHOOK_URL": f"{url}/{TOKEN}", "SHRINKAGE_SMTP_PASSWORD": PASSWORD,
                            "SHRINKAGE_UI_URL": "https://ui.example.test"}.items():
            monkeypatch.setenv(name, value)
        assert notify_failure(ALERT) == ["email", "webhook"]
    assert box.envelopes == [("robot@example.test", ["ops@example.test"])]
    assert inbox.requests[0]["json"]["alert"]["run_url"] == "https://ui.example.test/runs/6f1c2a"
    settings = get_alert_settings()
    assert PASSWORD not in repr(settings) and TOKEN not in repr(settings)
    assert set(settings.secrets()) == {PASSWORD, f"{url}/{TOKEN}"}


def test_invalid_settings_turn_alerts_off_with_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("SHRINKAGE_SMTP_SECURITY", "tls-please")
    with pytest.raises(ValidationError, match="starttls, ssl, none"):
        AlertSettings()
    with caplog.at_level(logging.WARNING, logger="shrinkage.notify"):
        assert notify_failure(ALERT) == []
    assert "alert settings are invalid" in caplog.text


def test_defaults_and_formatting():
    settings = AlertSettings(mail_to=" a@x.test ,b@x.test;; ")
    assert settings.recipients == ["a@x.test", "b@x.test"] and not settings.email_enabled
    ports = (settings.port, AlertSettings(smtp_security="ssl").port, AlertSettings(smtp_security="none").port)
    assert ports == (587, 465, 25)
    assert run_link("http://ui:3000/", "abc") == "http://ui:3000/runs/abc"
    long = Alert(title="t", reason="x" * 10_000)
    with smtp_server() as (port, box):
        notify_failure(long, mail_settings(port, max_reason_chars=500))
    reason_line = next(line for line in box.messages[0].get_content().splitlines() if line.startswith("Причина"))
    assert len(reason_line) == len("Причина: ") + 500 and reason_line.endswith("…")
