"""Instruments over the web tests' seeded store (tests/web/conftest.py), written as the linker
writes them: a Kazakh AI law in public discussion that moved to first reading (a Russian and an
English document, a contradicting third one, and a draft text in two versions with numbered
articles), an Uzbek resolution that was signed, and a Kyrgyz concept whose consultation closed.
The draft texts are written by the team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from regwatch.config import SubscriptionConfig
from regwatch.crawlers import Document
from regwatch.instruments.vocabulary import Stage
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import utcnow
from tests.conftest import ingest_one
from tests.instrument_seed import link, stage

DRAFT_V1 = """Проект Закона Республики Казахстан «Об искусственном интеллекте»

Статья 1. Основные понятия
Искусственный интеллект — совокупность технологических решений.

Статья 2. Цифровая безопасность
Оператор системы искусственного интеллекта обеспечивает цифровую безопасность.

Статья 3. Маркировка
Контент, созданный системой искусственного интеллекта, подлежит маркировке.
"""
DRAFT_V2 = """Проект Закона Республики Казахстан «Об искусственном интеллекте»

Статья 1. Основные понятия
Искусственный интеллект — совокупность технологических решений.

Статья 2. Цифровая безопасность
Оператор системы искусственного интеллекта обеспечивает цифровую безопасность и защиту данных.

Статья 4. Реестр систем высокого риска
Уполномоченный орган ведёт реестр систем искусственного интеллекта высокого риска.
"""
TITLE = "Проект Закона Республики Казахстан «Об искусственном интеллекте»"

SUBSCRIPTIONS = (
    SubscriptionConfig(name="gr-kz", countries=("kz",), reminder_days=3),
    SubscriptionConfig(name="gr-uz", countries=("uz",), reminder_days=0),
)


@dataclass(frozen=True)
class Instruments:
    kz: int
    uz: int
    kg: int
    draft_doc: int
    today: date


def add_instruments(url: str, flagger: Flagger, doc_ids: dict[str, int]) -> Instruments:
    engine = db.make_engine(url)
    today = utcnow().date()
    draft = Document(url="https://kz-gov.example/draft/14826", title=TITLE, text=DRAFT_V1,
                     source="kz-gov", lang="ru")  # fmt: skip
    draft_id = ingest_one(engine, flagger, draft).document_id
    changed = Document(url=draft.url, title=TITLE, text=DRAFT_V2, source="kz-gov", lang="ru")
    assert ingest_one(engine, flagger, changed).outcome.value == "updated"
    kz = link(
        engine,
        draft_id,
        stages=(stage(Stage.PUBLIC_DISCUSSION, today - timedelta(days=10)),),
        consultation_start=today - timedelta(days=10),
        consultation_end=today + timedelta(days=4),
    )
    link(engine, doc_ids["kz-gov"], instrument_id=kz, method="title")
    link(
        engine,
        doc_ids["asia"],
        instrument_id=kz,
        lang="en",
        title="Draft Law of the Republic of Kazakhstan on Artificial Intelligence",
        portal=None,
        method="title",
        stages=(
            stage(
                Stage.FIRST_READING,
                today - timedelta(days=1),
                "The Mazhilis approved the draft law on artificial intelligence in first reading.",
                "text",
            ),
        ),
    )
    link(  # says it is still in discussion, after the first reading: contradicts
        engine,
        doc_ids["evil"],
        instrument_id=kz,
        lang="en",
        portal=None,
        method="title",
        stages=(stage(Stage.PUBLIC_DISCUSSION, None, "The draft is open for comments.", "text"),),
    )
    uz = link(
        engine,
        doc_ids["uz-news"],
        portal="regulation.gov.uz",
        portal_id="d/81234",
        title="Постановление о персональных данных",
        jurisdiction="uz",
        kind="resolution",
        themes=("data_localization",),
        stages=(stage(Stage.SIGNED, today - timedelta(days=20)),),
    )
    kg = link(
        engine,
        doc_ids["asia"],
        portal="koomtalkuu.gov.kg",
        portal_id="3021",
        title="Концепция цифровой трансформации",
        jurisdiction="kg",
        kind="concept",
        themes=("ai_governance_body",),
        consultation_end=today - timedelta(days=3),
    )
    engine.dispose()
    return Instruments(kz, uz, kg, draft_id, today)
