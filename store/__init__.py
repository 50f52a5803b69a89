"""The signal database: models, engine/session setup, migrations and queries."""

from regwatch.store.db import make_engine, session_scope, upgrade
from regwatch.store.instrument_models import (  # imported here so Base.metadata has them
    Instrument,
    InstrumentDocument,
    InstrumentEvent,
    InstrumentTitle,
)
from regwatch.store.models import Base, Delivery, Document, DocumentVersion, Run, Signal, Source

__all__ = [
    "Base",
    "Delivery",
    "Document",
    "DocumentVersion",
    "Instrument",
    "InstrumentDocument",
    "InstrumentEvent",
    "InstrumentTitle",
    "Run",
    "Signal",
    "Source",
    "make_engine",
    "session_scope",
    "upgrade",
]
