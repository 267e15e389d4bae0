"""Large YAML files parsed once: the cache gives the same data as parsing, and never stale or broken data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge import yaml_files
from knowledge.question_sets import read_question_set, tuning_set
from knowledge.yaml_files import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent


def _question_file(path: Path, first: str, lines: int = 1500) -> Path:
    """A question set above the size from which files are cached."""
    rows = [f'  - {{locale: de, q: "{first}", topic: work.minijob, variant: plain}}']
    rows += [f'  - {{locale: de, q: "Frage {i} zum Minijob", topic: null, class: near}}' for i in range(lines)]
    path.write_text("questions:\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size > yaml_files.MIN_BYTES
    return path


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> object:
        raise AssertionError("parsed although the cache holds the file")

    monkeypatch.setattr(yaml_files, "load_yaml", refuse)


def test_a_question_set_read_from_the_cache_equals_the_parsed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tuning_set(ROOT / "eval")
    assert path is not None
    parsed, problems = read_question_set(path, path.name)
    read_question_set(path, path.name, tmp_path)  # parses and fills the cache
    _no_parsing(monkeypatch)
    cached, _ = read_question_set(path, path.name, tmp_path)
    assert not problems and len(parsed) > 1000
    assert cached == parsed
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_an_edited_file_is_parsed_again_and_replaces_its_cache_entry(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = _question_file(tmp_path / "dev2.yaml", "Wie viel darf ich verdienen?")
    assert load_yaml_file(path, cache)["questions"][0]["q"] == "Wie viel darf ich verdienen?"
    _question_file(path, "Wie viele Stunden darf ich arbeiten?")
    assert load_yaml_file(path, cache)["questions"][0]["q"] == "Wie viele Stunden darf ich arbeiten?"
    assert len(list(cache.iterdir())) == 1  # one entry per file, not one per version


def test_a_broken_file_is_reported_even_when_its_last_good_version_is_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = _question_file(tmp_path / "dev2.yaml", "Wie viel darf ich verdienen?")
    read_question_set(path, path.name, cache)
    with path.open("a", encoding="utf-8") as broken:
        broken.write('  - {locale: de, q: "a quote that never ends\n')
    questions, problems = read_question_set(path, path.name, cache)
    assert questions == [] and [p.code for p in problems] == ["yaml"]


def test_a_damaged_cache_entry_is_ignored_and_written_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = _question_file(tmp_path / "dev2.yaml", "Wie viel darf ich verdienen?")
    expected = load_yaml_file(path, None)
    load_yaml_file(path, cache)
    (entry,) = cache.iterdir()
    entry.write_text('{"format": 1, "sha256": "', encoding="utf-8")
    assert load_yaml_file(path, cache) == expected
    assert load_yaml_file(path, cache) == expected and entry.read_text(encoding="utf-8").endswith("}")


@pytest.mark.parametrize(
    "first_line",
    ["checked: 2026-12-05", "1: a number as a key"],  # JSON has no date, and its keys are strings
)
def test_data_that_json_would_change_is_parsed_every_time(tmp_path: Path, first_line: str) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "odd.yaml"
    path.write_text(first_line + "\n" + "".join(f"key{i}: x\n" for i in range(12_000)), encoding="utf-8")
    data = load_yaml_file(path, cache)
    assert data == yaml.safe_load(path.read_text(encoding="utf-8"))
    assert not cache.exists() or not any(cache.iterdir())


def test_a_cache_folder_that_cannot_be_written_only_costs_the_parse(tmp_path: Path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("", encoding="utf-8")
    path = _question_file(tmp_path / "dev2.yaml", "Wie viel darf ich verdienen?")
    assert load_yaml_file(path, blocked / "cache") == load_yaml_file(path, None)  # no folder inside a file


def test_a_write_that_fails_half_way_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    cache = tmp_path / "cache"
    path = _question_file(tmp_path / "dev2.yaml", "Wie viel darf ich verdienen?")
    monkeypatch.setattr(yaml_files.os, "replace", full_disk)
    assert load_yaml_file(path, cache) == load_yaml_file(path, None)
    assert list(cache.iterdir()) == []


def test_data_too_deep_for_json_is_parsed_and_not_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 3000 + "]" * 3000 + "\n#" + "x" * yaml_files.MIN_BYTES + "\n", encoding="utf-8")
    data = load_yaml_file(path, cache)
    for _ in range(2999):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == []
    assert not cache.exists() or not any(cache.iterdir())
