"""Retrieval quality on the held-out question sets: the goals of the knowledge engine, checked on every run.

The sets in ``eval/test*.yaml`` are never used for tuning (``knowledge tune`` refuses them). Per-locale
out-of-scope rates are not asserted: with 12-22 such questions per locale one question moves them by 5-8 points.
"""

from pathlib import Path

import pytest
import yaml

from knowledge import evaluation

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = sorted((ROOT / "eval").glob("test*.yaml"))
DEVELOPMENT = sorted((ROOT / "eval").glob("dev*.yaml"))


def _texts(path: Path) -> set[str]:
    return {q.q.strip().casefold() for q in evaluation.load_questions(path)}


def test_held_out_sets_share_no_question_with_development_data():
    seen = set().union(*(_texts(p) for p in DEVELOPMENT))
    for path in sorted((ROOT / "knowledge" / "boundaries").glob("*.yaml")):
        for questions in yaml.safe_load(path.read_text(encoding="utf-8"))["topics"].values():
            seen |= {q.strip().casefold() for q in questions}
    assert len(HELD_OUT) >= 2
    for path in HELD_OUT:
        assert not _texts(path) & seen, f"{path.name} repeats development questions"


@pytest.mark.parametrize("path", HELD_OUT, ids=lambda p: p.name)
def test_goals_on_held_out_questions(knowledge, path):
    outcomes = evaluation.run(knowledge.searcher, evaluation.load_questions(path), knowledge.catalogue)
    table = evaluation.by_locale(outcomes)
    overall = table.pop("all")
    assert overall.oos_abstention >= 0.85
    for locale, m in table.items():
        assert m.top1 >= 0.90, f"{locale}: top-1 {m.top1:.3f}"
        assert m.false_abstention <= 0.05, f"{locale}: false abstention {m.false_abstention:.3f}"
