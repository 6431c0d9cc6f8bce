"""Secrets: webhook URLs and the signing key, from the environment or systemd credentials,
never from sources.toml; and the logging filter that keeps them out of every log line."""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

TOKEN_MIN = 8  # a path segment this long may be a token; shorter ones ("services") are words

CREDENTIAL_FILES = {  # systemd LoadCredential= names, beside the environment variables
    "slack_url": ("REGMON_SLACK_WEBHOOK_URL", "slack-webhook-url"),
    "webhook_url": ("REGMON_WEBHOOK_URL", "webhook-url"),
    "webhook_secret": ("REGMON_WEBHOOK_SECRET", "webhook-secret"),
    "operator_url": ("REGMON_OPERATOR_WEBHOOK_URL", "operator-webhook-url"),
}


def channel_secret_names(channel: str) -> tuple[str, str]:
    """The environment variable and the systemd credential that hold a named channel's URL:
    "legal-email" -> REGMON_CHANNEL_LEGAL_EMAIL_URL, channel-legal-email-url."""
    return (f"REGMON_CHANNEL_{channel.upper().replace('-', '_')}_URL",
            f"channel-{channel}-url")


@dataclass(frozen=True)
class Secrets:
    """Webhook URLs, the signing key, and each named channel's URL (SMTP passwords and
    tokens included). Never printed: repr shows only which are set."""

    slack_url: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    operator_url: str | None = field(default=None, repr=False)
    channels: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        have = [name for name in CREDENTIAL_FILES if getattr(self, name)]
        return f"Secrets(set={have + [f'channel {c}' for c in self.channels]})"

    def problems(self) -> list[str]:
        """What is wrong with the secrets as given (checked before anything is sent)."""
        found = []
        for name in ("slack_url", "webhook_url", "operator_url"):
            value = getattr(self, name)
            if value and not value.startswith(("https://", "http://")):
                found.append(f"{CREDENTIAL_FILES[name][0]} is not an http(s) URL")
        for channel, value in self.channels.items():
            if "://" not in value:
                found.append(f"{channel_secret_names(channel)[0]} is not a URL")
        if self.webhook_secret:
            try:
                base64.b64decode(self.webhook_secret.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                found.append("REGMON_WEBHOOK_SECRET is not a key like whsec_<base64>")
        return found

    def values(self) -> list[str]:
        """Every form a secret can come back in, for redaction: each whole value, and of a
        URL its path, its query, and every path segment and query value long enough to be a
        token (a receiver's error page that echoes "Cannot POST /services/T0/B0/XYZ" must not
        put the token into a log, the outbox or an alert). Longest first."""
        found: set[str] = set()
        for value in (self.slack_url, self.webhook_url, self.operator_url,
                      *self.channels.values()):
            if value:
                found |= _url_forms(value)
        if self.webhook_secret:
            found |= {self.webhook_secret, self.webhook_secret.removeprefix("whsec_")}
        return sorted(found, key=len, reverse=True)


def _url_forms(url: str) -> set[str]:
    parts = urlsplit(url)
    forms = {url, url.split("://", 1)[-1], parts.path, parts.query, parts.netloc + parts.path}
    pieces = [p for p in parts.path.split("/") if p]
    pieces += [v for _, v in parse_qsl(parts.query)]
    if "@" in parts.netloc:
        pieces.append(parts.netloc.rpartition("@")[0])  # user:password
    forms |= {p for p in pieces if _token_like(p)}
    forms |= {unquote(f) for f in forms} | {quote(f, safe="/") for f in forms}
    return {f for f in forms if len(f) >= TOKEN_MIN}


def _token_like(piece: str) -> bool:
    """A path segment or value that may be a token: long, or not long but holding digits
    ("B0123ABCD"); "services" and "webhook" are words."""
    return len(piece) >= 16 or (len(piece) >= TOKEN_MIN and any(c.isdigit() for c in piece))


def load_secrets(environ: Mapping[str, str] | None = None,
                 channels: Iterable[str] = ()) -> Secrets:
    """Secrets from the environment, else from `$CREDENTIALS_DIRECTORY` (systemd's
    LoadCredential=), one file per secret; `channels` names the configured channels."""
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")

    def read(variable: str, filename: str) -> str | None:
        value = env.get(variable)
        if not value and directory:
            # LoadCredential=NAME:FILE gives "NAME"; LoadCredential=regmon:DIR gives
            # "regmon_FILE" for every file in DIR (the shipped units use the latter).
            for candidate in (filename, f"regmon_{filename}"):
                path = Path(directory) / candidate
                if path.is_file():
                    value = path.read_text().strip()
                    break
        return value.strip() if value else None

    fixed = {name: read(*names) for name, names in CREDENTIAL_FILES.items()}
    named = {c: v for c in channels if (v := read(*channel_secret_names(c)))}
    return Secrets(**fixed, channels=named)


class Redactor(logging.Filter):
    """A logging filter that blanks secrets out of every record, whoever logs it."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = [s for s in secrets.values() if len(s) >= TOKEN_MIN]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            cleaned = self.redact(text)
            if cleaned != text:
                record.msg, record.args = cleaned, ()
        return True

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by a placeholder."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def install_redaction(secrets: Secrets) -> Redactor:
    """Put a redacting filter on every handler of the root logger."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor


def secret_value(secrets: Secrets, name: str) -> str | None:
    """The secret called `name` ("slack_url", ..., or "channel:<name>" for a named channel's
    URL), or None when it is not set."""
    if name.startswith("channel:"):
        return secrets.channels.get(name.removeprefix("channel:"))
    value = getattr(secrets, name, None)
    return value if isinstance(value, str) else None


def secret_source(name: str) -> str:
    """Where the secret called `name` is set, in words: its environment variable."""
    if name.startswith("channel:"):
        return channel_secret_names(name.removeprefix("channel:"))[0]
    return CREDENTIAL_FILES[name][0]
