"""The `regmon` command's entry point: `--version` answers without loading anything else
(the configuration model, the HTTP client); every other command goes to monitor.cli."""

from __future__ import annotations

import sys


def main() -> int:
    """Run regmon with the process's arguments; returns the exit status."""
    if sys.argv[1:] == ["--version"]:
        from monitor import __version__

        print(f"regmon {__version__}")
        return 0
    from monitor.cli import main as run

    return run()
