"""A bounded load test on loopback: concurrent users chatting and searching against the real product.

    .venv/bin/python -m bench.load [--users 8] [--seconds 30]
    .venv/bin/python -m bench.load --before \
        LOTSE_RASA_VALIDATE_ONCE=false,LOTSE_NLU_SHARES_VECTOR=false,LOTSE_API_EMBEDS_MESSAGE=false [--rounds 4]
    .venv/bin/python -m bench.load ... --set eval/free14.yaml    (longer messages written without the catalogue)

Each simulated user sends the questions of a set (``--set``, the development questions by default) one after
the other: every fourth a search, the others chat turns in its own sessions (a new session every twelve
requests, new sessions in every run). Prints throughput, latency percentiles and the count of every status
code; a 5xx or a degraded answer is a failure.

``--before``: two stacks side by side, one started with these settings (before) and one without (after). They are
loaded in turn, ``--seconds`` each, in the order before, after, after, before, ... for ``--rounds`` rounds, so
that both see the same state of the machine; prints each run and the total per stack.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.common import percentiles
from knowledge.question_sets import load_questions
from tests.stack import start_stack

ROOT = Path(__file__).resolve().parent.parent


async def user(
    client: httpx.AsyncClient, run_id: str, number: int, questions, deadline: float, latencies, statuses
) -> None:
    rng = random.Random(number)
    turn = 0
    while time.monotonic() < deadline:
        q = rng.choice(questions)
        started = time.perf_counter()
        if turn % 4 == 3:
            response = await client.get("/api/v1/search", params={"q": q.q, "locale": q.locale})
        else:
            session = f"load-{run_id}-{number}-{turn // 12}"
            response = await client.post(
                "/api/v1/chat", json={"session_id": session, "message": q.q, "locale": q.locale}
            )
        latencies.append((time.perf_counter() - started) * 1000)
        degraded = response.status_code == 200 and response.json().get("degraded") is True
        statuses["degraded" if degraded else response.status_code] += 1
        turn += 1


async def load(
    api_url: str, asked: list, users: int, seconds: float, latencies: list[float], statuses: collections.Counter
) -> None:
    deadline = time.monotonic() + seconds
    # Each run has its own sessions: reused ones would grow longer from run to run and slow the later runs.
    run_id = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        await asyncio.gather(*(user(client, run_id, i, asked, deadline, latencies, statuses) for i in range(users)))


def report(label: str, users: int, seconds: float, latencies: list[float], statuses: collections.Counter) -> None:
    print(
        f"{label}{users} concurrent users for {seconds:.0f}s: {len(latencies)} requests, "
        f"{len(latencies) / seconds:.1f} requests/s"
    )
    print(f"{label}latency: {percentiles(latencies)}")
    print(f"{label}status counts: {dict(statuses)}")


def failed(statuses: collections.Counter) -> bool:
    return any(isinstance(code, int) and code >= 500 for code in statuses) or bool(statuses["degraded"])


def run(api_url: str, asked: list, users: int, seconds: float) -> None:
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    asyncio.run(load(api_url, asked, users, seconds, latencies, statuses))
    report("", users, seconds, latencies, statuses)
    if failed(statuses):
        raise SystemExit("server errors or degraded answers under load")


def side_by_side(tmp: Path, asked: list, before: dict[str, str], users: int, seconds: float, rounds: int) -> None:
    """Both stacks run all the time; only the one under load works. Before, after, after, before, ... after one
    warm-up run each that is not counted."""
    inherited = sorted(set(before) & set(os.environ))
    if inherited:  # the "after" stack would inherit them: it must run with the product's defaults
        raise SystemExit(f"unset {', '.join(inherited)} first: the 'after' stack must run with the defaults")
    stacks = {}
    try:
        for name, environment in (("before", before), ("after", {})):
            (tmp / name).mkdir()
            stacks[name] = start_stack(tmp / name, environment=environment)
        for stack in stacks.values():
            asyncio.run(load(stack.api_url, asked, users, min(seconds, 10.0), [], collections.Counter()))
        totals = {name: ([], collections.Counter()) for name in stacks}
        for n in range(rounds):
            for name in ("before", "after") if n % 2 == 0 else ("after", "before"):
                latencies: list[float] = []
                statuses: collections.Counter = collections.Counter()
                asyncio.run(load(stacks[name].api_url, asked, users, seconds, latencies, statuses))
                report(f"round {n + 1}, {name}: ", users, seconds, latencies, statuses)
                totals[name][0].extend(latencies)
                totals[name][1].update(statuses)
        for name, (latencies, statuses) in totals.items():
            report(f"all rounds, {name}: ", users, seconds * rounds, latencies, statuses)
        rates = {name: len(latencies) / (seconds * rounds) for name, (latencies, _) in totals.items()}
        print(f"after / before: x {rates['after'] / max(rates['before'], 1e-9):.2f} requests/s")
        if any(failed(statuses) for _, statuses in totals.values()):
            raise SystemExit("server errors or degraded answers under load")
    finally:
        for stack in stacks.values():
            stack.stop_all()


def settings(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if not pairs or any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise argparse.ArgumentTypeError("give NAME=value[,NAME=value...]")
    return {name.strip(): value.strip() for name, value in pairs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30, help="seconds of load (per round with --before)")
    parser.add_argument("--before", type=settings, help="settings of the 'before' stack: NAME=value[,NAME=value]")
    parser.add_argument("--rounds", type=int, default=4, help="with --before: rounds of one run per stack")
    parser.add_argument(
        "--set",
        type=Path,
        default=ROOT / "eval" / "dev.yaml",
        help="question set to send (e.g. a free set's longer messages)",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    asked = load_questions(args.set)  # read once: the same questions for every run
    os.environ.setdefault("LOTSE_RATE_LIMIT_IP", "100000/minute")  # all simulated users share one IP
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            side_by_side(Path(tmp), asked, args.before, args.users, args.seconds, args.rounds)
            return
        stack = start_stack(Path(tmp))
        try:
            run(stack.api_url, asked, args.users, args.seconds)
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
