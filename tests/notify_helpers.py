"""Real receivers on loopback for the alert tests: an SMTP server (aiosmtpd) and an HTTP(S)
server (stdlib http.server in a thread) that keep what arrived."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server received: messages, envelopes and the logins it was offered."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


@contextmanager
def smtp_server(*, user: str | None = None, password: str | None = None,
                tls: ssl.SSLContext | None = None, implicit_tls: bool = False) -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on 127.0.0.1: with ``user``/``password`` it requires that login; with
    ``tls`` it offers STARTTLS (and requires it) or, with ``implicit_tls``, speaks TLS at once."""
    box = Mailbox()
    kwargs: dict = {}
    if user is not None:
        def authenticate(server, session, envelope, mechanism, auth_data):
            if isinstance(auth_data, LoginPassword):
                login, secret = auth_data.login.decode(), auth_data.password.decode()
                box.logins.append((login, secret))
                # handled=False: the server answers a failure with 535 itself
                return AuthResult(success=(login, secret) == (user, password), handled=False)
            return AuthResult(success=False, handled=False)
        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=tls is not None)
    if tls is not None and not implicit_tls:
        kwargs.update(tls_context=tls, require_starttls=True)
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port,
                            ssl_context=tls if implicit_tls else None, **kwargs)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class Inbox:
    """What the HTTP server received; ``status`` and ``delay`` set how it answers."""

    requests: list[dict] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@contextmanager
def http_server(*, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Inbox]]:
    """An HTTP (``tls``: HTTPS) server on 127.0.0.1 recording every POST; yields its base URL."""
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            inbox.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                   "json": json.loads(body.decode("utf-8"))})
            time.sleep(inbox.delay)
            answer = b"ok" if inbox.status < 400 else b"invalid_token"
            self.send_response(inbox.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", inbox
    finally:
        server.shutdown()
        server.server_close()
