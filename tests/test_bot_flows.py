"""Pure dialogue logic: understanding answers in guided checks, outcomes, session language."""

import pytest

from bot.flows import kita, recognition
from bot.flows.vocabulary import find_profession, find_state
from bot.language import session_locale


@pytest.mark.parametrize(
    "text, key",
    [
        ("ich bin Krankenschwester", "nurse"),
        ("Zahnarzt", "dentist"),
        ("I am an engineer", "engineer"),
        ("طبيب أسنان", "dentist"),
        ("я работаю медсестрой", "nurse"),
        ("інженером", "engineer"),
        ("öğretmenim", "teacher"),
        ("پرستار هستم", "nurse"),
        ("sunt electrician", "electrician"),
        ("аз съм фармацевт", "pharmacist"),
        ("keine Ahnung", None),
    ],
)
def test_professions_in_every_script(text, key):
    assert find_profession(text) == key


@pytest.mark.parametrize(
    "text, code",
    [
        ("Bayern", "DE-BY"),
        ("in NRW", "DE-NW"),
        ("Köln", "DE-NW"),
        ("в Баварии", "DE-BY"),
        ("Berlin", "DE-BE"),
        ("weiß ich noch nicht", None),
    ],
)
def test_federal_states(text, code):
    assert find_state(text) == code


@pytest.mark.parametrize(
    "text, months",
    [
        ("2", 24),
        ("2 Jahre", 24),
        ("18 months", 18),
        ("عمره سنتين", 24),
        ("zwei jahre alt", 24),
        ("3 года", 36),
        ("18 місяців", 18),
        ("iki yaşında", 24),
        ("۲ سال", 24),
        ("1,5 jahre", 18),
        ("6 ay", 6),
        ("٣ سنوات", 36),
        ("ich weiß nicht", None),
        ("200 jahre", None),
    ],
)
def test_child_age(text, months):
    assert kita.parse_age_months(text) == months


def test_kita_outcomes_follow_the_law():
    baby = kita.assess(8, None, None, "en")
    assert "no legal right" in baby.text and "first birthday" in baby.text
    toddler = kita.assess(24, False, "Portal: https://kita.example.org", "en")
    assert "legal right to a place in a Kita or with a childminder" in toddler.text
    assert toddler.entries[0] == "kita.find-apply" and "https://kita.example.org" in toddler.text
    promised = kita.assess(40, True, None, "en")
    assert "measles" in promised.text and promised.entries[0] == "kita.start"
    school = kita.assess(80, None, None, "en")
    assert "school" in school.text and school.entries[0] == "school.enrolment"
    assert all(s.url.startswith("https://www.gesetze-im-internet.de/sgb_8/") for s in baby.sources)


def test_recognition_outcomes():
    nurse = recognition.assess("nurse", "Bayern", True, "en")
    assert "regulated profession" in nurse.text and "Bayern" in nurse.text
    assert nurse.entries[0] == "recognition.health-professions"
    it = recognition.assess("it-specialist", None, False, "en")
    assert "not a regulated profession" in it.text and "from abroad" in it.text
    assert "work.skilled-immigration" in it.entries
    unknown = recognition.assess(None, None, None, "en")
    assert "Recognition Finder" in unknown.text and recognition.FINDER_URL in unknown.text
    assert all(s.url.startswith("https://") for s in nurse.sources)


def test_session_locale_rules():
    assert session_locale(None, {"locale": "ar", "locale_source": "default"}) == "ar"
    assert session_locale("uk", {"locale": "de", "locale_source": "default"}) == "uk"
    assert session_locale("uk", {"locale": "de", "locale_source": "channel"}) == "uk"
    assert session_locale("uk", {"locale": "de", "locale_source": "explicit"}) == "de"
    assert session_locale("uk", {"locale": "fa", "locale_source": "detected"}) == "fa"
    assert session_locale(None, {"locale": "xx", "locale_source": "explicit"}) == "de"
