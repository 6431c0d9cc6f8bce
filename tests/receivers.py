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
