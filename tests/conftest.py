"""Shared fixtures: loopback regulator sites and a way to run the real `regmon` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sites import Site, World


@dataclass
class Run:
    """The outcome of one `regmon` subprocess."""

    code: int
    stdout: str
    stderr: str


class Regmon:
    """Runs the real command line in a subprocess, against a test config and state dir."""

    def __init__(self, tmp: Path) -> None:
        self.config_dir = tmp / "etc"
        self.state_dir = tmp / "state"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("REGMON_", "STATE_DIRECTORY", "NOTIFY_SOCKET"))}
        self.env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy"):
            self.env.pop(proxy, None)
        self.env["NO_PROXY"] = "127.0.0.1,localhost"

    @property
    def config(self) -> Path:
        return self.config_dir / "sources.toml"

    @property
    def feeds(self) -> Path:
        return self.state_dir / "feeds"

    def __call__(self, *args: str, timeout: float = 60, env: dict[str, str] | None = None,
                 stdin: str | None = None) -> Run:
        command = [sys.executable, "-m", "monitor", *args]
        if args and args[0] not in ("--version", "--help") and "--config" not in args:
            command += ["--config", str(self.config), "--state-dir", str(self.state_dir)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})}, input=stdin)
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def world() -> Iterator[World]:
    sites = World()
    yield sites
    sites.close()


@pytest.fixture
def regmon(tmp_path: Path) -> Regmon:
    return Regmon(tmp_path)


@pytest.fixture
def hooks() -> Iterator[Site]:
    """A loopback site for webhook receivers (Slack, the generic webhook, the operator)."""
    site = Site("hooks")
    yield site
    site.close()
