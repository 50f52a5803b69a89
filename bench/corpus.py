"""A generated mixed corpus for throughput benchmarks: English and Russian documents of about
2 KB, about 10 % of them relevant. Relevant paragraphs come from the team's labelled set;
the rest is everyday news filler that uses trigger words innocently (security, draft,
centre, project, data), so the prefilter is exercised rather than flattered."""

from __future__ import annotations

import json
import random
from pathlib import Path

__all__ = ["generate"]

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "nlp" / "data" / "labelled"

FILLER = {
    "en": [
        "The city council approved a {n}-million budget for road repairs in the northern district.",
        "Airport security staff will receive new uniforms before the tourist season.",
        "The football club announced its draft picks for the youth league on {d} {m}.",
        "A new shopping centre with {n} shops opened near the railway station.",
        "Farmers expect the cotton harvest to reach {n} thousand tonnes this year.",
        "The project to build a bridge across the river is {n} percent complete.",
        "Exchange rates were stable on Tuesday, with the dollar at {n} units.",
        "The bank opened a data centre to speed up card payments for its clients.",
        "Weather forecasters warned of a high risk of mudflows in mountain valleys.",
        "Students presented robots at the annual technology fair in the capital.",
        "The ministry reminded drivers about road safety rules during the winter months.",
        "Tickets for the concert at the national theatre sold out within {n} hours.",
        "Local authorities planted {n} trees along the new boulevard.",
        "The company launched a mobile app that lets users order taxis and food.",
    ],
    "ru": [
        "Городской совет утвердил бюджет ремонта дорог в северном районе на {n} миллионов.",
        "Сотрудники службы безопасности аэропорта получат новую форму до начала сезона.",
        "В центре города открылся торговый центр на {n} магазинов.",
        "Аграрии ожидают урожай хлопка в объёме {n} тысяч тонн.",
        "Проект строительства моста через реку выполнен на {n} процентов.",
        "Курс доллара во вторник составил {n} единиц.",
        "Банк открыл центр обработки данных для ускорения карточных платежей.",
        "Синоптики предупредили о высоком риске схода селей в горных районах.",
        "Школьники представили роботов на ежегодной технологической выставке.",
        "Министерство напомнило водителям о правилах безопасности дорожного движения.",
        "Билеты на концерт в национальном театре раскупили за {n} часов.",
        "Власти высадили {n} деревьев вдоль нового бульвара {d} {m}.",
        "Компания запустила мобильное приложение для заказа такси и доставки еды.",
        "В проекте реконструкции парка предусмотрены новые детские площадки.",
    ],
}
MONTHS = {"en": ["March", "May", "October"], "ru": ["марта", "мая", "октября"]}


def _relevant() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"en": [], "ru": []}
    for lang in out:
        for line in (LABELLED / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["labels"]:
                out[lang].append(item["text"])
    return out


def generate(
    megabytes: float = 20.0, seed: int = 7, relevant_share: float = 0.1, doc_bytes: int = 2000
) -> list[tuple[str, str, str]]:
    """(lang, title, text) documents totalling about ``megabytes`` MB of UTF-8."""
    rng = random.Random(seed)
    relevant = _relevant()
    docs: list[tuple[str, str, str]] = []
    total = 0
    while total < megabytes * 1_000_000:
        lang = rng.choice(("en", "ru"))
        paragraphs: list[str] = []
        size = 0
        if rng.random() < relevant_share:
            paragraphs.append(rng.choice(relevant[lang]))
        while size < doc_bytes:
            sentences = [
                rng.choice(FILLER[lang]).format(
                    n=rng.randint(2, 900), d=rng.randint(1, 28), m=rng.choice(MONTHS[lang])
                )
                for _ in range(rng.randint(2, 4))
            ]
            paragraphs.append(" ".join(sentences))
            size = sum(len(p.encode()) for p in paragraphs)
        rng.shuffle(paragraphs)
        title = rng.choice(FILLER[lang]).format(n=rng.randint(2, 99), d=1, m=MONTHS[lang][0])
        text = "\n".join(paragraphs)
        docs.append((lang, title, text))
        total += len(title.encode()) + len(text.encode())
    return docs
