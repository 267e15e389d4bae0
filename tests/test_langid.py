import pytest

from knowledge.langid import detect, detect_locale, script_of_locale


@pytest.mark.parametrize(
    "text, locale",
    [
        ("wie viel kostet die kita", "de"),
        ("how much does kita cost", "en"),
        ("كم تكلفة الروضة", "ar"),
        ("скільки коштує дитячий садок", "uk"),
        ("сколько стоит детский сад", "ru"),
        ("kreş ücreti ne kadar", "tr"),
        ("هزینه مهدکودک چقدر است", "fa"),
        ("cat costa gradinita", "ro"),
        ("колко струва детската градина", "bg"),
    ],
)
def test_short_messages_in_every_locale(text, locale):
    assert detect_locale(text) == locale


def test_no_text_no_guess():
    assert detect("") is None and detect("123 !!!") is None
    assert detect_locale("ok", min_confidence=0.99) is None


@pytest.mark.parametrize(
    "text, locale",
    [
        # German office words in a message written in another language: the language of the other words counts.
        ("Where can I get the Wohnberechtigungsschein and does the Jobcenter pay the Kaution?", "en"),
        ("my Aufenthaltserlaubnis expires soon, the Ausländerbehörde has no Termin", "en"),
        ("Jobcenter Bürgergeld başvurusu için hangi belgeler lazım?", "tr"),
        ("am primit un Bescheid de la Familienkasse, ce trebuie sa fac?", "ro"),
        ("Kita-Gutschein رو از کجا بگیرم؟ Jugendamt کمک می‌کنه؟", "fa"),
        ("وين بقدر اعمل Anmeldung إذا ما عندي Wohnungsgeberbestätigung", "ar"),
        ("Как получить Wohnberechtigungsschein в Берлине?", "ru"),
        # German with an English word stays German.
        ("Ich suche einen Job als Fahrer, kann mir das Jobcenter bei der Bewerbung helfen?", "de"),
    ],
)
def test_german_office_words_do_not_make_a_message_german(text, locale):
    assert detect_locale(text) == locale


def test_script_decides_between_locales_of_different_scripts():
    assert script_of_locale("fa") == "Arab" and script_of_locale("bg") == "Cyrl" and script_of_locale("tr") == "Latn"
    assert detect("Привіт, як справи? Anmeldung").locale == "uk"
    assert detect("你好") is None  # no letters of a supported script: keep the session's locale
