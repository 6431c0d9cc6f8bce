"""The sd_notify protocol, without libsystemd: one datagram to $NOTIFY_SOCKET per message.

Under systemd (Type=notify) the daemon says READY=1 once its schedule is in place, a one-line
STATUS=, WATCHDOG=1 while it is alive and well, and STOPPING=1 on the way out. Without
systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


class SystemdNotifier:
    """Sends notifications to the service manager, when there is one."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1_000_000 if usec.isdigit() and mine else None

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens."""
        return bool(self.address)

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` fields in one datagram; False when nobody listens or it failed."""
        if not self.address:
            return False
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)  # never let a slow listener stall the daemon
                sock.connect(self.address)
                sock.send(message)
        except OSError:
            return False
        return True

    def ready(self, status: str) -> bool:
        """The daemon is up and its schedule is in place."""
        return self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        """A one-line summary for `systemctl status`."""
        return self.notify(f"STATUS={status}")

    def watchdog(self) -> bool:
        """Still alive and scheduling."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Shutting down."""
        return self.notify("STOPPING=1", "STATUS=stopping")
