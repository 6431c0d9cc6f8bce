"""Apprise (a well-kept library reaching about a hundred services: Matrix, Telegram, Signal,
Mastodon, Pushover, ...): the long tail, one channel kind. Best-effort: Apprise says only
whether a service took the message, so a refusal is retried and never classified further,
and services that give no delivery status at all are trusted."""

from __future__ import annotations

from monitor.errors import DeliveryError
from monitor.publish.channels import Batch, Endpoint, NamedChannel, SendContext
from monitor.publish.channels.render import message


class AppriseChannel(NamedChannel):
    """Any service an Apprise URL names (`json://`, `mailto://`, `tgram://`, ...)."""

    label = "The Apprise service"



    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """Notify through Apprise (imported here: only a run that sends to it loads it)."""
        try:
            import apprise
        except ImportError:
            raise DeliveryError(f"{self.name}: the Apprise library is not installed: "
                                "pip install 'regmon[apprise]'", pause=True) from None

        words = message(batch, context)
        notifier = apprise.Apprise()
        if not notifier.add(endpoint.url):
            raise DeliveryError(f"{self.name}: Apprise does not understand this channel's URL",
                                pause=True)
        if not notifier.notify(body=words.plain, title=words.subject,
                               body_format=apprise.NotifyFormat.TEXT):
            raise DeliveryError(f"{self.name}: the service did not take the notification "
                                "(Apprise gives no reason)")
