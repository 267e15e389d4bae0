"""Retrieval quality on the blind question sets, and the separation that makes those numbers honest.

A blind set (``eval/blind*.yaml``) is written by people who saw only the catalogue's topic ids and
descriptions; its SHA-256 is recorded in ``eval/FROZEN`` before its first run, and it is never tuned on
(``knowledge tune`` refuses it). The newest blind set is held to floors just under what it measured when it was
frozen: a change that makes the search worse on unseen questions fails here. The goals themselves
(docs/benchmarks.md) are reported by ``make eval``.
"""

import hashlib
from pathlib import Path

import pytest
import yaml

from knowledge import evaluation
from knowledge.loader import read_front_matter
from knowledge.near_copies import near_copies, remove_near_copies
from knowledge.question_sets import (
    blind_sets,
    conversation_sets,
    cross_sets,
    labelled_sets,
    load_conversations,
    load_questions,
)

ROOT = Path(__file__).resolve().parent.parent
BLIND = blind_sets(ROOT / "eval")
CROSS = cross_sets(ROOT / "eval")
LABELLED = labelled_sets(ROOT / "eval")  # development and free sets
CONVERSATIONS = conversation_sets(ROOT / "eval")[-1:]  # the newest is held out; older ones are development sets

# Floors for the newest blind set: top-1 per locale, out-of-scope abstention overall, false abstention per locale.
# blind33 on the served state (round 38: round 37's settings; dev37 and free26 learned): top-1 0.967-1.000 per
# locale, out-of-scope 0.991, false abstention at most 0.008 (blind32 on round 37's: 0.980-1.000, 0.991, 0.004).
NEWEST_FLOORS = {"top1": 0.95, "oos_abstention": 0.90, "false_abstention": 0.03}
# Out-of-scope abstention per class, all locales together (about 25 questions per class and locale are too few
# for a floor per cell).
# blind33: far 1.00, local 1.00, everyday 1.00, near 0.96, chatter 1.00 (blind32: near 0.98; blind31: 0.94; blind30:
# 0.98; blind29: 0.98; blind28: 0.97; blind27 and blind26: 0.97; blind25: 0.93; blind21, before the writers'
# instructions were written anew: 0.76; see docs/benchmarks.md).
NEWEST_CLASS_FLOORS = {"far": 0.96, "local": 0.96, "everyday": 0.94, "near": 0.70, "chatter": 0.95}
# Of the out-of-scope questions still answered with one entry, the share answered with the caution (blind33: 1.00 of 8;
# blind32: 1.00 of 7; blind31: 0.92 of 13; blind30: 1.00 of 8; blind29: 1.00 of 8; blind28: 0.78 of 9; blind27: 1.00 of
# 11; blind26: 0.86 of 7).
NEWEST_CAUTION_FLOOR = 0.70
# Close topics after a decline (``close_threshold``): questions far from everything get none offered, and a covered
# question declined anyway often finds its topic among them. blind33: offered after 4 of 225 declined far questions and
# 1 of 225 chatter; the right topic offered after 0.64 of cross24's 45 false declines (cross23: 0.69 of 39, cross22:
# 0.69 of 48, cross21: 0.80 of 40, cross20: 0.50 of 54, cross19: 0.53 of 49, cross18: 0.57 of 30, cross17: 0.67 of 57,
# cross16: 0.52 of 42; 50 declines give a spread of about 0.07 either way, so the floor stays that far under the lowest
# of them).
NEWEST_CLOSE_CEILINGS = {"far": 0.05, "chatter": 0.05}
NEWEST_CROSS_CLOSE_FLOOR = 0.43


def _labelled_files(folder: str) -> dict[str, list[str]]:
    by_locale: dict[str, list[str]] = {}
    for path in sorted((ROOT / "knowledge" / folder).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        by_locale.setdefault(data["locale"], []).extend(q for qs in data["topics"].values() for q in qs)
    return by_locale


def _training_by_locale() -> dict[str, list[str]]:
    """Every question the search learns from or is tuned on, per locale."""
    texts: dict[str, list[str]] = {}
    for path in LABELLED:
        for q in load_questions(path):
            texts.setdefault(q.locale, []).append(q.q)
    for folder in ("boundaries", "questions"):
        for locale, questions in _labelled_files(folder).items():
            texts.setdefault(locale, []).extend(questions)
    for path in (ROOT / "knowledge" / "entries").glob("*/*.md"):
        front = read_front_matter(path)
        texts.setdefault(front["locale"], []).extend(front["questions"])
    return texts


def test_every_blind_set_is_frozen_by_its_hash():
    frozen = dict(line.split()[::-1] for line in (ROOT / "eval" / "FROZEN").read_text().splitlines() if line.strip())
    assert BLIND, "no blind set"
    for path in BLIND + CROSS + CONVERSATIONS:
        assert frozen.get(path.name) == hashlib.sha256(path.read_bytes()).hexdigest(), f"{path.name} changed"


@pytest.mark.parametrize("path", BLIND + CROSS, ids=lambda p: p.name)
def test_held_out_set_has_no_near_copy_in_training_or_development_data(path):
    training = _training_by_locale()
    by_locale: dict[str, list[str]] = {}
    for q in load_questions(path):
        by_locale.setdefault(q.locale, []).append(q.q)
    copies = [pair for locale, qs in by_locale.items() for pair in near_copies(qs, training.get(locale, []))]
    assert not copies, f"{len(copies)} near copies, e.g. {copies[:3]}"


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda p: p.name)
def test_held_out_conversations_have_no_near_copy_in_training_or_development_data(path):
    """Nor in the older conversation sets, on which the follow-up reading was chosen."""
    training = _training_by_locale()
    for older in conversation_sets(ROOT / "eval")[:-1]:  # the sets the follow-up reading was chosen on
        for c in load_conversations(older):
            training.setdefault(c.first.locale, []).extend((c.first.q, c.second.q))
    by_locale: dict[str, list[str]] = {}
    for c in load_conversations(path):
        by_locale.setdefault(c.first.locale, []).extend((c.first.q, c.second.q))
    copies = [pair for locale, qs in by_locale.items() for pair in near_copies(qs, training.get(locale, []))]
    assert not copies, f"{len(copies)} near copies, e.g. {copies[:3]}"


def test_near_copy_check_catches_case_accents_and_typos():
    assert near_copies(["Wie beantrage ich Kindergeld?"], ["wie beantrage ich kindergeld"])
    assert near_copies(["çocuk parası nasıl alınır"], ["cocuk parasi nasil alinir?"])
    assert near_copies(["where do i register my flat"], ["where do i regster my flat"])
    assert not near_copies(["where do i register my flat"], ["how much is the kita fee"])
    assert not near_copies(["👍"], ["❤️"])


def test_decopy_removes_the_learning_sides_copies_of_held_out_questions_and_nothing_else(tmp_path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "knowledge" / "boundaries").mkdir(parents=True)
    (tmp_path / "knowledge" / "questions").mkdir()
    (tmp_path / "knowledge" / "entries" / "kita").mkdir(parents=True)
    (tmp_path / "eval" / "blind3.yaml").write_text(
        'questions:\n  - {locale: de, q: "Wie beantrage ich Kindergeld?", topic: family.child-benefit}\n'
    )
    dev = (
        "# header stays\nquestions:\n"
        '  - {locale: de, q: "wie beantrage ich kindergeld", topic: family.child-benefit}\n'
        '  - {locale: en, q: "Wie beantrage ich Kindergeld?", topic: family.child-benefit}\n'
        '  - {locale: de, q: "Was kostet die Kita?", topic: kita.costs}\n'
    )
    (tmp_path / "eval" / "dev2.yaml").write_text(dev)
    boundaries = "locale: de\ntopics:\n  car:\n  - wie beantrage ich kindergld\n  - auto anmelden\n"
    (tmp_path / "knowledge" / "boundaries" / "de.yaml").write_text(boundaries)
    (tmp_path / "knowledge" / "entries" / "kita" / "x.de.md").write_text(
        "---\nlocale: de\nquestions:\n- Wie beantrage ich Kindergeld\n- Was kostet die Kita?\n---\nText\n"
    )

    dry = remove_near_copies(tmp_path, apply=False)
    assert dry.removed == {"eval/dev2.yaml": 1, "knowledge/boundaries/de.yaml": 1}
    assert (tmp_path / "eval" / "dev2.yaml").read_text() == dev  # a dry run writes nothing
    assert dry.to_reword == [("knowledge/entries/kita/x.de.md", "Wie beantrage ich Kindergeld")]

    remove_near_copies(tmp_path, apply=True)
    assert (tmp_path / "eval" / "dev2.yaml").read_text() == dev.replace(dev.splitlines(keepends=True)[2], "")
    assert (tmp_path / "knowledge" / "boundaries" / "de.yaml").read_text() == boundaries.replace(
        "  - wie beantrage ich kindergld\n", ""
    )
    assert (tmp_path / "eval" / "blind3.yaml").read_text().count("Kindergeld") == 1  # the held-out set stays
    assert not remove_near_copies(tmp_path, apply=False).removed


def test_newest_blind_set_holds_its_floors(knowledge):
    outcomes = evaluation.run(knowledge.searcher, load_questions(BLIND[-1]), knowledge.catalogue)
    table = evaluation.by_locale(outcomes)
    overall = table.pop("all")
    assert overall.oos_abstention >= NEWEST_FLOORS["oos_abstention"]
    for locale, m in table.items():
        assert m.top1 >= NEWEST_FLOORS["top1"], f"{locale}: top-1 {m.top1:.3f}"
        assert m.false_abstention <= NEWEST_FLOORS["false_abstention"], f"{locale}: {m.false_abstention:.3f}"
    for kind, row in evaluation.abstention_by_class(outcomes).items():
        assert row["all"][1] >= NEWEST_CLASS_FLOORS[kind], f"{kind}: {row['all'][1]:.3f}"
    answered_outside, cautioned = evaluation.cautions(outcomes)["out of scope"]
    assert cautioned >= NEWEST_CAUTION_FLOOR, f"{cautioned:.3f} of {answered_outside} answered out-of-scope questions"
    close = evaluation.close_topics(outcomes)
    for kind, ceiling in NEWEST_CLOSE_CEILINGS.items():
        assert close[kind][1] <= ceiling, f"{kind}: close topics offered after {close[kind][1]:.3f} of the declines"


def test_newest_cross_set_offers_the_right_topic_after_most_false_declines(knowledge):
    outcomes = evaluation.run(knowledge.searcher, load_questions(CROSS[-1]), knowledge.catalogue)
    declined, _, right = evaluation.close_topics(outcomes)["in scope"]
    assert right >= NEWEST_CROSS_CLOSE_FLOOR, f"the right topic offered after {right:.3f} of {declined} false declines"
