"""Boundary files: what the loader accepts, what it reports, and that the validator blocks broken ones."""

import shutil
from pathlib import Path

from knowledge.boundaries import load_boundaries
from knowledge.validation import validate_dir

ROOT = Path(__file__).resolve().parent.parent

VALID = """\
locale: de
topics:
  driving-licence:
    - "führerschein umschreiben"
    - "fahrschule kosten"
  pets:
    - "hundesteuer wie viel"
"""


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_every_question_with_its_subject(tmp_path):
    _write(tmp_path, "de.yaml", VALID)
    boundaries, problems = load_boundaries(tmp_path)
    assert problems == []
    assert [(q.locale, q.subject) for q in boundaries.questions] == [
        ("de", "driving-licence"),
        ("de", "driving-licence"),
        ("de", "pets"),
    ]
    first = boundaries.content_hash
    _write(tmp_path, "de.yaml", VALID.replace("fahrschule kosten", "fahrschule preis"))
    assert load_boundaries(tmp_path)[0].content_hash not in ("", first)


def test_missing_directory_means_no_boundaries(tmp_path):
    boundaries, problems = load_boundaries(tmp_path / "absent")
    assert boundaries.questions == [] and boundaries.content_hash == "" and problems == []


def test_broken_files_are_reported_and_left_out(tmp_path):
    _write(tmp_path, "de.yaml", VALID)
    _write(tmp_path, "en.yaml", 'locale: en\ntopics:\n  pets: ["dog tax"\n')  # unclosed list
    _write(tmp_path, "xx.yaml", 'locale: xx\ntopics:\n  pets: ["dog tax"]\n')
    _write(tmp_path, "ru.yaml", 'locale: uk\ntopics:\n  pets: ["податок на собаку"]\n')
    _write(tmp_path, "tr.yaml", 'locale: tr\ntopics:\n  Bad_Subject: ["kopek vergisi"]\n')
    boundaries, problems = load_boundaries(tmp_path)
    assert {q.locale for q in boundaries.questions} == {"de"}
    by_file = {p.path.split("/")[-1]: p for p in problems}
    assert by_file["en.yaml"].code == "yaml" and by_file["en.yaml"].line == 4
    assert "unsupported locale" in by_file["xx.yaml"].message
    assert by_file["ru.yaml"].code == "locale-file"
    assert by_file["tr.yaml"].code == "schema"


def test_duplicate_question_is_an_error(tmp_path):
    _write(tmp_path, "de.yaml", VALID + '  car:\n    - "Führerschein umschreiben"\n')
    boundaries, problems = load_boundaries(tmp_path)
    assert [p.code for p in problems] == ["duplicate"] and len(boundaries.questions) == 3


def test_validator_reports_boundary_errors(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (knowledge / "boundaries" / "de.yaml").write_text("locale: de\ntopics: {}\n", encoding="utf-8")
    report = validate_dir(knowledge)
    assert [p.path for p in report.errors] == ["boundaries/de.yaml"]
    assert report.training.boundaries and all(q.locale != "de" for q in report.training.boundaries)


def test_shipped_boundaries_cover_every_locale_with_the_same_subjects():
    boundaries, problems = load_boundaries(ROOT / "knowledge" / "boundaries")
    assert problems == []
    subjects: dict[str, set[str]] = {}
    for question in boundaries.questions:
        subjects.setdefault(question.locale, set()).add(question.subject)
    assert set(subjects) == {"de", "en", "ar", "uk", "ru", "tr", "fa", "ro", "bg"}
    assert len({frozenset(s) for s in subjects.values()}) == 1


def test_file_that_is_not_utf8_is_an_error_not_a_crash(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "de.yaml").write_bytes('locale: de\ntopics:\n  pets: ["Hundesteuer"]\n'.encode("latin-1") + b"\xff")
    boundaries, problems = load_boundaries(tmp_path)
    assert boundaries.questions == [] and [p.code for p in problems] == ["encoding"]
