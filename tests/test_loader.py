from knowledge.loader import parse_entry
from tests.helpers import entry_text


def test_valid_entry_parses_with_body():
    entry, problems = parse_entry(entry_text(), "x.md")
    assert problems == []
    assert entry.id == "arrival.registration" and entry.locale == "de"
    assert entry.body.startswith("Sie müssen")
    assert str(entry.checked) == "2026-11-01"


def test_yaml_error_points_at_the_line():
    text = entry_text().replace("title: Wohnung anmelden", "title: [broken")
    broken_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("title:"))
    entry, problems = parse_entry(text, "x.md")
    assert entry is None
    (problem,) = problems
    assert problem.code == "yaml"
    # YAML notices the problem a little later; the message names the line where the broken list starts.
    assert problem.line >= broken_line and f"starts on line {broken_line}" in problem.message


def test_schema_error_names_field_and_line():
    text = entry_text(translation="automatic")
    lines = text.splitlines()
    expected_line = next(i for i, line in enumerate(lines, 1) if line.startswith("translation:"))
    entry, problems = parse_entry(text, "x.md")
    assert entry is None
    (problem,) = problems
    assert problem.code == "schema" and "translation" in problem.message and problem.line == expected_line


def test_http_source_and_too_few_questions_are_errors():
    text = entry_text(questions=["only one"], sources=[{"title": "Insecure", "url": "http://example.org"}])
    _, problems = parse_entry(text, "x.md")
    messages = " ".join(p.message for p in problems)
    assert "questions" in messages and "https" in messages


def test_missing_front_matter():
    entry, problems = parse_entry("just text", "x.md")
    assert entry is None and problems[0].code == "front-matter"


def test_unsupported_locale():
    _, problems = parse_entry(entry_text(locale="xx"), "x.md")
    assert any("locale" in p.message for p in problems)
