from datetime import date
from pathlib import Path

from knowledge.validation import is_official, validate_dir
from tests.helpers import entry_text, write_knowledge

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 22)


def _codes(report):
    return {(p.severity, p.code) for p in report.problems}


def test_clean_knowledge_has_no_errors_and_full_coverage(tmp_path):
    entries = {
        ("arrival.registration", "de"): entry_text(),
        ("arrival.registration", "en"): entry_text(locale="en", title="Registering your address"),
        ("kita.costs", "de"): entry_text("kita.costs", title="Kita-Kosten"),
        ("kita.costs", "en"): entry_text("kita.costs", "en", title="Kita costs"),
    }
    report = validate_dir(write_knowledge(tmp_path, entries), TODAY)
    assert report.errors == []
    assert report.missing() == []
    assert len(report.entries) == 4


def test_errors_keep_a_file_out_of_the_served_entries(tmp_path):
    entries = {
        ("arrival.registration", "de"): entry_text(related=["does.not-exist"]),
        ("unknown.topic", "de"): entry_text("unknown.topic"),
        ("kita.costs", "de"): entry_text(
            "kita.costs", sources=[{"title": "Blog", "url": "https://blog.example.com/x"}]
        ),
        ("kita.costs", "en"): entry_text("kita.costs", "de"),  # locale differs from the file name
    }
    report = validate_dir(write_knowledge(tmp_path, entries), TODAY)
    codes = _codes(report)
    assert ("error", "related") in codes
    assert ("error", "unknown-id") in codes
    assert ("error", "official-source") in codes
    assert ("error", "locale-file") in codes
    assert report.entries == []
    assert ("warning", "coverage") in codes


def test_stale_and_future_dates(tmp_path):
    entries = {
        ("arrival.registration", "de"): entry_text(checked="2025-01-01"),
        ("kita.costs", "de"): entry_text("kita.costs", checked="2027-01-01"),
    }
    codes = _codes(validate_dir(write_knowledge(tmp_path, entries), TODAY))
    assert ("warning", "stale") in codes
    assert ("error", "checked") in codes


def test_simple_language_warnings_point_into_the_body(tmp_path):
    long_sentence = " ".join(["Wort"] * 40) + "."
    entries = {("arrival.registration", "de"): entry_text(body=long_sentence)}
    report = validate_dir(write_knowledge(tmp_path, entries), TODAY)
    warnings = [p for p in report.problems if p.code == "simple-language"]
    assert any("sentence of 40 words" in p.message for p in warnings)
    assert all(p.line and p.line > 5 for p in warnings)


def test_unknown_tenant_region_is_an_error(tmp_path):
    entries = {("arrival.registration.nowhere", "de"): entry_text("arrival.registration.nowhere", region="nowhere")}
    assert ("error", "region") in _codes(validate_dir(write_knowledge(tmp_path, entries), TODAY))


def test_official_hosts():
    assert is_official("www.bamf.de") and is_official("bamf.de") and is_official("www.berlin.de")
    assert is_official("www.gesetze-im-internet.de")
    assert not is_official("bamf.de.example.com") and not is_official("blog.example.com")


def test_the_shipped_knowledge_base_is_complete_and_valid():
    """CI guard for the content: every catalogue topic in every locale, no errors."""
    report = validate_dir(ROOT / "knowledge")
    assert report.errors == [], "\n".join(map(str, report.errors[:10]))
    assert report.missing() == [], report.missing()[:10]
    assert {e.translation for e in report.entries if e.locale in ("de", "en")} <= {"original", "reviewed"}


def test_review_due_and_stale_as_of_dates_are_warnings(tmp_path):
    stale_body = "Der Mindestlohn ist 13,90 Euro (Stand: März 2026). Fragen Sie das Amt. " * 6
    current_body = "Der Mindestlohn ist 13,90 Euro (Stand: November 2026). Fragen Sie das Amt. " * 6
    entries = {
        ("arrival.registration", "de"): entry_text(review_by="2026-11-01", body=stale_body),
        ("kita.costs", "de"): entry_text("kita.costs", review_by="2027-01-31", body=current_body),
    }
    report = validate_dir(write_knowledge(tmp_path, entries), TODAY)
    by_code = {(p.code, p.path.split("/")[-2]) for p in report.problems}
    assert ("review-due", "arrival.registration") in by_code
    assert ("as-of", "arrival.registration") in by_code
    assert ("review-due", "kita.costs") not in by_code and ("as-of", "kita.costs") not in by_code
    assert report.errors == []


def test_topic_question_files_must_name_catalogue_topics(tmp_path):
    knowledge = write_knowledge(tmp_path, {("arrival.registration", "de"): entry_text()})
    (knowledge / "questions").mkdir()
    (knowledge / "questions" / "de.yaml").write_text(
        'locale: de\ntopics:\n  kita.costs: ["was kostet die kita im monat"]\n', encoding="utf-8"
    )
    (knowledge / "questions" / "en.yaml").write_text(
        'locale: en\ntopics:\n  kita.nothing: ["what is this"]\n', encoding="utf-8"
    )
    report = validate_dir(knowledge, TODAY)
    assert [(p.path, p.code) for p in report.errors] == [("questions/en.yaml", "unknown-topic")]
    assert [(q.locale, q.label) for q in report.training.questions] == [("de", "kita.costs")]
