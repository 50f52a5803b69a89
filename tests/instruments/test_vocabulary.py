from __future__ import annotations

import pytest

from regwatch.instruments import STAGE_RANK, InstrumentFacts, Stage, stage_label


def test_stages_are_in_procedural_order() -> None:
    assert STAGE_RANK[Stage.PUBLIC_DISCUSSION] < STAGE_RANK[Stage.FIRST_READING]
    assert STAGE_RANK[Stage.FIRST_READING] < STAGE_RANK[Stage.APPROVED_UPPER]
    assert STAGE_RANK[Stage.SIGNED] < STAGE_RANK[Stage.IN_FORCE]


def test_stage_label_names_the_chamber_of_the_jurisdiction() -> None:
    assert stage_label(Stage.FIRST_READING, "kz") == "First reading (Mazhilis)"
    assert stage_label(Stage.APPROVED_UPPER, "tj") == "Approved (Majlisi Milli)"
    assert stage_label(Stage.THIRD_READING, "kg") == "Third reading (Jogorku Kenesh)"
    assert stage_label(Stage.SUBMITTED, "uz") == (
        "Submitted to the Legislative Chamber of the Oliy Majlis"
    )
    assert stage_label(Stage.SIGNED, "kz") == "Signed"
    assert stage_label(Stage.FIRST_READING) == "First reading"


def test_facts_refuse_an_unknown_kind_or_jurisdiction_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown kind 'bill'; use one of law"):
        InstrumentFacts(portal="x", kind="bill")
    with pytest.raises(ValueError, match="unknown jurisdiction 'ru'"):
        InstrumentFacts(portal="x", jurisdiction="ru")
    assert InstrumentFacts(portal="x", stage="signed").stage is Stage.SIGNED  # type: ignore[arg-type]
