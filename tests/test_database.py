"""The stores' database (knowledge/database.py): replicas share rows on a real PostgreSQL, and a wrong
``LOTSE_DATABASE_URL`` stops a server at once with one clear line. The stores themselves run on both engines in
tests/test_feedback.py and tests/test_insights.py (the ``database`` fixture)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from knowledge.config import KnowledgeSettings
from knowledge.database import DatabaseError, open_database
from knowledge.feedback import FeedbackStore
from knowledge.outcomes import OutcomeStore, TurnCount
from tests.engines import Postgres
from tests.fakes import PSEUDONYM_KEY, Upstreams
from tests.stack import ROOT, free_port

DAY = date(2026, 11, 30)
PASSWORD = "s3cret-pw"


def test_two_replicas_on_one_postgresql_see_each_others_rows(postgres: Postgres) -> None:
    url = postgres.create_database("replicas").url
    one, two = open_database(url), open_database(url)  # two processes' pools
    try:
        feedback_one, feedback_two = FeedbackStore(one), FeedbackStore(two)
        feedback_one.add_feedback("kita.costs", "de", "demo", False, None)
        feedback_two.add_unanswered("uk", "demo", "права обміняти", subject="driving-licence")
        for store in (feedback_one, feedback_two):
            assert [(r.entry_id, r.unhelpful) for r in store.unhelpful_entries()] == [("kita.costs", 1)]
            assert store.unanswered_subjects() == [("driving-licence", 1)]

        counts_one, counts_two = OutcomeStore(one), OutcomeStore(two)
        turn = TurnCount(DAY, "demo", "de", "web", "kita.costs", "answered", conversations=1)
        with ThreadPoolExecutor(8) as pool:  # both replicas count the same key at once: no count is lost
            list(pool.map(lambda n: (counts_one, counts_two)[n % 2].add(turn), range(40)))
        for store in (counts_one, counts_two):
            (total,) = store.totals(("topic",), DAY, DAY, "demo")
            assert (total.turns, total.conversations) == (40, 40)
    finally:
        one.close()
        two.close()


def test_two_api_replicas_on_one_postgresql_share_unanswered_questions_and_turn_counts(
    app_clients, knowledge, upstreams: Upstreams, postgres: Postgres
) -> None:
    url = postgres.create_database("api_replicas").url
    one, two = (app_clients(knowledge, database_url=url) for _ in range(2))
    upstreams.rasa_down = True  # the knowledge-only path records the question it cannot answer
    question = "Wie hoch ist die Hundesteuer in Hamburg?"
    assert one.post("/api/v1/chat", json={"session_id": "s1", "message": question, "locale": "de"}).status_code == 200
    other = two.app.state.lotse
    assert [g.question for g in other.feedback.unanswered()] == [question]
    today = datetime.now(UTC).date()
    (total,) = other.outcomes.totals(("outcome",), today, today)
    assert total.key == ("degraded",) and total.turns == 1


def test_replicas_starting_together_create_the_tables_once(postgres: Postgres) -> None:
    """Concurrent CREATE TABLE IF NOT EXISTS collides in PostgreSQL's catalogue without the schema lock."""
    url = postgres.create_database("starting_together").url
    databases = [open_database(url) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(databases)) as pool:
            list(pool.map(lambda db: (FeedbackStore(db), OutcomeStore(db)), databases))
        assert databases[0].columns("turn_counts") >= {"turns", "day"}
    finally:
        for database in databases:
            database.close()


def test_placeholders_and_percent_signs_reach_postgresql_as_written(postgres: Postgres) -> None:
    database = open_database(postgres.create_database("placeholders").url)
    try:
        assert database.fetch("SELECT ? || '%', ?", ("100", 7)) == [("100%", 7)]
        database.execute("CREATE TABLE t (x TEXT)")
        assert database.execute("INSERT INTO t VALUES (?), (?)", ("a", "b")) == 2
        assert database.columns("t") == {"x"}
    finally:
        database.close()


def test_a_deployment_moving_to_postgresql_keeps_its_rows(postgres: Postgres, tmp_path: Path) -> None:
    """`python -m knowledge copy-database` copies the SQLite file of `make run` into PostgreSQL: every row
    once, also when run again or after a run that stopped half-way."""
    from typer.testing import CliRunner

    from knowledge.cli import app

    sqlite_file = tmp_path / "lotse.sqlite3"
    source = open_database(sqlite_file)
    feedback, counts = FeedbackStore(source), OutcomeStore(source)
    feedback.add_feedback("kita.costs", "de", "demo", False, "Was kostet 100% Kita?")
    feedback.add_feedback("kita.costs", "de", "demo", True, None)
    feedback.add_unanswered("uk", "demo", "права обміняти", subject="driving-licence")
    counts.add(TurnCount(DAY, "demo", "de", "web", "kita.costs", "answered", conversations=1))
    source.close()
    url = postgres.create_database("moved").url
    target = open_database(url)
    try:  # a first run that stopped after copying the feedback
        FeedbackStore(target).add_feedback("kita.costs", "de", "demo", False, "Was kostet 100% Kita?")

        def copy() -> str:
            done = CliRunner().invoke(app, ["copy-database", "--from", str(sqlite_file), "--to", url])
            assert done.exit_code == 0, done.output
            return done.output

        output = copy()
        assert "feedback: not copied" in output and "unanswered: 1 rows copied" in output
        assert "turn_counts: 2 rows copied" in output  # the tenant's row and the sum over all tenants
        assert "rows copied" not in copy()  # nothing twice
        moved, moved_counts = FeedbackStore(target), OutcomeStore(target)
        assert [(r.entry_id, r.unhelpful, r.helpful) for r in moved.unhelpful_entries()] == [("kita.costs", 1, 0)]
        assert moved.unanswered_subjects() == [("driving-licence", 1)]
        for tenant in ("demo", None):
            (total,) = moved_counts.totals(("topic",), DAY, DAY, tenant)
            assert (total.key, total.turns, total.conversations) == (("kita.costs",), 1, 1)
    finally:
        target.close()


def test_a_copy_that_fails_half_way_says_so_and_keeps_what_it_copied(postgres: Postgres, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from knowledge.cli import app

    sqlite_file = tmp_path / "lotse.sqlite3"
    source = open_database(sqlite_file)
    store = FeedbackStore(source)
    store.add_feedback("kita.costs", "de", "demo", True, None)
    store.add_unanswered("de", "demo", "Wo ist das Theater?")
    source.close()
    url = postgres.create_database("half_way").url
    target = open_database(url)
    try:  # a table someone made by hand, with a column the copy cannot fill
        target.execute(
            "CREATE TABLE unanswered (created_at TEXT, locale TEXT, tenant TEXT, question TEXT, "
            "normalized TEXT, subject TEXT, reviewer TEXT NOT NULL)"
        )
        done = CliRunner().invoke(app, ["copy-database", "--from", str(sqlite_file), "--to", url])
        message = " ".join(done.output.split())  # the console wraps long lines
        assert done.exit_code == 1 and "copy stopped" in message and "run again" in message
        assert done.exception is None or isinstance(done.exception, SystemExit)  # a message, not a traceback
        assert target.fetch("SELECT COUNT(*) FROM feedback") == [(1,)]
        assert target.fetch("SELECT COUNT(*) FROM unanswered") == [(0,)]
    finally:
        target.close()


def test_copying_from_a_file_that_is_not_sqlite_is_one_clear_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from knowledge.cli import app

    not_sqlite = tmp_path / "feedback.csv"
    not_sqlite.write_text("entry_id,helpful\nkita.costs,1\n")
    url = f"postgresql://lotse@127.0.0.1:{free_port()}/lotse"  # never reached
    done = CliRunner().invoke(app, ["copy-database", "--from", str(not_sqlite), "--to", url])
    message = " ".join(done.output.split())  # the console wraps long lines
    assert done.exit_code == 1 and "is not an SQLite database" in message
    assert isinstance(done.exception, SystemExit)  # a message, not a traceback


def test_a_copy_into_a_table_is_all_or_nothing(postgres: Postgres) -> None:
    database = open_database(postgres.create_database("all_or_nothing").url)
    try:
        database.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        with pytest.raises(Exception, match="null value"):
            database.execute_many("INSERT INTO t (x) VALUES (?)", [(1,), (2,), (None,)])
        assert database.fetch("SELECT COUNT(*) FROM t") == [(0,)]
    finally:
        database.close()


@pytest.mark.parametrize(
    "url, reason",
    [
        (f"postgresql://lotse:{PASSWORD}@127.0.0.1:{{port}}/lotse", "Connection refused"),
        (f"postgresql://lotse:{PASSWORD}@127.0.0.1:x9/lotse", 'invalid integer value "x9"'),
        (f"mysql://lotse:{PASSWORD}@127.0.0.1/lotse", "must be a PostgreSQL URL"),
    ],
)
def test_a_wrong_url_is_one_clear_error_without_the_password(url: str, reason: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        open_database(url.format(port=free_port()))
    message = str(raised.value)
    assert "LOTSE_DATABASE_URL" in message and reason in message and PASSWORD not in message


def test_the_setting_picks_postgresql_or_the_sqlite_file(tmp_path: Path) -> None:
    url = "postgresql://lotse@db:5432/lotse"
    assert KnowledgeSettings(data_dir=tmp_path, database_url=url).database_location == url
    assert KnowledgeSettings(data_dir=tmp_path, database_url="").database_location == tmp_path / "lotse.sqlite3"


def test_servers_stop_before_the_index_loads(tmp_path: Path) -> None:
    from bot.runtime import ServerSettings, open_services

    settings = ServerSettings(data_dir=tmp_path, database_url=f"postgresql://lotse@127.0.0.1:{free_port()}/lotse")

    async def start() -> None:
        async with open_services(settings):
            pass

    with pytest.raises(DatabaseError, match="Connection refused"):
        asyncio.run(start())


def test_the_api_does_not_start_with_an_unreachable_database(tmp_path: Path) -> None:
    """A clear message on the console, not a traceback from the app's startup."""
    url = f"postgresql://lotse:{PASSWORD}@127.0.0.1:{free_port()}/lotse"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "LOTSE_DATA_DIR": str(tmp_path),
        "LOTSE_PORT": "1",
        "LOTSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "LOTSE_DATABASE_URL": url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "api"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stderr + done.stdout
    assert done.returncode != 0 and "Traceback" not in output and PASSWORD not in output
    assert "Lotse API: cannot open LOTSE_DATABASE_URL postgresql://lotse:***@127.0.0.1" in output
