"""Feedback and unanswered questions: what maintainers need to improve the knowledge base.

Stored in the database of ``knowledge.database``: an SQLite file under ``LOTSE_DATA_DIR``, or PostgreSQL when
``LOTSE_DATABASE_URL`` is set. Privacy by design: no session or user identifier is stored, e-mail addresses
and phone numbers are removed from questions before they are written, and rows older than the retention
period are deleted. Times are ISO 8601 text in UTC, so comparing them as text orders them on both engines.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from knowledge.database import Database, open_database
from knowledge.text import fold

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s()/.-]{5,}\d(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")
MAX_QUESTION_CHARS = 500

# ``{id}``: the engine's auto-numbered key (``Database.auto_id``).
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feedback (
        {id}, created_at TEXT NOT NULL, entry_id TEXT NOT NULL, locale TEXT NOT NULL,
        tenant TEXT, helpful INTEGER NOT NULL, question TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS unanswered (
        {id}, created_at TEXT NOT NULL, locale TEXT NOT NULL, tenant TEXT,
        question TEXT NOT NULL, normalized TEXT NOT NULL, subject TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at)",
    "CREATE INDEX IF NOT EXISTS unanswered_created ON unanswered(created_at)",
)


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


# Counted with CASE, not SUM(helpful = 0): PostgreSQL does not sum booleans.
_UNHELPFUL = "SUM(CASE WHEN helpful = 0 THEN 1 ELSE 0 END)"
_HELPFUL = "SUM(CASE WHEN helpful = 1 THEN 1 ELSE 0 END)"


def _period(tenant: str | None, start: date, end: date) -> tuple[str, list[str]]:
    """The WHERE clause for the days ``start`` to ``end`` (inclusive) and one tenant, or all when None."""
    where, params = "created_at >= ? AND created_at < ?", [start.isoformat(), (end + timedelta(days=1)).isoformat()]
    return (where + " AND tenant = ?", [*params, tenant]) if tenant is not None else (where, params)


class FeedbackStore:
    def __init__(self, db: Database, retention_days: int = 180) -> None:
        self.db = db
        db.create([statement.format(id=db.auto_id) for statement in SCHEMA])
        if "subject" not in db.columns("unanswered"):  # SQLite files created before subjects were recorded
            db.execute("ALTER TABLE unanswered ADD COLUMN subject TEXT")
        self.retention = timedelta(days=retention_days)
        self.purge()

    @classmethod
    def open(cls, location: str | Path, retention_days: int = 180) -> FeedbackStore:
        """A store on a database of its own (``open_database``); ``close`` closes it."""
        return cls(open_database(location), retention_days)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC)

    def purge(self, now: datetime | None = None) -> int:
        cutoff = ((now or self._now()) - self.retention).isoformat()
        removed = self.db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,))
        return removed + self.db.execute("DELETE FROM unanswered WHERE created_at < ?", (cutoff,))

    def _write(self, sql: str, params: tuple) -> None:
        """Insert a row. A database that is down must not cost the user the answer: the row is dropped and
        logged (the error type only: the row holds user text)."""
        try:
            self.db.execute(sql, params)
        except Exception as exc:  # noqa: BLE001
            log.error("feedback not stored", extra={"error": type(exc).__name__})

    def add_feedback(
        self,
        entry_id: str,
        locale: str,
        tenant: str | None,
        helpful: bool,
        question: str | None,
        now: datetime | None = None,
    ) -> None:
        self._write(
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
        self._write(
            "INSERT INTO unanswered(created_at, locale, tenant, question, normalized, subject) VALUES (?,?,?,?,?,?)",
            ((now or self._now()).isoformat(), locale, tenant, clean, normalized, subject),
        )

    def unanswered_subjects(self) -> list[tuple[str, int]]:
        """How often each uncovered subject was asked: which entry to write next."""
        rows = self.db.fetch(
            "SELECT subject, COUNT(*) AS n FROM unanswered WHERE subject IS NOT NULL "
            "GROUP BY subject ORDER BY n DESC, subject"
        )
        return [(subject, count) for subject, count in rows]

    def unhelpful_entries(self, limit: int = 10) -> list[EntryRating]:
        rows = self.db.fetch(
            f"SELECT entry_id, locale, {_UNHELPFUL}, {_HELPFUL} FROM feedback GROUP BY entry_id, locale "
            f"HAVING {_UNHELPFUL} > 0 ORDER BY 3 DESC, 4 ASC, entry_id LIMIT ?",
            (limit,),
        )
        return [EntryRating(*row) for row in rows]

    def unanswered(self, limit_per_locale: int = 10) -> list[Gap]:
        rows = self.db.fetch(
            "SELECT locale, MIN(question), COUNT(*) AS n FROM unanswered GROUP BY locale, normalized "
            "ORDER BY locale, n DESC, MIN(question)"
        )
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
        rows = self.db.fetch(
            f"SELECT entry_id, locale, {_UNHELPFUL}, {_HELPFUL} FROM feedback WHERE {where} "
            "GROUP BY entry_id, locale ORDER BY 3 DESC, 4 ASC, entry_id, locale",
            params,
        )
        return [EntryRating(*row) for row in rows]

    def declined(self, tenant: str | None, start: date, end: date) -> list[Declined]:
        """The unanswered questions of a period, counted per language and normalised text."""
        where, params = _period(tenant, start, end)
        rows = self.db.fetch(
            "SELECT locale, MIN(question), normalized, MIN(subject), COUNT(*) FROM unanswered "
            f"WHERE {where} GROUP BY locale, normalized ORDER BY 5 DESC, locale, normalized",
            params,
        )
        return [Declined(*row) for row in rows]
