"""The dashboard with a year of history: 20 tenants, realistic synthetic daily counts (weekday rhythm, growth,
a few languages and channels per tenant, answered topics with a long tail), declined questions and feedback.
Prints the time of ``GET /api/v1/stats`` and ``GET /dashboard`` for one tenant's year and for all tenants.

    .venv/bin/python -m bench.dashboard [--tenants 20] [--days 365] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from bench.common import percentiles
from knowledge.config import KnowledgeSettings
from knowledge.feedback import FeedbackStore
from knowledge.outcomes import ALL_TENANTS, OutcomeStore
from knowledge.service import KnowledgeService
from tests.fakes import api_settings

CHANNELS = {"web": 0.6, "telegram": 0.25, "whatsapp": 0.15}
OTHER_OUTCOMES = {
    "answered_with_caution": 0.06,
    "asked_back": 0.08,
    "declined": 0.08,
    "declined_with_topics": 0.04,
    "handed_over": 0.05,
    "degraded": 0.01,
    "other": 0.2,
}
ADMIN = "bench-admin-token"


def seed(path: Path, tenants: list[str], days: int, topics: list[str], rng: random.Random) -> int:
    """Daily counts as the recorder would have written them; returns the number of rows."""
    OutcomeStore.open(path).close()  # creates the table
    today = datetime.now(UTC).date()
    rows = []
    for tenant in tenants:
        size = rng.uniform(40, 400)  # turns on an average weekday
        languages = ["de", *rng.sample(["ar", "uk", "ru", "tr", "fa", "ro", "bg", "en"], rng.randint(2, 5))]
        favourites = rng.sample(topics, 25)
        for n in range(days):
            day = today - timedelta(days=n)
            volume = size * (0.4 if day.weekday() >= 5 else 1.0) * (1 - 0.3 * n / days) * rng.uniform(0.8, 1.2)
            for locale in languages:
                share = 0.5 if locale == "de" else 0.5 / (len(languages) - 1)
                for channel, channel_share in CHANNELS.items():
                    turns = volume * share * channel_share
                    answered = int(turns * 0.54)
                    for topic in rng.sample(favourites, min(6, max(1, answered // 3))):
                        count = max(1, answered // 6)
                        rows.append((day, tenant, locale, channel, topic, "answered", count, count // 3, count // 10))
                    for outcome, outcome_share in OTHER_OUTCOMES.items():
                        if count := int(turns * outcome_share):
                            rows.append((day, tenant, locale, channel, "", outcome, count, count // 3, 0))
    db = sqlite3.connect(path)
    db.executemany(
        "INSERT INTO turn_counts VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        [(d.isoformat(), *rest) for d, *rest in rows],
    )
    db.execute(  # the sums over all tenants, as OutcomeStore.add keeps them
        f"INSERT INTO turn_counts SELECT day, '{ALL_TENANTS}', locale, channel, topic, outcome, SUM(turns), "
        "SUM(conversations), SUM(fallbacks) FROM turn_counts GROUP BY day, locale, channel, topic, outcome"
    )
    db.commit()
    db.close()
    return len(rows)


def seed_questions(path: Path, tenants: list[str], days: int, rng: random.Random) -> None:
    """Declined questions and feedback within the retention period (180 days)."""
    store = FeedbackStore.open(path)
    now = datetime.now(UTC)
    subjects = ["car", "pets", "marriage", "visitor-visa", None, None, "general-local"]
    for tenant in tenants:
        for i in range(600):
            when = now - timedelta(days=rng.randrange(min(days, 179)))
            store.add_unanswered(
                "de",
                tenant,
                f"Frage Nummer {rng.randrange(150)} zu {rng.choice(['Auto', 'Hund', 'Bus'])}",
                now=when,
                subject=rng.choice(subjects),
            )
            if i % 3 == 0:
                store.add_feedback(f"kita.topic{rng.randrange(40)}", "de", tenant, rng.random() < 0.7, None, now=when)
    store.close()


def timed(client: TestClient, url: str, repeat: int) -> tuple[list[float], float]:
    """Wall-clock milliseconds per request, and the median CPU milliseconds of this process per request (the
    database and the app run in it), which a busy shared machine does not inflate."""
    samples, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers={"authorization": f"Bearer {ADMIN}"})
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.text
    return samples, sorted(cpu)[len(cpu) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(15)
    knowledge = KnowledgeService(KnowledgeSettings())
    if not knowledge.reload_if_changed():
        raise SystemExit(f"no index: {knowledge.error} (make index)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = api_settings(Path(tmp), admin_token=ADMIN)
        names = ["demo", *[f"tenant-{i:02d}" for i in range(1, args.tenants)]]
        started = time.perf_counter()
        rows = seed(settings.database_path, names, args.days, sorted(knowledge.catalogue.topics), rng)
        seed_questions(settings.database_path, names, args.days, rng)
        print(
            f"seeded {rows} daily count rows for {len(names)} tenants x {args.days} days "
            f"in {time.perf_counter() - started:.1f}s"
        )
        today = datetime.now(UTC).date()
        period = f"from={today - timedelta(days=args.days - 1)}&to={today}"
        with TestClient(
            create_app(settings, knowledge, transport=httpx.MockTransport(lambda r: httpx.Response(503)))
        ) as client:
            first = timed(client, f"/api/v1/stats?tenant=demo&{period}", 1)[0][0]
            print(f"first request (computes the content status once per index build and day): {first:.0f} ms")
            for label, url in (
                ("JSON, one tenant, a year", f"/api/v1/stats?tenant=demo&{period}"),
                ("page, one tenant, a year", f"/dashboard?tenant=demo&{period}"),
                ("JSON, one tenant, 30 days", "/api/v1/stats?tenant=demo"),
                ("page, one tenant, 30 days", "/dashboard?tenant=demo"),
                ("JSON, all tenants, a year", f"/api/v1/stats?{period}"),
                ("page, all tenants, a year", f"/dashboard?{period}"),
            ):
                wall, cpu = timed(client, url, args.repeat)
                print(f"{label:28} {percentiles(wall)}; CPU p50 {cpu:.0f} ms")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
