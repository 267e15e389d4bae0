"""Near copies: two questions that are the same question once case, accents and punctuation are folded away.

The held-out sets (the blind and cross sets, the newest conversation set) must have no near copy on the learning
side (the development and free sets, the boundary files, the topic questions, the entries' example questions), or
their numbers flatter. ``tests/test_quality.py`` enforces it; ``knowledge decopy`` removes the copies from the
learning side after a new held-out set is frozen (the held-out set itself is never edited). Entries' example
questions are only reported: they are content, and a maintainer rewords them.

rapidfuzz (a test and maintainer dependency, ``requirements/dev.in``) compares the folded texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from knowledge import question_sets as sets
from knowledge.loader import read_front_matter
from knowledge.text import fold

SIMILARITY = 85  # character similarity (0-100) at which two questions count as the same question

_SET_LINE = re.compile(r"^\s*- \{")  # one question of a question set: `  - {locale: de, q: "...", ...}`
_LIST_LINE = re.compile(r"^\s+- (.*)$")  # one question of a boundary or topic-questions file: `    - "..."`


def folded(text: str) -> str:
    """The text as compared: folded case and accents, every run of punctuation or spaces one space."""
    return re.sub(r"[\W_]+", " ", fold(text)).strip()


class HeldOut:
    """Questions per locale, folded once, that another question can be a near copy of."""

    def __init__(self, by_locale: dict[str, list[str]]) -> None:
        # A question that folds to nothing (an emoji, punctuation) has no words that could be copied.
        self._texts = {locale: [t for t in texts if folded(t)] for locale, texts in by_locale.items()}
        self._folded = {locale: [folded(t) for t in texts] for locale, texts in self._texts.items()}

    def copy_of(self, text: str, locale: str) -> str | None:
        """The most similar question of ``locale`` if ``text`` is a near copy of it."""
        mine, theirs = folded(text), self._folded.get(locale)
        if not mine or not theirs:
            return None
        found = process.extractOne(mine, theirs, scorer=fuzz.ratio, score_cutoff=SIMILARITY)
        return self._texts[locale][found[2]] if found else None

    def copies(self, text: str, locale: str) -> bool:
        return self.copy_of(text, locale) is not None


def near_copies(questions: list[str], others: list[str]) -> list[tuple[str, str]]:
    """Pairs (question, other) whose folded texts are at least SIMILARITY alike."""
    held = HeldOut({"": others})
    return [(q, other) for q in questions if (other := held.copy_of(q, "")) is not None]


def held_out_questions(eval_dir: Path) -> dict[str, list[str]]:
    """Per locale, every question of the held-out sets."""
    by_locale: dict[str, list[str]] = {}
    for path in sets.blind_sets(eval_dir) + sets.cross_sets(eval_dir):
        for q in sets.load_questions(path):
            by_locale.setdefault(q.locale, []).append(q.q)
    for path in sets.conversation_sets(eval_dir)[-1:]:  # the newest is held out; older ones are development sets
        for c in sets.load_conversations(path):
            by_locale.setdefault(c.first.locale, []).extend((c.first.q, c.second.q))
    return by_locale


LineTest = Callable[[str], bool]  # is this line of a file a near copy of a held-out question?


@dataclass
class Decopied:
    removed: Counter[str] = field(default_factory=Counter)  # file (relative to the repository) -> lines removed
    to_reword: list[tuple[str, str]] = field(default_factory=list)  # (entry file, example question)


def _kept_lines(lines: Iterable[str], is_copy: LineTest) -> tuple[list[str], int]:
    kept, dropped = [], 0
    for line in lines:
        if is_copy(line):
            dropped += 1
        else:
            kept.append(line)
    return kept, dropped


def _set_line_copies(held: HeldOut) -> LineTest:
    def is_copy(line: str) -> bool:
        if not _SET_LINE.match(line):
            return False
        item = yaml.safe_load(line.strip())[0]
        return held.copies(str(item["q"]), str(item["locale"]))

    return is_copy


def _list_line_copies(held: HeldOut, locale: str) -> LineTest:
    def is_copy(line: str) -> bool:
        match = _LIST_LINE.match(line)
        if not match:
            return False
        text = yaml.safe_load(match.group(1))
        return isinstance(text, str) and held.copies(text, locale)

    return is_copy


def remove_near_copies(root: Path, apply: bool) -> Decopied:
    """Find (and with ``apply`` remove) the learning side's near copies of the held-out sets, line by line, so
    that comments and the order of every file stay as they were."""
    held = HeldOut(held_out_questions(root / "eval"))
    result = Decopied()
    files: list[tuple[Path, LineTest]] = [(path, _set_line_copies(held)) for path in sets.labelled_sets(root / "eval")]
    for folder in ("boundaries", "questions"):
        for path in sorted((root / "knowledge" / folder).glob("*.yaml")):
            locale = yaml.safe_load(path.read_text(encoding="utf-8"))["locale"]
            files.append((path, _list_line_copies(held, locale)))
    for path, is_copy in files:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept, dropped = _kept_lines(lines, is_copy)
        if dropped:
            result.removed[str(path.relative_to(root))] = dropped
            if apply:
                path.write_text("".join(kept), encoding="utf-8")
    for path in sorted((root / "knowledge" / "entries").glob("*/*.md")):
        front = read_front_matter(path)
        result.to_reword += [
            (str(path.relative_to(root)), q) for q in front.get("questions", []) if held.copies(q, front["locale"])
        ]
    return result
