import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import locales
from bot.context import Context
from bot.responses import RESPONSES, render

CATALOGS = Path(locales.__file__).parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_locale_info_endonyms_and_direction():
    ar = locales.info("ar")
    assert (ar.name, ar.english_name, ar.rtl) == ("العربية", "Arabic", True)
    assert locales.info("fa").rtl and not locales.info("uk").rtl
    assert [i.code for i in locales.all_info()] == list(locales.SUPPORTED)


def test_negotiation_and_codes():
    assert locales.negotiate("ar-SY,ar;q=0.9,en;q=0.5") == "ar"
    assert locales.negotiate("fr-FR,fr;q=0.9") is None
    assert locales.normalize_code("uk_UA") == "uk" and locales.normalize_code("fr") is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("can you write in Arabic?", "ar"),
        ("schreib bitte auf Persisch", "fa"),
        ("можешь по-русски", "ru"),
        ("українською будь ласка", "uk"),
        ("Türkçe yazar mısın", "tr"),
        ("pe romaneste", "ro"),
        ("по-български", "bg"),
        ("بالعربي", "ar"),
        ("ich habe eine Frage", None),
    ],
)
def test_language_names_in_messages(text, code):
    assert locales.find_language_name(text) == code


@pytest.mark.parametrize("code", [c for c in locales.SUPPORTED if c != "en"])
def test_catalogs_are_complete_and_keep_placeholders(code):
    with open(CATALOGS / code / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    assert messages, "empty catalog"
    missing = [m.id for m in messages if not m.string]
    assert not missing, f"{code}: {len(missing)} untranslated, e.g. {missing[:3]}"
    for message in messages:
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), message.id
        assert message.string.count("**") == message.id.count("**"), message.id


@pytest.mark.parametrize("code", locales.SUPPORTED)
def test_every_response_renders_in_every_locale(code):
    context = Context(locale=code, tenant=None)
    for name in RESPONSES:
        message = render(name, context)
        assert message["text"] and "utter_" not in message["text"] and message["locale"] == code
    assert render("utter_unknown_response", context)["text"]  # never shows the key


def test_missing_translation_falls_back_to_english():
    assert locales.gettext_for("de")("A sentence that no catalog has.") == "A sentence that no catalog has."
