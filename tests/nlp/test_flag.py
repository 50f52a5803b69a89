from __future__ import annotations

from pathlib import Path

import pymorphy3
import pytest

from regwatch.errors import RulesError
from regwatch.nlp import Flagger, load_rules

CASES = ["nomn", "gent", "datv", "accs", "ablt", "loct"]
MORPH = pymorphy3.MorphAnalyzer(lang="ru")


def inflect(word: str, case: str, number: str = "sing", gender: str | None = None) -> str:
    parse = next(p for p in MORPH.parse(word) if p.tag.case == "nomn")
    grams = {case, number} | ({gender} if gender else set())
    form = parse.inflect(grams)
    assert form is not None, (word, grams)
    return str(form.word)


def categories(matches: list) -> set[str]:  # type: ignore[type-arg]
    return {m.category for m in matches}


@pytest.mark.parametrize("case", CASES)
def test_digital_security_every_case(flagger: Flagger, case: str) -> None:
    phrase = f"{inflect('цифровая', case, gender='femn')} {inflect('безопасность', case)}"
    text = f"Закон об искусственном интеллекте говорит о том, что {phrase} важна."
    hits = [m for m in flagger.flag("", text) if m.category == "digital_security"]
    assert [h.text for h in hits] == [phrase]
    assert hits[0].score >= 0.9 and "in the sentence" in hits[0].reason


@pytest.mark.parametrize("number", ["sing", "plur"])
@pytest.mark.parametrize("case", CASES)
def test_zakonoproekt_every_form(flagger: Flagger, case: str, number: str) -> None:
    word = inflect("законопроект", case, number)
    text = f"Депутаты обсудили, что {word} о регулировании искусственного интеллекта готов."
    hits = [m for m in flagger.flag("", text) if m.category == "draft_instrument"]
    assert [h.text for h in hits] == [word]


@pytest.mark.parametrize("case", CASES)
def test_proekt_postanovleniya_every_case(flagger: Flagger, case: str) -> None:
    phrase = f"{inflect('проект', case)} постановления"
    text = f"Министерство цифрового развития опубликовало {phrase} о цифровых платформах."
    hits = [m for m in flagger.flag("", text) if m.category == "draft_instrument"]
    assert [h.text.lower() for h in hits] == [phrase.lower()]


def test_english_signals_with_evidence(flagger: Flagger) -> None:
    title = "Tajikistan proposes a regional AI Center in Dushanbe"
    text = (
        "The draft law on artificial intelligence was published on Monday. "
        "Officials framed it as a matter of digital security and AI regulation."
    )
    found = {m.category: m for m in flagger.flag(title, text)}
    assert set(found) == {"dushanbe_ai_center", "draft_instrument", "digital_security"}
    center = found["dushanbe_ai_center"]
    assert (center.field, center.text) == ("title", "AI Center")
    assert title[center.start : center.end] == "AI Center"
    draft = found["draft_instrument"]
    assert text[draft.start : draft.end] == "draft law"
    assert draft.sentence == "The draft law on artificial intelligence was published on Monday."
    assert found["digital_security"].lang == "en"


def test_national_ai_corporation(flagger: Flagger) -> None:
    text = "Национальная корпорация искусственного интеллекта Таджикистана начала работу."
    assert "dushanbe_ai_center" in categories(flagger.flag("", text))


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Советы", "Цифровая безопасность: используйте сложный пароль и не открывайте ссылки."),
        ("Football", "FC Astana picked a striker in the youth draft on Sunday."),
        ("Торговый центр", "В Душанбе открылся новый торговый центр с искусственным льдом."),
        ("Хлопок", "Проект постановления о закупке хлопка-сырца вынесен на обсуждение."),
        ("Kazakhstan", "Astana opened an AI center for students at the Nazarbayev University."),
    ],
)
def test_near_misses_raise_nothing(flagger: Flagger, title: str, text: str) -> None:
    assert flagger.flag(title, text) == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Raqamli xavfsizlikni taʼminlash boʻyicha sunʼiy intellekt toʻgʻrisidagi qonun loyihasi "
            "muhokamaga qoʻyildi.",
            "uz",
        ),
        (
            "Сунъий интеллект тўғрисидаги қонун лойиҳаси ва рақамли хавфсизлик масалалари "
            "муҳокама қилинди.",
            "uz",
        ),
        ("Жасанды интеллект туралы заң жобасы цифрлық қауіпсіздік мәселелерін қарастырады.", "kk"),
        ("Лоиҳаи қонун дар бораи амнияти рақамӣ ва зеҳни сунъӣ баррасӣ шуд.", "tg"),
    ],
)
def test_central_asian_languages(flagger: Flagger, text: str, lang: str) -> None:
    found = flagger.flag("", text)
    assert {"digital_security", "draft_instrument"} <= categories(found)
    assert {m.lang for m in found} == {lang}


def test_offsets_always_slice_to_the_match(flagger: Flagger) -> None:
    text = "Вопросы цифровой безопасности и регулирования ИИ обсудили. Законопроекту об ИИ дан ход."
    for m in flagger.flag("", text):
        assert text[m.start : m.end] == m.text
        assert m.text in m.sentence


def test_rules_validation_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\nphrases = ["a"]\nscroe = 0.5\n'
    )
    with pytest.raises(RulesError, match=r"x\.toml.*unknown key 'scroe'"):
        load_rules(tmp_path)


def test_rules_reject_unknown_term_list(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\nphrases = ["a"]\ncontext = ["@nope"]\n'
    )
    with pytest.raises(RulesError, match="names no term list"):
        load_rules(tmp_path)


def test_an_exclusion_may_name_a_term_list(tmp_path: Path) -> None:
    (tmp_path / "terms.toml").write_text('[terms]\nadvice = ["урок", "training"]\n')
    (tmp_path / "x.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\nphrases = ["кибербезопасность"]\n'
        'exclude = ["пароль", "@advice"]\nscore = 0.7\n'
    )
    rules = load_rules(tmp_path)
    assert rules.rules[0].exclude == ("пароль", "урок", "training")
    flagger = Flagger(rules)
    assert flagger.flag("", "Прошли уроки кибербезопасности для школьников.") == []
    assert [m.text for m in flagger.flag("", "Закон о кибербезопасности принят.")] == [
        "кибербезопасности"
    ]
    (tmp_path / "x.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\nphrases = ["a"]\nexclude = ["@nope"]\n'
    )
    with pytest.raises(RulesError, match="exclude '@nope' names no term list"):
        load_rules(tmp_path)


def test_sentence_requires_needs_its_terms_in_the_match_sentence(tmp_path: Path) -> None:
    (tmp_path / "terms.toml").write_text(
        '[terms]\nai = ["ИИ"]\nparties = ["правительства", "стороны"]\n'
    )
    (tmp_path / "misc.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.memo"\nphrases = ["меморандум"]\n'
        'context = ["@ai"]\nsentence_requires = ["@parties", "@two_countries"]\n'
        "score = 0.0\ndocument_score = 0.6\nsentence_score = 0.85\n"
    )
    (tmp_path / "gazetteer.toml").write_text(
        '[countries.kz]\nnames = ["Казахстан"]\n[countries.uz]\nnames = ["Узбекистан"]\n'
    )
    flagger = Flagger(load_rules(tmp_path))
    for text in (
        "Правительства подписали меморандум об ИИ.",
        "Казахстан и Узбекистан подписали меморандум об ИИ.",
        "Стороны подписали меморандум. Он об ИИ.",  # context elsewhere: document_score
    ):
        assert [m.rule for m in flagger.flag("", text)] == ["misc.memo"], text
        assert flagger.flag("", text) == flagger.flag("", text, prefilter=False)
    for text in ("Компания подписала меморандум об ИИ.", "Стороны встретились. Меморандум об ИИ."):
        assert flagger.flag("", text) == [], text
        assert flagger.flag("", text, prefilter=False) == [], text
    (tmp_path / "misc.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\nphrases = ["a"]\n'
        'sentence_requires = ["@nope"]\n'
    )
    with pytest.raises(RulesError, match="names no term list"):
        load_rules(tmp_path)


def test_a_fallback_rule_yields_only_where_no_other_rule_of_its_category_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "misc.toml").write_text(
        'category = "misc"\n'
        '[[rules]]\nid = "misc.bill"\nphrases = ["законопроект"]\nscore = 0.9\n'
        '[[rules]]\nid = "misc.reading"\nphrases = ["первое чтение"]\nscore = 0.8\n'
        "fallback = true\n"
        '[[rules]]\nid = "misc.chamber"\nphrases = ["Мажилис"]\nscore = 0.7\nfallback = true\n'
    )
    flagger = Flagger(load_rules(tmp_path))
    text = "Мажилис одобрил законопроект в первом чтении. Мажилис одобрил закон в первом чтении."
    for prefilter in (True, False):
        found = flagger.flag("", text, prefilter=prefilter)
        assert [(m.rule, m.text) for m in found] == [
            ("misc.bill", "законопроект"),
            ("misc.reading", "первом чтении"),
        ]


def test_rules_reject_bad_token_pattern(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        'category = "misc"\n[[rules]]\nid = "misc.a"\npatterns = [[{LOWR = "a"}]]\n'
    )
    with pytest.raises(RulesError, match="bad token pattern"):
        Flagger(load_rules(tmp_path))


def test_admin_rules_change_behaviour_without_code(tmp_path: Path) -> None:
    (tmp_path / "procurement.toml").write_text(
        'category = "procurement"\n[[rules]]\nid = "procurement.local_hosting"\n'
        'phrases = ["локальный хостинг"]\nscore = 0.7\n'
    )
    hits = Flagger(load_rules(tmp_path)).flag("", "Тендер требует локального хостинга.")
    assert [(h.category, h.text, h.score) for h in hits] == [
        ("procurement", "локального хостинга", 0.7)
    ]


def test_every_bundled_category_has_its_title_in_its_rules_file(tmp_path: Path) -> None:
    from regwatch.alerts.digest import section_title
    from regwatch.nlp.rules import category_titles

    rules = load_rules()
    assert set(rules.titles) == set(rules.categories) == set(category_titles())
    assert section_title("surveillance_biometrics") == "Surveillance and biometrics"
    (tmp_path / "x.toml").write_text(
        'category = "misc"\ntitle = "Misc\\nmore"\n[[rules]]\nid = "misc.a"\nphrases = ["a"]\n'
    )
    with pytest.raises(RulesError, match=r"x\.toml: title must be one line"):
        load_rules(tmp_path)
