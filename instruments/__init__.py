"""Instruments: the draft laws, decrees and concepts that documents are about, and where each
stands in its procedure. :mod:`instruments.vocabulary` is the controlled vocabulary (kinds,
jurisdictions, stages with their order and each chamber's name); :class:`InstrumentFacts` is
what a portal page states about one instrument, carried on a
:class:`~regwatch.crawlers.Document`."""

from regwatch.instruments.vocabulary import (
    JURISDICTIONS,
    KINDS,
    STAGE_RANK,
    TERMINAL_STAGES,
    InstrumentFacts,
    Stage,
    chamber_label,
    stage_label,
)

__all__ = [
    "JURISDICTIONS",
    "KINDS",
    "STAGE_RANK",
    "TERMINAL_STAGES",
    "InstrumentFacts",
    "Stage",
    "chamber_label",
    "stage_label",
]
