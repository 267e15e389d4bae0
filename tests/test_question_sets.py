"""Question sets: the older development sets teach the classifier, the newest one tunes, blind sets neither."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from knowledge import question_sets
from knowledge.boundaries import CLASS_PREFIX
from knowledge.cli import app
from knowledge.validation import validate_dir

ROOT = Path(__file__).resolve().parent.parent

SET = """\
questions:
  - {locale: de, q: "Wo melde ich meine Wohnung an?", topic: arrival.registration, variant: plain}
  - {locale: de, q: "Wer gewinnt die Bundesliga?", topic: null, class: far}
  - {locale: de, q: "Was kostet eine Scheidung?", topic: null, class: near}
  - {locale: de, q: "eine Frage ohne Klasse", topic: null}
  - {locale: de, q: "ein Thema, das es nicht mehr gibt", topic: arrival.gone, variant: plain}
"""


def _write(directory: Path, name: str, text: str = SET) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory / name


def test_development_sets_are_ordered_as_they_were_written(tmp_path):
    for name in ("dev10.yaml", "dev2.yaml", "dev.yaml", "blind3.yaml", "devnotes.yaml"):
        _write(tmp_path, name)
    assert [p.name for p in question_sets.development_sets(tmp_path)] == ["dev.yaml", "dev2.yaml", "dev10.yaml"]
    assert question_sets.tuning_set(tmp_path).name == "dev10.yaml"
    assert [p.name for p in question_sets.learned_sets(tmp_path)] == ["dev.yaml", "dev2.yaml"]


def test_free_sets_are_learned_from_and_never_tune(tmp_path):
    for name in ("dev.yaml", "dev2.yaml", "free10.yaml", "free2.yaml", "freestyle.yaml", "cross1.yaml"):
        _write(tmp_path, name)
    assert question_sets.tuning_set(tmp_path).name == "dev2.yaml"
    assert [p.name for p in question_sets.learned_sets(tmp_path)] == ["dev.yaml", "free2.yaml", "free10.yaml"]
    labelled = ["dev.yaml", "dev2.yaml", "free2.yaml", "free10.yaml"]
    assert [p.name for p in question_sets.labelled_sets(tmp_path)] == labelled
    learned, _ = question_sets.load_learned(tmp_path, {"arrival.registration"})
    assert {q.origin for q in learned.questions} == {"dev", "free2", "free10"}


def test_held_out_sets_are_ordered_by_their_number_not_their_name(tmp_path):
    for name in ("blind9.yaml", "blind10.yaml", "blind11.yaml", "cross2.yaml", "cross10.yaml", "blindness.yaml"):
        _write(tmp_path, name)
    assert [p.name for p in question_sets.blind_sets(tmp_path)] == ["blind9.yaml", "blind10.yaml", "blind11.yaml"]
    assert [p.name for p in question_sets.cross_sets(tmp_path)] == ["cross2.yaml", "cross10.yaml"]


def test_older_sets_become_labelled_questions_and_the_newest_does_not(tmp_path):
    _write(tmp_path, "dev.yaml")
    _write(tmp_path, "dev2.yaml", SET.replace("Wohnung", "neue Wohnung"))
    learned, problems = question_sets.load_learned(tmp_path, {"arrival.registration"})
    assert problems == []
    assert [(q.label, q.text) for q in learned.questions] == [
        ("arrival.registration", "Wo melde ich meine Wohnung an?"),
        (CLASS_PREFIX + "general-far", "Wer gewinnt die Bundesliga?"),
        (CLASS_PREFIX + "general-near", "Was kostet eine Scheidung?"),
    ]
    assert {q.origin for q in learned.questions} == {"dev"} and all(q.from_development_set for q in learned.questions)


def test_a_change_to_a_learned_set_changes_the_training_hash_and_the_newest_does_not(tmp_path):
    _write(tmp_path, "dev.yaml")
    newest = _write(tmp_path, "dev2.yaml")
    first = question_sets.load_learned(tmp_path, {"arrival.registration"})[0].content_hash
    newest.write_text(SET.replace("Bundesliga", "Champions League"), encoding="utf-8")
    assert question_sets.load_learned(tmp_path, {"arrival.registration"})[0].content_hash == first
    _write(tmp_path, "dev.yaml", SET.replace("Bundesliga", "Champions League"))
    assert question_sets.load_learned(tmp_path, {"arrival.registration"})[0].content_hash != first


def test_a_broken_development_set_is_reported_and_left_out(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    _write(tmp_path / "eval", "dev.yaml", "questions:\n  - {locale: de, q: [not, a, text]}\n")
    _write(tmp_path / "eval", "dev2.yaml")
    _write(tmp_path / "eval", "dev3.yaml")
    report = validate_dir(knowledge)
    assert [(p.path, p.code) for p in report.errors] == [("eval/dev.yaml", "schema")]
    learned = [q for q in report.training.questions if q.from_development_set]
    assert [q.text for q in learned][:1] == ["Wo melde ich meine Wohnung an?"] and len(learned) == 3


def test_tuning_refuses_a_set_the_classifier_learned_from_and_a_blind_set():
    learned = question_sets.learned_sets(ROOT / "eval")[0]
    result = CliRunner().invoke(app, ["tune", "--set", str(learned), "--no-write"])
    assert result.exit_code == 2 and "the classifier learns from it" in result.output
    for held_out in ("blind*.yaml", "cross*.yaml"):
        path = sorted((ROOT / "eval").glob(held_out))[0]
        result = CliRunner().invoke(app, ["tune", "--set", str(path), "--no-write"])
        assert result.exit_code == 2 and "held-out set" in result.output


def test_a_broken_or_missing_question_set_is_a_clear_error_not_a_traceback(tmp_path):
    broken = _write(tmp_path, "dev.yaml", 'questions:\n  - {locale: xx, q: "hallo", topic: null, class: far}\n')
    for path, message in ((broken, "unsupported locale 'xx'"), (tmp_path / "absent.yaml", "no such file")):
        result = CliRunner().invoke(app, ["eval", "--set", str(path)])
        assert result.exit_code == 2 and message in " ".join(result.output.split())
