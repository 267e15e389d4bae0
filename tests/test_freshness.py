"""Every answer from an entry says when its facts were checked, in the user's language, on every channel."""

from datetime import date

import pytest

import locales
from api.channels.formatting import telegram_parts, whatsapp_parts
from bot.messages import bot_message
from bot.texts import checked_on
from knowledge.models import Source


@pytest.mark.parametrize(
    "locale, expected",
    [
        ("de", "Geprüft am 22. November 2026"),
        ("en", "Checked on November 22, 2026"),
        ("uk", "Перевірено 22 листопада 2026\u202fр."),
        ("tr", "Kontrol tarihi: 22 Kasım 2026"),
    ],
)
def test_check_date_in_the_users_language(locale, expected):
    assert checked_on(date(2026, 11, 22), locale) == expected


def test_every_locale_has_the_check_label_translated():
    for code in locales.SUPPORTED:
        label = locales.gettext_for(code)("Checked on {date}")
        assert "{date}" in label and (code == "en" or label != "Checked on {date}"), code


def _answer(locale: str, checked: str | None) -> dict:
    return bot_message(
        "**Wohnung anmelden**\n\nGehen Sie zum Bürgeramt.",
        locale,
        sources=[Source(title="BMG § 17", url="https://www.gesetze-im-internet.de/bmg/__17.html")],
        entry_id="arrival.registration",
        checked=checked,
        kind="answer",
    )


def test_messengers_show_the_check_date_under_the_sources():
    telegram = "\n".join(telegram_parts(_answer("de", "2026-11-22")))
    whatsapp = "\n".join(whatsapp_parts(_answer("ar", "2026-11-22")))
    assert telegram.index("BMG § 17") < telegram.index("Geprüft am 22. November 2026")
    assert checked_on(date(2026, 11, 22), "ar") in whatsapp


def test_no_check_line_without_an_entry():
    assert "Geprüft" not in "\n".join(telegram_parts(_answer("de", None)))
