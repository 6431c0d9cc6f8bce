"""Loopback stand-ins for Slack's incoming webhooks and a generic webhook receiver, answering
as the real ones do: `ok`, 429 with Retry-After, 500, 400 invalid_payload, 404 no_service,
410 channel_is_archived, or a hang."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.sites import Reply, Seen, Site

SLACK_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"
HOOK_PATH = "/hooks/regmon"

OK = Reply(200, b"ok", content_type="text/html")
INVALID_PAYLOAD = Reply(400, b"invalid_payload", content_type="text/html")
NO_SERVICE = Reply(404, b"no_service", content_type="text/html")
DOWN = Reply(500, b"rollup_error", content_type="text/html")


def too_many(retry_after: int) -> Reply:
    return Reply(429, b"rate_limited", {"Retry-After": str(retry_after)}, "text/html")


@dataclass
class Receiver:
    """A webhook endpoint with a script of answers (the last one repeats). `accepted` holds
    the bodies it answered 2xx to; `hang` makes it stall (after accepting, if
    `accept_then_hang`) until released."""

    site: Site
    path: str
    script: list[Reply] = field(default_factory=lambda: [OK])
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    attempts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    hang: bool = False
    accept_then_hang: bool = False
    in_flight: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.site.routes[self.path] = self._answer

    @property
    def url(self) -> str:
        return f"{self.site.base}{self.path}"

    def _answer(self, seen: Seen) -> Reply:
        self.attempts.append((seen.headers, seen.body))
        if self.hang or self.accept_then_hang:
            if self.accept_then_hang:
                self.accepted.append((seen.headers, seen.body))
            self.in_flight.set()
            self.release.wait(30)
            return DOWN
        reply = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if 200 <= reply.status < 300:
            self.accepted.append((seen.headers, seen.body))
        return reply

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.accepted]


# -- the services of the other channels, checking what they are sent against their limits ----

TEAMS_PATH = "/workflows/8f3c1d2e/triggers/manual/paths/invoke"
DISCORD_PATH = "/api/webhooks/1234567890/abcdefABCDEF0123456789"
ACCEPTED = Reply(202, b"", content_type="text/plain")
NO_CONTENT = Reply(204, b"", content_type="text/plain")


def discord_rate_limited(seconds: float) -> Reply:
    """Discord's 429: the wait in the JSON body, no Retry-After header."""
    return Reply(429, json.dumps({"message": "You are being rate limited.",
                                  "retry_after": seconds, "global": False}).encode(),
                 content_type="application/json")


def teams_problems(body: bytes) -> list[str]:
    """What Teams' Workflows would refuse in a message: over 28 KB, not one Adaptive Card."""
    problems = [] if len(body) <= 28_000 else [f"{len(body)} bytes"]
    message = json.loads(body)
    cards = message.get("attachments", [])
    if message.get("type") != "message" or len(cards) != 1:
        problems.append("not a message with one attachment")
    elif cards[0].get("contentType") != "application/vnd.microsoft.card.adaptive" or \
            cards[0]["content"].get("type") != "AdaptiveCard":
        problems.append("not an Adaptive Card")
    return problems


def discord_problems(body: bytes) -> list[str]:
    """What Discord would refuse in a webhook message (its documented limits), and any
    mention left enabled."""
    message = json.loads(body)
    embeds = message.get("embeds", [])
    problems = []
    if len(message.get("content", "")) > 2000:
        problems.append("content over 2,000")
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = sum(len(e.get("title", "")) + len(e.get("description", "")) +
                sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", [])) for e in embeds)
    if total > 6000:
        problems.append("embeds over 6,000 characters")
    for embed in embeds:
        if len(embed.get("title", "")) > 256 or len(embed.get("description", "")) > 4096:
            problems.append("an embed's title or description is too long")
        if any(len(f["value"]) > 1024 for f in embed.get("fields", [])):
            problems.append("a field's value is too long")
    if message.get("allowed_mentions") != {"parse": []}:
        problems.append("mentions are not disabled")
    return problems


def ntfy_problems(body: bytes) -> list[str]:
    """What ntfy would refuse or cut in a JSON publish."""
    message = json.loads(body)
    problems = [] if message.get("topic") else ["no topic"]
    if len(message.get("message", "").encode()) > 4096:
        problems.append("message over 4,096 bytes")
    return problems


@dataclass
class MailServer:
    """A real SMTP server in the test process (aiosmtpd) with a script of answers to DATA
    ("250 OK", "451 4.3.0 try again later", "554 5.7.1 rejected"; the last repeats). `hang`
    makes it take the message, then stall before answering, until released."""

    script: list[str] = field(default_factory=lambda: ["250 OK"])
    messages: list[Any] = field(default_factory=list)  # email.message.EmailMessage
    attempts: int = 0
    hang: bool = False
    in_flight: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        import asyncio
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        from tests.helpers import free_port

        server = self

        def authenticate(_: object, __: object, ___: object, _mechanism: str,
                         data: Any) -> AuthResult:
            good = isinstance(data, LoginPassword) and (data.login, data.password) == (
                b"regmon", b"s3cret-Passw0rd")
            return AuthResult(success=good)

        class _Handler:
            async def handle_DATA(self, _: object, __: object, envelope: Any) -> str:
                server.attempts += 1
                answer = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if answer.startswith("250"):
                    server.messages.append(message_from_bytes(envelope.content,
                                                              policy=policy.default))
                if server.hang:
                    server.in_flight.set()
                    await asyncio.get_running_loop().run_in_executor(
                        None, server.release.wait, 30)
                return answer

        self.port = free_port()
        self._controller = Controller(_Handler(), hostname="127.0.0.1", port=self.port,
                                      authenticator=authenticate, auth_require_tls=False)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://regmon:s3cret-Passw0rd@127.0.0.1:{self.port}"

    def close(self) -> None:
        self.release.set()
        self._controller.stop()
