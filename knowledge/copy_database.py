"""Copy the stores' rows from one database to another: a deployment that moves from the SQLite file of
``make run`` to PostgreSQL (``LOTSE_DATABASE_URL``) keeps its feedback, unanswered questions and turn counts.

    python -m knowledge copy-database --to postgresql://lotse:…@db:5432/lotse

Each table is copied in one transaction, and only into an empty table: a second run, or a run after one that
stopped half-way, copies what is still missing and never counts a row twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.database import Database
from knowledge.feedback import FeedbackStore
from knowledge.outcomes import OutcomeStore

TABLES = ("feedback", "unanswered", "turn_counts")  # the stores' tables; their columns come from the stores' schema


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int  # rows copied
    skipped: bool  # the target table had rows already, so nothing was copied


def copy_database(source: Database, target: Database, retention_days: int = 180) -> list[TableCopy]:
    """Copy every store table from ``source`` into ``target`` (whose tables are created when missing).

    Opening the stores purges rows past the retention period on both sides first, as a starting server does.
    """
    for database in (source, target):  # create missing tables, and bring an older SQLite file up to date
        FeedbackStore(database, retention_days)
        OutcomeStore(database)
    return [_copy_table(source, target, table) for table in TABLES]


def _copy_table(source: Database, target: Database, table: str) -> TableCopy:
    if target.fetch(f"SELECT 1 FROM {table} LIMIT 1"):  # only names from TABLES reach the SQL
        return TableCopy(table, 0, skipped=True)
    # Every column the store created, except the auto-numbered ``id``, which is the target's to give.
    columns = sorted(source.columns(table) - {"id"})
    names = ", ".join(columns)
    rows = source.fetch(f"SELECT {names} FROM {table}")
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    # One transaction for the whole table, so that a failure leaves it empty and a rerun copies it again.
    target.execute_many(insert, rows)
    return TableCopy(table, len(rows), skipped=False)
