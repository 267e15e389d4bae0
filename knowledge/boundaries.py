"""Labelled questions that teach the search, beside the entries: more ways to ask, and what to decline.

Two kinds of file, both ``<locale>.yaml`` with ``topics: {label: [questions]}``:
- ``knowledge/questions/``: more ways people ask a catalogue topic (the entries hold only 3-8 each). They
  train the topic classifier; they are never shown, and similarity search finds them only for the vote of
  ``knowledge.neighbours`` (in or out of the catalogue), never as an answer.
- ``knowledge/boundaries/``: questions Lotse declines, by subject. Named subjects next to the catalogue
  (``pets``, ``car``) tell maintainers what people ask that no entry answers; the broad classes ``general-far``,
  ``general-local``, ``general-everyday``, ``general-near`` and ``general-chatter`` teach the classifier what
  "none of the topics" looks like, far from the catalogue as well as next to it. Like the ``out_of_scope``
  intent of a Rasa FAQ bot. When an entry is written for a subject, remove the subject. ``general-near`` ends
  with two or three questions per catalogue topic (under ``# beside <topic id>``) that sit right next to it and
  that its entry does not answer: when an entry grows to answer one, move it to ``knowledge/questions/``.
The older development sets and the free sets join them as a third source (``knowledge.question_sets``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from knowledge.problems import Problem, error, read_yaml_model
from locales import SUPPORTED

SUBJECT_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
TOPIC_ID = re.compile(r"^[a-z]+(\.[a-z0-9-]+)+$")
CLASS_PREFIX = "boundary:"  # marks a subject among the topic classifier's classes (entry ids have no colon)
GENERAL_PREFIX = "general-"  # broad out-of-scope classes, not subjects a maintainer could write an entry for

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


def _supported(code: str) -> str:
    if code not in SUPPORTED:
        raise ValueError(f"unsupported locale {code!r}")
    return code


Locale = Annotated[str, AfterValidator(_supported)]  # one of the locales Lotse serves


class _LabelledFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: Locale


class BoundaryFile(_LabelledFile):
    topics: dict[Annotated[str, StringConstraints(pattern=SUBJECT_ID.pattern)], list[QuestionText]] = Field(
        min_length=1
    )


class TopicQuestionsFile(_LabelledFile):
    topics: dict[Annotated[str, StringConstraints(pattern=TOPIC_ID.pattern)], list[QuestionText]] = Field(min_length=1)


@dataclass(frozen=True)
class LabelledQuestion:
    locale: str
    label: str  # a catalogue topic id, or CLASS_PREFIX + a boundary subject
    text: str
    origin: str = ""  # the development or free set it comes from (``knowledge.question_sets``); "" for a knowledge file

    @property
    def from_development_set(self) -> bool:
        return bool(self.origin)

    @property
    def subject(self) -> str | None:
        """The boundary subject, or None for a question that a topic answers."""
        return self.label.removeprefix(CLASS_PREFIX) if self.label.startswith(CLASS_PREFIX) else None


@dataclass(frozen=True)
class TrainingSet:
    questions: list[LabelledQuestion]
    content_hash: str  # over all files, so that an index build notices any change

    @property
    def boundaries(self) -> list[LabelledQuestion]:
        return [q for q in self.questions if q.subject is not None]


EMPTY = TrainingSet([], "")


def load_boundaries(directory: Path, cache_dir: Path | None = None) -> tuple[TrainingSet, list[Problem]]:
    return _load(directory, BoundaryFile, CLASS_PREFIX, known=None, cache_dir=cache_dir)


def load_topic_questions(
    directory: Path, topics: set[str] | None, cache_dir: Path | None = None
) -> tuple[TrainingSet, list[Problem]]:
    """The topic questions; ``topics`` None reads them without checking their ids against a catalogue."""
    return _load(directory, TopicQuestionsFile, "", known=topics, cache_dir=cache_dir)


def content_hash(paths: list[Path]) -> str:
    """A hash over the files' names and bytes, so that an index build notices any change."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def combine(*sets: TrainingSet) -> TrainingSet:
    digest = hashlib.sha256("".join(s.content_hash for s in sets).encode()).hexdigest()
    questions = [q for s in sets for q in s.questions]
    return TrainingSet(questions, digest if questions else "")


def _load(
    directory: Path, model: type[_LabelledFile], prefix: str, known: set[str] | None, cache_dir: Path | None
) -> tuple[TrainingSet, list[Problem]]:
    """Read every ``<locale>.yaml``; a broken file is reported and left out, never served half-read."""
    questions: list[LabelledQuestion] = []
    problems: list[Problem] = []
    read: list[Path] = []
    for path in sorted(directory.glob("*.yaml")):
        shown = f"{directory.name}/{path.name}"
        data, found = read_yaml_model(path, shown, model, cache_dir)
        problems += found
        if data is None:
            continue
        if data.locale != path.stem:
            problems.append(error(shown, f"locale {data.locale!r} differs from the file name", 1, "locale-file"))
            continue
        unknown = [label for label in data.topics if known is not None and label not in known]
        if unknown:
            problems.append(error(shown, f"unknown topic ids: {', '.join(unknown)}", None, "unknown-topic"))
            continue
        seen: set[str] = set()
        for label, texts in data.topics.items():
            for text in texts:
                if text.casefold() in seen:
                    problems.append(error(shown, f"{label}: duplicate question {text!r}", None, "duplicate"))
                    continue
                seen.add(text.casefold())
                questions.append(LabelledQuestion(data.locale, prefix + label, text))
        read.append(path)
    return TrainingSet(questions, content_hash(read) if questions else ""), problems
