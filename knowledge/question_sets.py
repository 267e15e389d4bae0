"""Question sets written outside the knowledge base (``eval/*.yaml``): development, blind and cross sets.

A file holds ``questions: [{locale, q, topic, variant | class}]``; ``topic: null`` marks a question no entry
should answer, and its ``class`` says what kind (``far``, ``local``, ``everyday``, ``near``, ``chatter``).

A blind set (``blind<N>.yaml``) is written by people who saw only the catalogue's topic ids and descriptions;
a cross set (``cross<N>.yaml``) by people who did not see the catalogue, labelled afterwards from it. Both are
held out: never learned from, never tuned on. Once a blind set's errors have been read it becomes a development
set (``dev<N>.yaml``, numbered in the order they were written; dev6 and later are former blind sets). The newest
development set tunes the search (``knowledge tune``); the older ones are labelled questions like those in
``knowledge/questions`` and ``knowledge/boundaries``: they teach the topic classifier (and, in scope, the
topic's BM25 document) how people ask, and what "none of the topics" looks like, in far more hands and
situations than the knowledge base's own files.

A free set (``free<N>.yaml``) is written like a cross set, without the catalogue, and labelled afterwards; it
is only learned from (a cross set whose errors have been read becomes one: free3 was cross1). Writers who know
the catalogue ask about its topics; people who do not ask about the rest of their lives too, and most of what
they ask next to a topic needs a counsellor, not the topic's answer.

A conversation set (``conversations/conv<N>.yaml``) holds two messages by one person: a question a topic answers,
then the next message, of one of ``CONVERSATION_KINDS`` (a follow-up that makes sense only after the first, in or
out of scope, or a new message that stands alone, in or out of scope). It measures how follow-ups are read
(``knowledge.follow_up``); conv1 is a development set, the newest one is held out. None of them teaches anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from knowledge.boundaries import CLASS_PREFIX, GENERAL_PREFIX, LabelledQuestion, Locale, TrainingSet, content_hash
from knowledge.problems import Problem, read_yaml_model

OUT_OF_SCOPE_CLASSES = ("far", "local", "everyday", "near", "chatter")
HELD_OUT_PREFIXES = ("test", "blind", "cross")  # sets that are never learned from nor tuned on
_DEVELOPMENT_SET = re.compile(r"^dev(\d*)\.yaml$")
_FREE_SET = re.compile(r"^free(\d+)\.yaml$")
_BLIND_SET = re.compile(r"^blind(\d*)\.yaml$")
_CROSS_SET = re.compile(r"^cross(\d*)\.yaml$")
_CONVERSATION_SET = re.compile(r"^conv(\d+)\.yaml$")
ConversationKind = Literal["follow", "follow_out", "new", "new_out"]
CONVERSATION_KINDS: tuple[str, ...] = get_args(ConversationKind)


@dataclass(frozen=True)
class Question:
    locale: str
    q: str
    topic: str | None
    variant: str = "plain"
    kind: str = "unclassed"  # for out-of-scope questions: one of OUT_OF_SCOPE_CLASSES


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    locale: Locale
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]  # long voice-typed ones too
    topic: str | None = None
    variant: str = "plain"
    kind: str = Field("unclassed", alias="class")


class _QuestionSetFile(BaseModel):
    questions: list[_Item]


@dataclass(frozen=True)
class Conversation:
    first: Question  # a question a topic answers
    second: Question  # the next message, measured; its ``variant`` is its kind (one of CONVERSATION_KINDS)


class _Turns(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    locale: Locale
    first: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    first_topic: str
    second: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    kind: ConversationKind
    topic: str | None = None
    out_of_scope_class: str = Field("unclassed", alias="class")

    @model_validator(mode="after")
    def _topic_fits_kind(self) -> _Turns:
        """``follow`` and ``new`` are covered (a topic); ``follow_out`` and ``new_out`` are not (a class)."""
        covered = self.kind in ("follow", "new")
        if covered != (self.topic is not None):
            raise ValueError(f"kind {self.kind} needs {'a topic' if covered else 'topic: null and a class'}")
        if not covered and self.out_of_scope_class not in OUT_OF_SCOPE_CLASSES:
            raise ValueError(f"class must be one of {', '.join(OUT_OF_SCOPE_CLASSES)}")
        return self


class _ConversationSetFile(BaseModel):
    conversations: list[_Turns]


def load_conversations(path: Path) -> list[Conversation]:
    data, problems = read_yaml_model(path, str(path), _ConversationSetFile)
    if data is None:
        raise ValueError("; ".join(str(p) for p in problems[:3]))
    return [
        Conversation(
            Question(x.locale, x.first, x.first_topic),
            # The second message's kind of conversation goes where a question set keeps its way of writing.
            Question(x.locale, x.second, x.topic, variant=x.kind, kind=x.out_of_scope_class),
        )
        for x in data.conversations
    ]


def conversation_sets(directory: Path) -> list[Path]:
    """The conversation sets in ``conversations/`` in the order they were written (the newest last)."""
    return _in_order(directory / "conversations", _CONVERSATION_SET)


def read_question_set(path: Path, shown: str, cache_dir: Path | None = None) -> tuple[list[Question], list[Problem]]:
    """The questions of one file, or the problems that keep it from being read (never half a file)."""
    data, problems = read_yaml_model(path, shown, _QuestionSetFile, cache_dir)
    if data is None:
        return [], problems
    return [Question(x.locale, x.q, x.topic, x.variant, x.kind) for x in data.questions], []


def load_questions(path: Path) -> list[Question]:
    questions, problems = read_question_set(path, str(path))
    if problems:
        raise ValueError("; ".join(str(p) for p in problems[:3]))
    return questions


def directory_beside(knowledge_dir: Path) -> Path:
    """Where the question sets of a knowledge base live: ``eval/`` beside ``knowledge/``."""
    return knowledge_dir.parent / "eval"


def is_held_out(path: Path) -> bool:
    return path.name.startswith(HELD_OUT_PREFIXES)


def _in_order(directory: Path, name: re.Pattern[str]) -> list[Path]:
    """The files of ``directory`` whose names match ``name``, by the number in the name (none counts as 1)."""
    numbered = [(m, path) for path in directory.glob("*.yaml") if (m := name.match(path.name))]
    return [path for m, path in sorted(numbered, key=lambda item: int(item[0].group(1) or 1))]


def development_sets(directory: Path) -> list[Path]:
    """The development sets in the order they were written (``dev.yaml`` is the first, then dev2, dev3, ...)."""
    return _in_order(directory, _DEVELOPMENT_SET)


def tuning_set(directory: Path) -> Path | None:
    """The newest development set: the one the search is tuned on, never learned from."""
    found = development_sets(directory)
    return found[-1] if found else None


def free_sets(directory: Path) -> list[Path]:
    """The free sets in the order they were written."""
    return _in_order(directory, _FREE_SET)


def blind_sets(directory: Path) -> list[Path]:
    """The blind sets in the order they were written (the newest last)."""
    return _in_order(directory, _BLIND_SET)


def cross_sets(directory: Path) -> list[Path]:
    """The cross sets in the order they were written (the newest last)."""
    return _in_order(directory, _CROSS_SET)


def learned_sets(directory: Path) -> list[Path]:
    """The older development sets and the free sets, whose questions teach the topic classifier."""
    return development_sets(directory)[:-1] + free_sets(directory)


def labelled_sets(directory: Path) -> list[Path]:
    """Every question set the search learns from or is tuned on."""
    return development_sets(directory) + free_sets(directory)


def load_learned(directory: Path, topics: set[str], cache_dir: Path | None = None) -> tuple[TrainingSet, list[Problem]]:
    """The learned sets as labelled questions. In-scope questions are labelled with their topic,
    out-of-scope ones with their class (``general-near`` and so on, the same broad classes as the boundary
    files); questions without a class, or whose topic is no longer in the catalogue, teach nothing. A file that
    cannot be read is reported and left out."""
    questions: list[LabelledQuestion] = []
    problems: list[Problem] = []
    read: list[Path] = []
    for path in learned_sets(directory):
        found, broken = read_question_set(path, f"{directory.name}/{path.name}", cache_dir)
        problems += broken
        if broken:
            continue
        read.append(path)
        for q in found:
            if q.topic in topics:
                label = q.topic
            elif q.topic is None and q.kind in OUT_OF_SCOPE_CLASSES:
                label = CLASS_PREFIX + GENERAL_PREFIX + q.kind
            else:
                continue
            questions.append(LabelledQuestion(q.locale, label, q.q, origin=path.stem))
    return TrainingSet(questions, content_hash(read) if questions else ""), problems
