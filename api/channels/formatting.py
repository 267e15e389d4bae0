"""Bot messages -> messenger text: Telegram HTML or WhatsApp markup, split into parts under the platform limit.

The bot writes a small Markdown subset: paragraphs, ``1. `` and ``- `` lists (indented lines continue an item
or nest it), ``**bold**``, ``_italic_``, bare ``https://`` URLs and ``[label](https://...)`` links. It is
parsed once into styled runs, so both channels render the same structure and a part can be cut at a word
without ever cutting a tag. Pure functions only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import locales
from bot import texts
from bot.messages import BotMessage

TELEGRAM_LIMIT = 4096
WHATSAPP_LIMIT = 4096
WHATSAPP_INTERACTIVE_LIMIT = 1024  # body of a message with reply buttons or a list
MAX_SOURCES = 3


@dataclass(frozen=True)
class Run:
    """A piece of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None

    @property
    def style(self) -> tuple[bool, bool, str | None]:
        return self.bold, self.italic, self.href


Line = tuple[Run, ...]
Block = tuple[Line, ...]  # a paragraph; its lines are separated by single line breaks
Renderer = Callable[[Line], str]


def measure(text: str) -> int:
    """Length as the platforms count it (UTF-16 code units), so emoji never push a part over the limit."""
    return len(text.encode("utf-16-le")) // 2


# --- parsing -------------------------------------------------------------------------------------------------

_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:(?P<number>\d{1,3})[.)]|(?P<bullet>[-*•]))[ \t]+(?P<rest>\S.*)$")
_INLINE = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<link>https://[^\s)]+)\)"
    r"|(?P<url>https://[^\s<>\"]+)"
    r"|\*\*(?=\S)(?P<bold>.+?)(?<=\S)\*\*"
    r"|(?<!\w)_(?=\S)(?P<italic>.+?)(?<=\S)_(?!\w)"
)
_TRAILING = ".,;:!?'\""


def _trim_url(url: str) -> str:
    """Sentence punctuation after a URL is not part of it; a closing bracket only when it has no partner."""
    while url:
        if url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("(")):
            url = url[:-1]
        else:
            break
    return url


def parse_inline(text: str, bold: bool = False, italic: bool = False) -> Line:
    runs: list[Run] = []
    pos = 0
    while (match := _INLINE.search(text, pos)) is not None:
        start, end = match.span()
        if match["url"]:
            url = _trim_url(match["url"])
            end = start + len(url)
            if url == "https://":
                runs.append(Run(text[pos:end], bold, italic))
                pos = end
                continue
        if start > pos:
            runs.append(Run(text[pos:start], bold, italic))
        if match["label"]:
            runs.append(Run(match["label"], bold, italic, match["link"]))
        elif match["url"]:
            runs.append(Run(url, bold, italic, url))
        elif match["bold"]:
            runs.extend(parse_inline(match["bold"], True, italic))
        else:
            runs.extend(parse_inline(match["italic"], bold, True))
        pos = end
    if pos < len(text):
        runs.append(Run(text[pos:], bold, italic))
    return tuple(runs)


def _level(indent: str) -> int:
    width = len(indent.replace("\t", "    "))
    return min((width + 1) // 3, 3)


def parse_markdown(text: str, soft_breaks: bool = False) -> list[Block]:
    """Paragraphs of lines. An indented line after a list item continues the item, as in Markdown. Other line
    breaks are kept unless ``soft_breaks``: knowledge entries are hard-wrapped prose (Markdown joins their
    lines), while generated texts such as contacts put one fact per line on purpose."""
    blocks: list[Block] = []
    pending: list[list] = []  # [prefix, content, is_item]

    def flush() -> None:
        if pending:
            blocks.append(tuple(((Run(p),) if p else ()) + parse_inline(c) for p, c, _ in pending))
            pending.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip():
            flush()
            continue
        item = _ITEM.match(raw)
        if item:
            level = _level(item["indent"])
            marker = f"{item['number']}." if item["number"] else ("•" if level == 0 else "◦")
            pending.append(["   " * level + marker + " ", item["rest"].strip(), True])
        elif pending and ((raw[0] in " \t" and pending[-1][2]) or soft_breaks):
            pending[-1][1] += " " + raw.strip()
        else:
            pending.append(["", raw.strip(), False])
    flush()
    return blocks


def sources_block(message: BotMessage) -> Block | None:
    """A short list of links under the answer."""
    sources = [s for s in message.get("sources") or [] if str(s.get("url", "")).startswith("https://")]
    if not sources:
        return None
    locale = message.get("locale") or locales.DEFAULT
    lines: list[Line] = [(Run(texts.say(locale, texts.SOURCES_HEADING), italic=True),)]
    for source in sources[:MAX_SOURCES]:
        title = (source.get("title") or source["url"]).strip()
        lines.append((Run("• "), Run(title, href=source["url"])))
    checked = message.get("checked")
    if checked:
        lines.append((Run(texts.checked_on(date.fromisoformat(checked), locale), italic=True),))
    return tuple(lines)


def message_blocks(message: BotMessage) -> list[Block]:
    # Only answers carry entry bodies; every other text is written line by line.
    blocks = parse_markdown(message.get("text") or "", soft_breaks=message.get("kind") == "answer")
    sources = sources_block(message)
    return blocks + [sources] if sources else blocks


# --- rendering -----------------------------------------------------------------------------------------------


def _groups(line: Line) -> list[Run]:
    """Adjacent runs with the same style merged, so markup is not repeated for every word."""
    merged: list[Run] = []
    for run in line:
        if not run.text:
            continue
        if merged and merged[-1].style == run.style:
            merged[-1] = replace(merged[-1], text=merged[-1].text + run.text)
        else:
            merged.append(run)
    return merged


def telegram_line(line: Line) -> str:
    """Telegram HTML: everything escaped; only <b>, <i> and <a href> are produced."""
    out = []
    for run in _groups(line):
        piece = html.escape(run.text, quote=False)
        if run.href:
            piece = f'<a href="{html.escape(run.href, quote=True)}">{piece}</a>'
        if run.italic:
            piece = f"<i>{piece}</i>"
        if run.bold:
            piece = f"<b>{piece}</b>"
        out.append(piece)
    return "".join(out)


def whatsapp_line(line: Line) -> str:
    """WhatsApp markup: *bold*, _italic_; links as plain URLs (WhatsApp links them itself)."""
    out = []
    for run in _groups(line):
        text = run.text
        if run.href and text != run.href:
            text = f"{text}: {run.href}"
        core = text.strip()
        if core and (run.bold or run.italic):
            # Markers only work next to the text, so surrounding spaces stay outside them.
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            if run.italic:
                core = f"_{core}_"
            if run.bold:
                core = f"*{core}*"
            text = lead + core + trail
        out.append(text)
    return "".join(out)


def html_to_plain(text: str) -> str:
    """Telegram HTML back to plain text (for a resend when Telegram refuses the markup)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --- splitting -----------------------------------------------------------------------------------------------


def _tokens(line: Line) -> list[Run]:
    """Words and the spaces between them, each keeping its style; a link stays whole."""
    tokens: list[Run] = []
    for run in line:
        if run.href:
            tokens.append(run)
            continue
        tokens.extend(replace(run, text=piece) for piece in re.split(r"(\s+)", run.text) if piece)
    return tokens


def _cut_token(token: Run, render: Renderer, limit: int) -> list[str]:
    """A single word longer than the limit (never in real text): cut by characters, without the link."""
    plain = replace(token, href=None)
    pieces, text = [], plain.text
    while text:
        size = min(len(text), limit)
        while size > 1 and (rendered := measure(render((replace(plain, text=text[:size]),)))) > limit:
            size = max(1, min(size - 1, size * limit // rendered))  # escaping makes characters count several
        pieces.append(render((replace(plain, text=text[:size]),)))
        text = text[size:]
    return pieces


def _split_line(line: Line, render: Renderer, limit: int) -> list[tuple[str, str]]:
    """Cut an overlong line at spaces: (piece, separator before it). Each piece is rendered on its own, so
    every tag opened in a piece is closed in it. Sizes are summed per word (an upper bound of the merged
    rendering), so a piece never exceeds the limit."""
    pieces: list[tuple[str, str]] = []
    current: list[Run] = []
    size = 0

    def flush() -> None:
        while current and not current[-1].text.strip():
            current.pop()
        if current:
            pieces.append((render(tuple(current)), " "))
        current.clear()

    for token in _tokens(line):
        cost = measure(render((token,)))
        if not current and not token.text.strip():
            continue  # no part starts with a space
        if cost > limit:
            flush()
            size = 0
            cut = _cut_token(token, render, limit)
            pieces.extend((piece, " " if i == 0 else "") for i, piece in enumerate(cut))
            continue
        if size + cost > limit:
            flush()
            size = 0
            if not token.text.strip():
                continue
        current.append(token)
        size += cost
    flush()
    return pieces


def split_blocks(blocks: Sequence[Block], render: Renderer, limit: int) -> list[str]:
    """Render and pack into parts of at most ``limit``: whole paragraphs where they fit, else whole lines,
    else words."""
    units: list[tuple[str, str]] = []  # (rendered text, separator before it when it joins a part)
    for block in blocks:
        lines = [render(line) for line in block]
        paragraph = "\n".join(lines)
        if measure(paragraph) <= limit:
            units.append((paragraph, "\n\n"))
            continue
        for index, (line, rendered) in enumerate(zip(block, lines, strict=True)):
            separator = "\n\n" if index == 0 else "\n"
            if measure(rendered) <= limit:
                units.append((rendered, separator))
            else:
                units.extend(
                    (piece, separator if i == 0 else joint)
                    for i, (piece, joint) in enumerate(_split_line(line, render, limit))
                )
    parts: list[str] = []
    current = ""
    for text, separator in units:
        if not text:
            continue
        if current and measure(current) + measure(separator) + measure(text) <= limit:
            current += separator + text
        else:
            if current:
                parts.append(current)
            current = text
    if current:
        parts.append(current)
    return parts


# --- per channel ---------------------------------------------------------------------------------------------


def telegram_parts(message: BotMessage, limit: int = TELEGRAM_LIMIT) -> list[str]:
    return split_blocks(message_blocks(message), telegram_line, limit)


def whatsapp_parts(message: BotMessage, limit: int = WHATSAPP_LIMIT) -> list[str]:
    return split_blocks(message_blocks(message), whatsapp_line, limit)


def to_telegram_html(markdown: str) -> str:
    return "\n\n".join("\n".join(telegram_line(line) for line in block) for block in parse_markdown(markdown))


def to_whatsapp_text(markdown: str) -> str:
    return "\n\n".join("\n".join(whatsapp_line(line) for line in block) for block in parse_markdown(markdown))
