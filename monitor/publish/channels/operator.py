"""The operator channel: health, storm and delivery alerts as Slack-compatible `{"text": ...}`
posts (Slack, Mattermost and most chat webhooks accept them); never statements."""

from __future__ import annotations

import json
from collections.abc import Sequence

from monitor.publish.channels import Batch, HttpChannel, Post, SendContext, one_by_one
from monitor.publish.channels.slack import slack_escape
from monitor.store import Delivery


class Operator(HttpChannel):
    """Where what needs a human goes."""

    name = "operator"
    label = "The operator channel"
    secret = "operator_url"
    subscriber = False

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """One post per alert."""
        return one_by_one(due)

    def post(self, batch: Batch, context: SendContext) -> Post:
        """The alert's text, escaped."""
        text = slack_escape(batch.deliveries[0].message or "")
        return Post(json.dumps({"text": f":warning: regmon: {text}"}).encode(), {})

