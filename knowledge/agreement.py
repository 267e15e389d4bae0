"""Two independent labellings of one question set: how far the labellers agree, and the scores against each.

A cross set's label is one person's reading of a message against the catalogue's one-line descriptions. Where
a second labeller, given the same instructions, reads the message otherwise, neither label is a fact. Scores
against each labelling, and on the messages both label alike, show how much a cross set's distance from the goals
moves with the labels; what stays is Lotse's (or a bias both labellers share).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sklearn.metrics import cohen_kappa_score

from knowledge.evaluation import Metrics, Outcome, by_locale, metrics
from knowledge.question_sets import Question


@dataclass(frozen=True)
class Agreement:
    questions: int
    scope: float  # share both put in scope, or both out of scope
    scope_kappa: float  # the same, corrected for the agreement expected by chance (Cohen's kappa)
    both_in_scope: int
    topic: float  # of the questions both put in scope: share given the same topic
    agreed: int  # questions both label alike: out of scope both, or in scope with the same topic


def check_same_questions(first: list[Question], second: list[Question]) -> None:
    """Raise ValueError unless both labellings hold the same messages in the same order (the other functions
    here pair them by position)."""
    if len(first) != len(second):
        raise ValueError(f"{len(first)} questions in the first labelling, {len(second)} in the second")
    for number, (a, b) in enumerate(zip(first, second), 1):
        if (a.locale, a.q) != (b.locale, b.q):
            raise ValueError(f"question {number} differs: {a.locale} {a.q[:60]!r} / {b.locale} {b.q[:60]!r}")


def alike(a: Question, b: Question) -> bool:
    """Both out of scope (whatever the class), or both in scope with the same topic."""
    return (a.topic or None) == (b.topic or None)


def compare(first: list[Question], second: list[Question]) -> Agreement:
    check_same_questions(first, second)
    # In scope as ``evaluation.metrics`` counts it: a topic is given.
    in_scope = [(bool(a.topic), bool(b.topic)) for a, b in zip(first, second)]
    both = [(a, b) for a, b in zip(first, second) if a.topic and b.topic]
    first_scope, second_scope = zip(*in_scope) if in_scope else ((), ())
    # Kappa is undefined when both labellers give one answer only (nothing to tell from chance): nan, without
    # scikit-learn's warnings.
    single_answer = len(set(first_scope) | set(second_scope)) < 2
    return Agreement(
        questions=len(first),
        scope=sum(x == y for x, y in in_scope) / len(in_scope) if in_scope else float("nan"),
        scope_kappa=float("nan") if single_answer else float(cohen_kappa_score(first_scope, second_scope)),
        both_in_scope=len(both),
        topic=sum(a.topic == b.topic for a, b in both) / len(both) if both else float("nan"),
        agreed=sum(alike(a, b) for a, b in zip(first, second)),
    )


def compare_by_locale(first: list[Question], second: list[Question]) -> dict[str, Agreement]:
    """``compare`` per locale, and "all"."""
    check_same_questions(first, second)
    table = {}
    for locale in sorted({q.locale for q in first}):
        pairs = [(a, b) for a, b in zip(first, second) if a.locale == locale]
        table[locale] = compare([a for a, _ in pairs], [b for _, b in pairs])
    table["all"] = compare(first, second)
    return table


def scores(outcomes: list[Outcome], second: list[Question]) -> dict[str, Metrics]:
    """The same answers scored against the first labels, the second, and only where the two agree."""
    check_same_questions([o.question for o in outcomes], second)
    return {
        "first labels": metrics(outcomes),
        "second labels": metrics([replace(o, question=b) for o, b in zip(outcomes, second, strict=True)]),
        "where both agree": metrics(where_both_agree(outcomes, second)),
    }


def where_both_agree(outcomes: list[Outcome], second: list[Question]) -> list[Outcome]:
    return [o for o, b in zip(outcomes, second, strict=True) if alike(o.question, b)]


def agreed_by_locale(outcomes: list[Outcome], second: list[Question]) -> dict[str, Metrics]:
    return by_locale(where_both_agree(outcomes, second))
