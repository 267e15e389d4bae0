"""Feedback and unanswered questions: what maintainers need to improve the knowledge base.

Stored in SQLite (the embedded default; one file under ``LOTSE_DATA_DIR``). Privacy by design: no session or
user identifier is stored, e-mail addresses and phone numbers are removed from questions before they are
written, and rows older than the retention period are deleted.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from knowledge.text import fold

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s()/.-]{5,}\d(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")
MAX_QUESTION_CHARS = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, entry_id TEXT NOT NULL, locale TEXT NOT NULL,
    tenant TEXT, helpful INTEGER NOT NULL, question TEXT
);
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, locale TEXT NOT NULL, tenant TEXT,
    question TEXT NOT NULL, normalized TEXT NOT NULL, subject TEXT
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at);
CREATE INDEX IF NOT EXISTS unanswered_created ON unanswered(created_at);
"""


def scrub(text: str) -> str:
    """Remove e-mail addresses, phone numbers and IBANs; cap the length."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _PHONE.sub("[phone]", text)
    return text.strip()[:MAX_QUESTION_CHARS]


@dataclass(frozen=True)
class EntryRating:
    entry_id: str
    locale: str
    unhelpful: int
    helpful: int


@dataclass(frozen=True)
class Gap:
    locale: str
    question: str
    count: int


@dataclass(frozen=True)
class Declined:
    """Declined questions of one language with the same normalised text."""

    locale: str
    question: str  # as stored: scrubbed of contact data
    normalized: str
    subject: str | None
    count: int


def _period(tenant: str | None, start: date, end: date) -> tuple[str, list[str]]:
    """The WHERE clause for the days ``start`` to ``end`` (inclusive) and one tenant, or all when None."""
    where, params = "created_at >= ? AND created_at < ?", [start.isoformat(), (end + timedelta(days=1)).isoformat()]
    return (where + " AND tenant = ?", [*params, tenant]) if tenant is not None else (where, params)


class FeedbackStore:
    def __init__(self, path: Path, retention_days: int = 180) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(unanswered)")}
        if "subject" not in columns:  # databases created before subjects were recorded
            self._db.execute("ALTER TABLE unanswered ADD COLUMN subject TEXT")
        self._lock = threading.Lock()
        self.retention = timedelta(days=retention_days)
        self.purge()

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC)

    def purge(self, now: datetime | None = None) -> int:
        cutoff = ((now or self._now()) - self.retention).isoformat()
        with self._lock:
            removed = self._db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,)).rowcount
            removed += self._db.execute("DELETE FROM unanswered WHERE created_at < ?", (cutoff,)).rowcount
        return removed

    def add_feedback(
        self,
        entry_id: str,
        locale: str,
        tenant: str | None,
        helpful: bool,
        question: str | None,
        now: datetime | None = None,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback(created_at, entry_id, locale, tenant, helpful, question) VALUES (?,?,?,?,?,?)",
                (
                    (now or self._now()).isoformat(),
                    entry_id,
                    locale,
                    tenant,
                    int(helpful),
                    scrub(question) if question else None,
                ),
            )

    def add_unanswered(
        self,
        locale: str,
        tenant: str | None,
        question: str,
        now: datetime | None = None,
        subject: str | None = None,  # the uncovered subject (``knowledge.boundaries``) it belongs to, if known
    ) -> None:
        clean = scrub(question)
        if not clean:
            return
        normalized = " ".join(re.findall(r"\w+", fold(clean)))
        with self._lock:
            self._db.execute(
                "INSERT INTO unanswered(created_at, locale, tenant, question, normalized, subject) "
                "VALUES (?,?,?,?,?,?)",
                ((now or self._now()).isoformat(), locale, tenant, clean, normalized, subject),
            )

    def unanswered_subjects(self) -> list[tuple[str, int]]:
        """How often each uncovered subject was asked: which entry to write next."""
        rows = self._db.execute(
            "SELECT subject, COUNT(*) AS n FROM unanswered WHERE subject IS NOT NULL "
            "GROUP BY subject ORDER BY n DESC, subject"
        ).fetchall()
        return [(subject, count) for subject, count in rows]

    def unhelpful_entries(self, limit: int = 10) -> list[EntryRating]:
        rows = self._db.execute(
            "SELECT entry_id, locale, SUM(helpful = 0), SUM(helpful = 1) FROM feedback GROUP BY entry_id, locale "
            "HAVING SUM(helpful = 0) > 0 ORDER BY 3 DESC, 4 ASC, entry_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [EntryRating(*row) for row in rows]

    def unanswered(self, limit_per_locale: int = 10) -> list[Gap]:
        rows = self._db.execute(
            "SELECT locale, MIN(question), COUNT(*) AS n FROM unanswered GROUP BY locale, normalized "
            "ORDER BY locale, n DESC, MIN(question)"
        ).fetchall()
        result: list[Gap] = []
        per_locale: dict[str, int] = {}
        for locale, question, count in rows:
            if per_locale.get(locale, 0) < limit_per_locale:
                result.append(Gap(locale, question, count))
                per_locale[locale] = per_locale.get(locale, 0) + 1
        return result

    def ratings(self, tenant: str | None, start: date, end: date) -> list[EntryRating]:
        """Feedback per entry and locale in a period, the least helpful first."""
        where, params = _period(tenant, start, end)
        rows = self._db.execute(
            "SELECT entry_id, locale, SUM(CASE WHEN helpful = 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN helpful = 1 THEN 1 ELSE 0 END) FROM feedback WHERE {where} "
            "GROUP BY entry_id, locale ORDER BY 3 DESC, 4 ASC, entry_id, locale",
            params,
        ).fetchall()
        return [EntryRating(*row) for row in rows]

    def declined(self, tenant: str | None, start: date, end: date) -> list[Declined]:
        """The unanswered questions of a period, counted per language and normalised text."""
        where, params = _period(tenant, start, end)
        rows = self._db.execute(
            "SELECT locale, MIN(question), normalized, MIN(subject), COUNT(*) FROM unanswered "
            f"WHERE {where} GROUP BY locale, normalized ORDER BY 5 DESC, locale, normalized",
            params,
        ).fetchall()
        return [Declined(*row) for row in rows]
