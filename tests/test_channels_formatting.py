"""Bot messages -> Telegram HTML and WhatsApp text: escaping, the Markdown subset, sources, splitting."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from api.channels import formatting as f
from bot import texts
from bot.messages import bot_message
from knowledge.models import Source


class TagChecker(HTMLParser):
    """Fails on tags Telegram does not get from us and on tags that are not properly nested and closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text = ""

    def handle_starttag(self, tag, attrs) -> None:
        assert tag in ("b", "i", "a"), tag
        assert tag != "a" or [name for name, _ in attrs] == ["href"]
        self.stack.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data) -> None:
        self.text += data


def check_html(text: str) -> str:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    assert checker.stack == []
    return checker.text


# --- Telegram HTML -------------------------------------------------------------------------------------------


def test_everything_is_escaped() -> None:
    html = f.to_telegram_html('a < b && c > d "q" <script>alert(1)</script>')
    assert html == 'a &lt; b &amp;&amp; c &gt; d "q" &lt;script&gt;alert(1)&lt;/script&gt;'


def test_bold_italic_and_nesting() -> None:
    assert f.to_telegram_html("**fett** und _kursiv_") == "<b>fett</b> und <i>kursiv</i>"
    assert f.to_telegram_html("**a _b_ c**") == "<b>a </b><b><i>b</i></b><b> c</b>"
    assert f.to_telegram_html("snake_case_name and 2 * 3 ** 4") == "snake_case_name and 2 * 3 ** 4"
    assert f.to_telegram_html("**unclosed and _half") == "**unclosed and _half"


def test_urls_become_links_without_trailing_punctuation() -> None:
    html = f.to_telegram_html("See https://www.bamf.de/DE/a_b_c.html?x=1&y=2. Or (https://x.org/a_(b)).")
    assert html == (
        'See <a href="https://www.bamf.de/DE/a_b_c.html?x=1&amp;y=2">'
        "https://www.bamf.de/DE/a_b_c.html?x=1&amp;y=2</a>. "
        'Or (<a href="https://x.org/a_(b)">https://x.org/a_(b)</a>).'
    )
    assert f.to_telegram_html("[BAMF](https://bamf.de/x)") == '<a href="https://bamf.de/x">BAMF</a>'
    assert f.to_telegram_html('https://x.org/"><b>') == '<a href="https://x.org/">https://x.org/</a>"&gt;&lt;b&gt;'
    assert f.to_telegram_html("http://insecure.example") == "http://insecure.example"


def test_lists_and_paragraphs() -> None:
    markdown = "Intro line\n\n1. **First:** do this\n   and continue here.\n2. Second\n   - nested\n- bullet\n\nEnd."
    assert f.to_telegram_html(markdown) == (
        "Intro line\n\n1. <b>First:</b> do this and continue here.\n2. Second\n   ◦ nested\n• bullet\n\nEnd."
    )


def test_line_breaks_kept_except_in_answers() -> None:
    contacts = "**Centre**\n☎ 030 123\nOpening hours: Monday to Thursday 9 am–4 pm, Friday 9 am–12 noon\n⌂ Street 1"
    assert f.telegram_parts(bot_message(contacts, "en"))[0].count("\n") == 3
    wrapped = "A long sentence that was wrapped\nin the entry file by its author."
    assert f.telegram_parts(bot_message(wrapped, "en", kind="answer")) == [
        "A long sentence that was wrapped in the entry file by its author."
    ]


def test_sources_are_appended_as_links() -> None:
    """As the message arrives (JSON): the formatter itself drops what is not an https link."""
    message = bot_message("Text", "de") | {
        "sources": [
            {"title": "BMI <Meldegesetz>", "url": "https://www.bmi.bund.de/a?b=1&c=2"},
            {"title": "B", "url": "https://b.de"},
            {"title": "C", "url": "https://c.de"},
            {"title": "D", "url": "https://d.de"},
            {"title": "Not https", "url": "http://e.de"},
        ]
    }
    [html] = f.telegram_parts(message)
    lines = html.split("\n")
    assert lines[0] == "Text" and lines[1] == ""
    assert lines[2].startswith("<i>") and lines[2].endswith(":</i>")
    assert lines[3] == '• <a href="https://www.bmi.bund.de/a?b=1&amp;c=2">BMI &lt;Meldegesetz&gt;</a>'
    assert len(lines) == 3 + f.MAX_SOURCES
    check_html(html)


# --- WhatsApp ------------------------------------------------------------------------------------------------


def test_whatsapp_markup() -> None:
    assert f.to_whatsapp_text("**Fett:** und _kursiv_ <b>") == "*Fett:* und _kursiv_ <b>"
    assert f.to_whatsapp_text("**Leerzeichen **am Rand") == "**Leerzeichen **am Rand"
    assert f.to_whatsapp_text("**a _b_**") == "*a* *_b_*"
    assert f.to_whatsapp_text("[BAMF](https://bamf.de) und https://x.org/a_b.") == (
        "BAMF: https://bamf.de und https://x.org/a_b."
    )
    assert f.to_whatsapp_text("1. eins\n- zwei") == "1. eins\n• zwei"


def test_whatsapp_sources() -> None:
    [text] = f.whatsapp_parts(bot_message("Text", "en", sources=[Source(title="BAMF", url="https://bamf.de")]))
    assert text == "Text\n\n_Sources:_\n• BAMF: https://bamf.de"


# --- splitting -----------------------------------------------------------------------------------------------


def test_short_message_is_one_part() -> None:
    assert f.telegram_parts(bot_message("Kurz.", "de")) == ["Kurz."]
    assert f.telegram_parts(bot_message("", "de")) == []


def test_split_prefers_paragraphs() -> None:
    paragraphs = [f"Absatz {i} " + "wort " * 30 for i in range(10)]
    parts = f.split_blocks(f.parse_markdown("\n\n".join(paragraphs)), f.telegram_line, 400)
    assert all(f.measure(p) <= 400 for p in parts)
    for part in parts:  # every part holds whole paragraphs
        assert all(chunk.strip().startswith("Absatz") for chunk in part.split("\n\n"))
    assert "\n\n".join(parts).split() == "\n\n".join(paragraphs).split()


def test_split_falls_back_to_lines_then_words() -> None:
    lines = "\n".join(f"{i}. " + "**fett** & <klein> " * 12 for i in range(1, 6))
    parts = f.split_blocks(f.parse_markdown(lines), f.telegram_line, 300)
    assert all(f.measure(p) <= 300 for p in parts)
    texts = [check_html(p) for p in parts]  # every part is valid HTML on its own
    assert " ".join(texts).split() == [w for w in re.sub(r"\*\*", "", lines).split()]

    one_line = "**" + ("sehr langer fetter Satz " * 40).strip() + "**"
    parts = f.split_blocks(f.parse_markdown(one_line), f.telegram_line, 200)
    assert len(parts) > 3 and all(f.measure(p) <= 200 for p in parts)
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)  # cut between words, tags closed
    assert " ".join(check_html(p) for p in parts).split() == ("sehr langer fetter Satz " * 40).split()


def test_split_never_cuts_a_link_or_an_entity() -> None:
    text = " ".join(f"https://example.org/{i}?a=1&b=2" for i in range(60))
    parts = f.split_blocks(f.parse_markdown(text), f.telegram_line, 500)
    assert all(f.measure(p) <= 500 for p in parts)
    for part in parts:
        check_html(part)
        assert not re.search(r"&[a-z]*$", part)


def test_a_word_longer_than_the_limit_is_cut() -> None:
    parts = f.split_blocks(f.parse_markdown("&" * 1000), f.telegram_line, 100)
    assert all(f.measure(p) <= 100 for p in parts)
    assert "".join(check_html(p) for p in parts) == "&" * 1000


@pytest.mark.parametrize("render,limit", [(f.telegram_line, f.TELEGRAM_LIMIT), (f.whatsapp_line, f.WHATSAPP_LIMIT)])
def test_real_answers_fit(knowledge, render, limit) -> None:
    for entry_id in ("arrival.registration", "recognition.authority", "arrival.housing"):
        for locale in ("de", "ar", "uk"):
            found = knowledge.searcher.version(entry_id, locale)
            if not found:
                continue
            entry, fallback = found
            message = bot_message(
                texts.entry_text(entry, locale, fallback), locale, kind="answer", sources=entry.sources
            )
            parts = f.split_blocks(f.message_blocks(message), render, limit)
            assert parts and all(f.measure(p) <= limit for p in parts)
            small = f.split_blocks(f.message_blocks(message), render, 300)
            assert all(f.measure(p) <= 300 for p in small)
            if render is f.telegram_line:
                for part in parts + small:
                    check_html(part)


def test_emoji_count_as_two_units() -> None:
    assert f.measure("👍") == 2
    parts = f.split_blocks(f.parse_markdown("👍 " * 300), f.whatsapp_line, 100)
    assert all(f.measure(p) <= 100 for p in parts)


def test_plain_text_fallback() -> None:
    assert f.html_to_plain(f.to_telegram_html("**a** & <b> https://x.org")) == "a & <b> https://x.org"
