from datetime import UTC, datetime, timedelta

from knowledge.feedback import FeedbackStore, scrub


def test_scrub_removes_contact_data():
    text = scrub("Ich bin unter +49 170 1234567 oder max.muster@web.de erreichbar, IBAN DE89 3704 0044 0532 0130 00")
    assert "1234567" not in text and "web.de" not in text and "3704" not in text
    assert "[phone]" in text and "[email]" in text and "[iban]" in text
    assert scrub("Notruf 112 und 116117") == "Notruf 112 und 116117"  # public numbers stay


def test_store_report_and_retention(tmp_path):
    store = FeedbackStore(tmp_path / "db.sqlite3", retention_days=30)
    now = datetime.now(UTC)
    store.add_feedback("kita.costs", "de", "demo", False, "was kostet kita? ruf mich an 0170 1234567")
    store.add_feedback("kita.costs", "de", "demo", False, None)
    store.add_feedback("kita.costs", "de", "demo", True, None)
    store.add_feedback("arrival.registration", "ar", None, False, None, now=now - timedelta(days=40))
    for _ in range(3):
        store.add_unanswered("de", "demo", "Führerschein umschreiben?")
    store.add_unanswered("de", "demo", "Hundesteuer")
    store.add_unanswered("ar", None, "رخصة القيادة")

    (rating, *rest) = store.unhelpful_entries()
    assert (rating.entry_id, rating.unhelpful, rating.helpful) == ("kita.costs", 2, 1)
    gaps = store.unanswered()
    assert gaps[0].locale == "ar" and gaps[1].question == "Führerschein umschreiben?" and gaps[1].count == 3

    assert store.purge() == 1  # the 40-day-old rating
    assert [r.entry_id for r in store.unhelpful_entries()] == ["kita.costs"]
    stored = store._db.execute("SELECT question FROM feedback WHERE question IS NOT NULL").fetchone()[0]
    assert "1234567" not in stored
    store.close()
