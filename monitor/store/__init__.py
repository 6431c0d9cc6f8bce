"""The one place that owns SQL: regmon's state in a single SQLite file.

Split by domain, as mixins over one connection: sources and their polls (`sources`),
statements (`items`), notifications (`outbox`), and read-only views for publishing (`views`)
and for the web pages (`pages`).
Writers apply plans made by monitor.decide, one transaction each, and decide nothing; readers
return named row types.
"""

from __future__ import annotations

from monitor.store.items import ItemStore, Version
from monitor.store.outbox import Delivery, DeliveryRow, EventDelivery, OutboxStore
from monitor.store.pages import Mark, PageStore, StatementQuery, VersionText
from monitor.store.sources import BackfillPosition, SourceState, SourceStore
from monitor.store.views import Counts, Evidence, StatementRow

__all__ = ["BackfillPosition", "Counts", "Delivery", "DeliveryRow", "EventDelivery", "Evidence",
           "Mark", "SourceState", "StatementQuery", "StatementRow", "Store", "Version", "VersionText"]


class Store(SourceStore, ItemStore, OutboxStore, PageStore):
    """regmon's state. One instance per process; safe to use from several threads."""
