"""A simple-language check that works the same way in every supported script.

Thresholds (warnings, not errors; a person decides):
- a sentence longer than ``MAX_SENTENCE_WORDS`` words (plain-language guides aim for 8-15);
- an average sentence length above ``MAX_AVERAGE_SENTENCE_WORDS``;
- a word longer than ``LONG_WORD_CHARS`` characters (German compounds get more room; German office terms in
  brackets, links and e-mail addresses are not counted, because the format asks for them);
- a body outside ``BODY_WORDS`` words (the format asks for 80-200; the margin allows for languages that need
  more or fewer words for the same text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SENTENCE_WORDS = 25
MAX_AVERAGE_SENTENCE_WORDS = 16
LONG_WORD_CHARS = {"de": 24, "tr": 22}
DEFAULT_LONG_WORD_CHARS = 20
BODY_WORDS = (60, 260)

_BRACKETS = re.compile(r"\([^)]*\)")
_LINKS = re.compile(r"https?://\S+|\S+@\S+|\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`#>|]")
_LIST_MARKER = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?؟;:])\s+")
_WORD = re.compile(r"[^\W\d_][\w\-'’]*", re.UNICODE)


@dataclass(frozen=True)
class Finding:
    message: str
    line_offset: int  # 0-based line within the body


def _plain(line: str) -> str:
    line = _LINKS.sub(lambda m: m.group(1) or " ", line)
    line = _LIST_MARKER.sub("", line)
    return _MARKUP.sub("", line)


def sentences(body: str) -> list[tuple[int, str]]:
    """(line offset, sentence) pairs; list items and lines count as sentence boundaries."""
    found = []
    for offset, line in enumerate(body.splitlines()):
        text = _plain(line).strip()
        for sentence in _SENTENCE_END.split(text):
            if _WORD.search(sentence):
                found.append((offset, sentence.strip()))
    return found


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def check(body: str, locale: str) -> list[Finding]:
    findings: list[Finding] = []
    parsed = sentences(body)
    lengths = []
    for offset, sentence in parsed:
        count = len(words(sentence))
        lengths.append(count)
        if count > MAX_SENTENCE_WORDS:
            findings.append(Finding(f"sentence of {count} words (max {MAX_SENTENCE_WORDS}): {sentence[:60]}…", offset))
    if lengths and sum(lengths) / len(lengths) > MAX_AVERAGE_SENTENCE_WORDS:
        average = sum(lengths) / len(lengths)
        findings.append(Finding(f"average sentence length {average:.1f} words (max {MAX_AVERAGE_SENTENCE_WORDS})", 0))

    limit = LONG_WORD_CHARS.get(locale, DEFAULT_LONG_WORD_CHARS)
    for offset, line in enumerate(body.splitlines()):
        for word in words(_BRACKETS.sub(" ", _plain(line))):
            if len(word) > limit:
                findings.append(Finding(f"long word ({len(word)} characters, max {limit}): {word}", offset))

    total = len(words(_plain(body)))
    low, high = BODY_WORDS
    if not low <= total <= high:
        findings.append(Finding(f"body has {total} words (aim for 80-200, allowed {low}-{high})", 0))
    return findings
