"""The maintainer CLI (typer), run in-process with its real commands."""

from __future__ import annotations

from typer.testing import CliRunner

from knowledge.cli import app
from knowledge.feedback import FeedbackStore
from tests.helpers import entry_text, write_knowledge

runner = CliRunner()


def test_validate_exit_codes(tmp_path, monkeypatch):
    good = write_knowledge(tmp_path / "good", {("arrival.registration", "de"): entry_text()})
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(good))
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "Coverage" in result.output and "0 errors" in result.output
    assert runner.invoke(app, ["validate", "--strict-coverage"]).exit_code == 1  # kita.costs and en missing

    broken = write_knowledge(tmp_path / "broken", {("arrival.registration", "de"): entry_text(translation="auto")})
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(broken))
    result = runner.invoke(app, ["validate", "--no-coverage"])
    assert result.exit_code == 1
    assert "arrival.registration/de.md:" in result.output and "translation" in result.output


def test_build_refuses_broken_files_and_keeps_the_old_index(tmp_path, monkeypatch):
    knowledge = write_knowledge(tmp_path, {("arrival.registration", "de"): entry_text()})
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("LOTSE_INDEX_DIR", str(tmp_path / "index"))
    first = runner.invoke(app, ["build"])
    assert first.exit_code == 0 and "index built" in first.output
    assert "index up to date" in runner.invoke(app, ["build"]).output
    served = (tmp_path / "index" / "current").resolve()

    (knowledge / "entries" / "arrival.registration" / "de.md").write_text("---\nid: [broken\n---\n")
    refused = runner.invoke(app, ["build"])
    assert refused.exit_code == 1 and "index not built" in refused.output
    assert (tmp_path / "index" / "current").resolve() == served

    search = runner.invoke(app, ["search", "wie melde ich meine wohnung an", "-l", "de"])
    assert search.exit_code == 0 and "arrival.registration" in search.output


def test_report_lists_unhelpful_entries_and_gaps(tmp_path, monkeypatch):
    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path))
    store = FeedbackStore.open(tmp_path / "lotse.sqlite3")
    store.add_feedback("kita.costs", "ar", "demo", False, None)
    store.add_unanswered("uk", "demo", "де поміняти водійське посвідчення")
    store.close()
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0
    assert "kita.costs" in result.output and "водійське" in result.output


def test_report_shows_questions_with_markup_as_typed(tmp_path, monkeypatch):
    """A question is user text: rich markup in it is shown, not interpreted (a stray "[/]" used to crash)."""
    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path))
    store = FeedbackStore.open(tmp_path / "lotse.sqlite3")
    store.add_unanswered("de", "demo", "was ist [/] und [bold]fett[/bold]")
    store.close()
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0, result.output
    assert "[/] und [bold]fett[/bold]" in result.output


def test_conversations_refuses_a_missing_or_broken_set_with_a_clear_message(tmp_path):
    missing = runner.invoke(app, ["conversations", "--set", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no conversation set" in missing.output
    broken = tmp_path / "conv9.yaml"
    broken.write_text("conversations:\n  - {locale: de, first: hallo, first_topic: x, second: y, kind: sideways}\n")
    result = runner.invoke(app, ["conversations", "--set", str(broken)])
    assert result.exit_code == 2 and "kind" in result.output
