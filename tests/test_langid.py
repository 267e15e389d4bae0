import pytest

from knowledge.langid import detect, detect_locale


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
