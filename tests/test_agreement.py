"""Two labellings of one question set: agreement, and Lotse's scores against each (``knowledge agreement``)."""

from __future__ import annotations

import json
import math
import warnings

import pytest
from typer.testing import CliRunner

import knowledge.cli
from knowledge import agreement
from knowledge.cli import app
from knowledge.evaluation import Outcome
from knowledge.question_sets import Question

# locale, message, the first labeller's topic, the second's (None: out of scope)
MESSAGES = [
    ("de", "Wo melde ich meine Wohnung an?", "arrival.registration", "arrival.registration"),
    ("de", "Wer gewinnt die Bundesliga?", None, None),
    ("de", "Was kostet eine Scheidung?", None, "family.counselling"),
    ("de", "Wie beantrage ich Kindergeld?", "family.child-benefit", "arrival.registration"),
    ("en", "Where do I register my flat?", "arrival.registration", None),
]


def _labelled(labeller: int, locales: tuple[str, ...] = ("de", "en")) -> list[Question]:
    """The messages as labeller 1 or 2 labelled them."""
    rows = [(locale, message, labels[labeller - 1]) for locale, message, *labels in MESSAGES if locale in locales]
    return [
        Question(locale, q, topic) if topic else Question(locale, q, None, kind="near") for locale, q, topic in rows
    ]


def _file(path, questions: list[Question]):
    lines = ["questions:"]
    for q in questions:
        label = f"topic: {q.topic}, variant: plain" if q.topic else "topic: null, class: near"
        lines.append(f'  - {{locale: {q.locale}, q: "{q.q}", {label}}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_agreement_counts_scope_and_topic_apart():
    found = agreement.compare(_labelled(1, ("de",)), _labelled(2, ("de",)))
    assert (found.questions, found.both_in_scope, found.agreed) == (4, 2, 2)
    assert found.scope == 0.75 and found.topic == 0.5
    # Cohen's kappa by hand: observed 0.75; the first labeller says "in scope" 2 of 4, the second 3 of 4, so
    # chance agreement is 0.5 * 0.75 + 0.5 * 0.25 = 0.5 and kappa = (0.75 - 0.5) / (1 - 0.5).
    assert found.scope_kappa == pytest.approx(0.5)


def test_agreement_is_given_per_locale_and_for_all():
    table = agreement.compare_by_locale(_labelled(1), _labelled(2))
    assert list(table) == ["de", "en", "all"]
    assert (table["de"].scope, table["en"].scope, table["all"].scope) == (0.75, 0.0, 0.6)
    assert (table["de"].agreed, table["en"].agreed, table["all"].agreed) == (2, 0, 2)


def test_agreement_without_anything_to_tell_from_chance_has_no_kappa_and_no_warning():
    everything_out = [Question("de", "hallo", None, kind="chatter")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = agreement.compare(everything_out, everything_out)
    assert found.scope == 1.0 and math.isnan(found.scope_kappa) and math.isnan(found.topic)


def test_labellings_of_different_messages_are_refused():
    other = _labelled(2)
    other[2] = Question("de", "Was kostet ein Anwalt?", None)
    with pytest.raises(ValueError, match="question 3 differs"):
        agreement.check_same_questions(_labelled(1), other)
    with pytest.raises(ValueError, match="5 questions in the first labelling, 4 in the second"):
        agreement.compare(_labelled(1), other[:4])


def test_the_same_answers_are_scored_against_each_labelling_and_where_both_agree():
    first, second = _labelled(1, ("de",)), _labelled(2, ("de",))
    answered = {"arrival.registration", "family.child-benefit"}
    outcomes = [
        Outcome(q, [q.topic or "arrival.registration"], answerable=q.topic in answered, ambiguous=False, score=0.5)
        for q in first
    ]
    scored = agreement.scores(outcomes, second)
    assert scored["first labels"].top1 == 1.0 and scored["first labels"].oos_abstention == 1.0
    # The second labeller put "Scheidung" in scope (declined: a false abstention) and Kindergeld elsewhere (top-1 0).
    assert scored["second labels"].top1 == pytest.approx(1 / 3)
    assert scored["second labels"].false_abstention == pytest.approx(1 / 3)
    both = scored["where both agree"]
    assert (both.in_scope, both.out_of_scope, both.top1, both.oos_abstention) == (1, 1, 1.0, 1.0)
    with pytest.raises(ValueError, match="4 questions in the first labelling, 3 in the second"):
        agreement.scores(outcomes, second[:3])


def test_the_command_refuses_two_different_sets_before_loading_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(knowledge.cli, "_service", lambda: pytest.fail("the index was loaded"))
    first = _file(tmp_path / "first.yaml", _labelled(1))
    second = _file(tmp_path / "second.yaml", _labelled(1)[:3])
    result = CliRunner().invoke(app, ["agreement", "--set", str(first), "--second", str(second)])
    assert result.exit_code == 2 and "5 questions in the first labelling, 3 in the second" in result.output
    json_elsewhere = ["--second", str(first), "--json", str(tmp_path / "absent" / "out.json")]
    result = CliRunner().invoke(app, ["agreement", "--set", str(first), *json_elsewhere])
    assert result.exit_code == 2 and "no such folder for --json" in " ".join(result.output.split())


def test_the_command_scores_the_real_index_against_both_labellings(tmp_path, knowledge):
    first = _file(tmp_path / "first.yaml", _labelled(1))
    second = _file(tmp_path / "second.yaml", _labelled(2))
    out = tmp_path / "agreement.json"
    result = CliRunner().invoke(app, ["agreement", "--set", str(first), "--second", str(second), "--json", str(out)])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text(), parse_constant=lambda constant: pytest.fail(f"{constant} is not JSON"))
    assert found["agreement"]["all"]["agreed"] == 2 and found["agreement"]["de"]["scope"] == 0.75
    assert found["scores"]["first labels"]["in_scope"] == 3 and found["scores"]["second labels"]["in_scope"] == 3
    # Where both agree: the registration question (in scope) and the football question (out of scope), both German.
    agreed = found["where_both_agree"]
    assert list(agreed) == ["de", "all"] and (agreed["all"]["in_scope"], agreed["all"]["out_of_scope"]) == (1, 1)
    assert agreed["all"]["top1"] == 1.0 and agreed["all"]["asked_back_right"] is None  # nothing asked back: null
