"""Email over SMTP (the standard library's smtplib and email): one message per statement or
per digest, plain text with an HTML alternative, a Message-ID made from the outbox rows so a
retried send is recognisably the same message, and a footer saying how to stop it.

The channel's URL is a secret: `smtps://user:password@host:465` (TLS from the start) or
`smtp://user:password@host:587` (STARTTLS, required unless the server is on this machine or
the URL says `?tls=none`)."""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.config import ChannelConfig
from monitor.errors import DeliveryError
from monitor.publish.channels import Batch, Endpoint, NamedChannel, SendContext
from monitor.publish.channels.render import message

TIMEOUT = 20.0
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Email(NamedChannel):
    """An email channel: the addresses are configuration, the server and its password are
    the channel's secret URL."""

    label = "The mail server"

    def __init__(self, name: str, config: ChannelConfig) -> None:
        super().__init__(name, config)
        self.to = config.to
        self.sender = config.sender or ""
        self.prefix = config.subject_prefix


    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """Hand the message to the SMTP server; its 4xx is a retry, its 5xx a refusal for
        good, a refused login a pause (a human must fix the password)."""
        mail = self.compose(batch, context)
        try:
            with _connect(endpoint.url) as server:
                server.send_message(mail)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"{self.name}: the mail server refused the login "
                                f"({error.smtp_code})", status=error.smtp_code,
                                pause=True) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryError(f"{self.name}: every recipient was refused ({codes})",
                                permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"{self.name}: SMTP {error.smtp_code} "
                                f"{_said(error.smtp_error)}", status=error.smtp_code,
                                permanent=error.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"{self.name}: {type(error).__name__}: {error}") from None

    def compose(self, batch: Batch, context: SendContext) -> EmailMessage:
        """The message: subject, addresses, a stable Message-ID, text and HTML, and the
        footer that says why it came and how to stop it."""
        words = message(batch, context)
        footer = (f"You receive this because the regmon route to the channel '{self.name}' "
                  f"sends these statements to {', '.join(self.to)}. To stop it, ask the "
                  "operator to remove or narrow that route in sources.toml.")
        mail = EmailMessage()
        mail["Subject"] = f"{self.prefix} {words.subject}".strip()
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Date"] = format_datetime(context.now)
        mail["Message-ID"] = message_id(batch)
        mail["List-Id"] = f"regmon {self.name} <{self.name}.regmon.invalid>"
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(f"{words.plain}\n\n-- \n{footer}\n")
        mail.add_alternative(f"<html><body>{words.html}<hr><p><small>{footer}</small></p>"
                             "</body></html>", subtype="html")
        return mail


def message_id(batch: Batch) -> str:
    """The same Message-ID for the same rows, however often the send is retried: the row's
    own id, or for a digest a hash of its rows' ids."""
    ids = sorted(d.event_id for d in batch.deliveries)
    local = ids[0] if len(ids) == 1 else "digest-" + hashlib.sha256(
        " ".join(ids).encode()).hexdigest()[:24]
    return f"<{local}@regmon.invalid>"


def _connect(url: str) -> smtplib.SMTP:
    """A logged-in connection to the server the URL names, encrypted as it says."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    options = parse_qs(parts.query)
    if parts.scheme not in ("smtp", "smtps"):
        raise DeliveryError(f"an email channel's URL must be smtp:// or smtps://, not "
                            f"{parts.scheme}://", permanent=True)
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, parts.port or 587, timeout=TIMEOUT,
                              local_hostname=socket.getfqdn() or "localhost")
        server.ehlo()
        if server.has_extn("starttls"):
            server.starttls(context=context)
            server.ehlo()
        elif host not in LOOPBACK and options.get("tls") != ["none"]:
            server.close()
            raise DeliveryError(f"{host} offers no STARTTLS: regmon will not send mail (or a "
                                "password) in clear to another machine; use smtps://, or add "
                                "?tls=none to the URL to allow it", pause=True)
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server


def _said(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]
