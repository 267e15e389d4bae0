"""Boundaries: example questions about subjects next to Lotse's topics that no entry answers.

People who ask a migrant assistant about Kita also ask about Kindergeld, driving licences or citizenship. Such
questions share words and meaning with real entries, so scores alone often mistake them for in-scope. Like the
``out_of_scope`` intent of a Rasa FAQ bot, ``knowledge/boundaries/<locale>.yaml`` lists them by subject; the
search measures how much closer a question is to these than to any entry and declines when it is closer to a
boundary. Add a subject when people keep asking about it and no entry is planned; when an entry is written
for it, remove the subject.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from knowledge.problems import Problem, error, read_yaml_model
from locales import SUPPORTED

SUBJECT_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
CLASS_PREFIX = "boundary:"  # marks a subject among the topic classifier's classes (entry ids have no colon)

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]


class BoundaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str
    topics: dict[Annotated[str, StringConstraints(pattern=SUBJECT_ID.pattern)], list[QuestionText]] = Field(
        min_length=1
    )

    @field_validator("locale")
    @classmethod
    def _supported(cls, code: str) -> str:
        if code not in SUPPORTED:
            raise ValueError(f"unsupported locale {code!r}")
        return code


@dataclass(frozen=True)
class BoundaryQuestion:
    locale: str
    subject: str
    text: str

    @property
    def label(self) -> str:
        return CLASS_PREFIX + self.subject


@dataclass(frozen=True)
class Boundaries:
    questions: list[BoundaryQuestion]
    content_hash: str  # over all files, so that an index build notices any change


def load_boundaries(directory: Path) -> tuple[Boundaries, list[Problem]]:
    """Read every ``<locale>.yaml``; a broken file is reported and left out, never served half-read."""
    questions: list[BoundaryQuestion] = []
    problems: list[Problem] = []
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        shown = f"{directory.name}/{path.name}"
        data, found = read_yaml_model(path, shown, BoundaryFile)
        problems += found
        if data is None:
            continue
        if data.locale != path.stem:
            problems.append(error(shown, f"locale {data.locale!r} differs from the file name", 1, "locale-file"))
            continue
        seen: set[str] = set()
        for subject, texts in data.topics.items():
            for text in texts:
                if text.casefold() in seen:
                    problems.append(error(shown, f"{subject}: duplicate question {text!r}", None, "duplicate"))
                    continue
                seen.add(text.casefold())
                questions.append(BoundaryQuestion(data.locale, subject, text))
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return Boundaries(questions, digest.hexdigest() if questions else ""), problems
