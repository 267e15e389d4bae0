"""A bounded load test on loopback: concurrent users chatting and searching against the real product.

    .venv/bin/python -m bench.load [--users 8] [--seconds 30]

Each simulated user sends development questions in its own session, one after the other. Prints throughput,
latency percentiles and the count of every status code; a 5xx or a degraded answer is a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import percentiles
from knowledge.question_sets import load_questions
from tests.stack import start_stack

ROOT = Path(__file__).resolve().parent.parent


async def user(client: httpx.AsyncClient, number: int, questions, deadline: float, latencies, statuses) -> None:
    rng = random.Random(number)
    turn = 0
    while time.monotonic() < deadline:
        q = rng.choice(questions)
        started = time.perf_counter()
        if turn % 4 == 3:
            response = await client.get("/api/v1/search", params={"q": q.q, "locale": q.locale})
        else:
            response = await client.post(
                "/api/v1/chat", json={"session_id": f"load-{number}-{turn // 12}", "message": q.q, "locale": q.locale}
            )
        latencies.append((time.perf_counter() - started) * 1000)
        degraded = response.status_code == 200 and response.json().get("degraded") is True
        statuses["degraded" if degraded else response.status_code] += 1
        turn += 1


async def run(api_url: str, users: int, seconds: float) -> None:
    questions = load_questions(ROOT / "eval" / "dev.yaml")
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        await asyncio.gather(*(user(client, i, questions, deadline, latencies, statuses) for i in range(users)))
    print(
        f"{users} concurrent users for {seconds:.0f}s: {len(latencies)} requests, "
        f"{len(latencies) / seconds:.1f} requests/s"
    )
    print(f"latency: {percentiles(latencies)}")
    print(f"status counts: {dict(statuses)}")
    if any(isinstance(code, int) and code >= 500 for code in statuses) or statuses["degraded"]:
        raise SystemExit("server errors or degraded answers under load")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    os.environ.setdefault("LOTSE_RATE_LIMIT_IP", "100000/minute")  # all simulated users share one IP
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            asyncio.run(run(stack.api_url, args.users, args.seconds))
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
