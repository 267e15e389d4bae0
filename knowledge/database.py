"""Where feedback, unanswered questions and turn counts live: one setting, ``LOTSE_DATABASE_URL``, decides.

Unset (``make run``, one host), they live in an SQLite file under ``LOTSE_DATA_DIR``; set
(``postgresql://user:password@host:5432/lotse``), in PostgreSQL, which every API and action-server replica
shares. The stores (``knowledge.feedback``, ``knowledge.outcomes``) write SQL both engines understand, with
``?`` parameters; the engines differ only in the few things ``Database`` names. ``open_database`` opens
``KnowledgeSettings.database_location``: a URL (str) or the SQLite file (Path).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
CONNECT_SECONDS = 10  # a server that does not answer in this time is reported, not waited for
POOL_WAIT_SECONDS = 5.0  # a statement waits at most this long for a free connection (a database outage)
POOL_SIZE = 4  # per process: every statement is short, and replicas × processes × this must fit the server
SCHEMA_LOCK = 0x6C6F74736500  # PostgreSQL advisory lock key ("lotse") taken while a store creates its tables


class DatabaseError(RuntimeError):
    """The configured database cannot be opened; the message says which one and why, never the password."""


class Database(Protocol):
    """What the stores need from a database: statements and queries with ``?`` parameters."""

    auto_id: str  # the column definition of an auto-numbered primary key ``id``

    def create(self, statements: Sequence[str]) -> None:
        """Run a store's ``CREATE ... IF NOT EXISTS`` statements, one process at a time."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; the number of rows it changed."""

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run a statement once per row, all or none (one transaction)."""

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Run a query; its rows."""

    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` (for migrations of older files)."""

    def close(self) -> None: ...


class SQLiteDatabase:
    """One SQLite connection shared by a process's threads (WAL, autocommit): the default for ``make run``."""

    auto_id = "id INTEGER PRIMARY KEY"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()

    def create(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.execute(statement)

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(params)).rowcount

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, [tuple(row) for row in rows])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.fetch(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self._db.close()


class PostgresDatabase:
    """A pool of PostgreSQL connections (psycopg 3, autocommit) shared by a process's threads."""

    auto_id = "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"  # INTEGER PRIMARY KEY numbers nothing here

    def __init__(self, url: str, size: int = POOL_SIZE) -> None:
        from psycopg_pool import ConnectionPool  # here: processes on SQLite never load the driver

        check_database(url)  # the pool would only time out later, without the reason
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_SECONDS},
            check=ConnectionPool.check_connection,  # a connection broken by a server restart is replaced, not used
            timeout=POOL_WAIT_SECONDS,
            name="lotse",
            open=True,
        )

    @staticmethod
    def _sql(sql: str) -> str:
        """The stores' ``?`` parameters as psycopg's ``%s`` (a literal ``%`` doubled); no store writes a ``?``
        other than as a parameter."""
        return sql.replace("%", "%%").replace("?", "%s")

    def create(self, statements: Sequence[str]) -> None:
        # Replicas start together, and concurrent CREATE ... IF NOT EXISTS can still collide in PostgreSQL's
        # catalogue (a unique violation): one transaction at a time, under an advisory lock.
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in statements:
                connection.execute(self._sql(statement), ())

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._pool.connection() as connection:
            return connection.execute(self._sql(sql), tuple(params)).rowcount

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.cursor().executemany(self._sql(sql), [tuple(row) for row in rows])

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._pool.connection() as connection:
            return connection.execute(self._sql(sql), tuple(params)).fetchall()

    def columns(self, table: str) -> set[str]:
        rows = self.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ?",
            (table,),
        )
        return {name for (name,) in rows}

    def close(self) -> None:
        self._pool.close()


def redact(text: str) -> str:
    """``text`` without the password of any URL in it (libpq quotes a malformed URL whole in its errors)."""
    return re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)


def check_database(location: str | Path) -> None:
    """Raise ``DatabaseError`` when the URL is not PostgreSQL's or cannot be connected to (with libpq's reason:
    a wrong password, host or database name). Servers call it before they start, so that the reason is one
    line and not a traceback from the startup of the app. An SQLite file is created when it is missing."""
    if isinstance(location, Path):
        return
    if not location.startswith(POSTGRES_SCHEMES):
        raise DatabaseError(
            f"LOTSE_DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/database), "
            f"not {redact(location)}"
        )
    import psycopg

    try:
        psycopg.connect(location, connect_timeout=CONNECT_SECONDS).close()
    except psycopg.Error as exc:
        reason = redact(str(exc).strip())
        raise DatabaseError(f"cannot open LOTSE_DATABASE_URL {redact(location)}: {reason}") from None


def open_database(location: str | Path) -> Database:
    """PostgreSQL for a URL, the SQLite file for a path (``KnowledgeSettings.database_location``)."""
    return SQLiteDatabase(location) if isinstance(location, Path) else PostgresDatabase(location)
