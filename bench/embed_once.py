"""One embedding per chat turn, measured: the same chat turns against two stacks running side by side, one whose
Rasa featurizer passes the message's vector on to the answer action (the product) and one where the action
embeds the question again (``LOTSE_NLU_SHARES_VECTOR=false``, as before).

    .venv/bin/python -m bench.embed_once [--turns 200]

The turns alternate between the two stacks, so that both see the same load from whatever else runs on the
machine. Prints latency percentiles per variant and whether the vector really reached the tracker.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import percentiles
from knowledge.evaluation import load_questions
from tests.stack import Stack, start_stack

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"embedded twice (before)": "false", "embedded once (after)": "true"}


def start(workdir: Path, shares_vector: str) -> Stack:
    os.environ["LOTSE_NLU_SHARES_VECTOR"] = shares_vector  # the stack's processes inherit the environment
    return start_stack(workdir)


def vectors_in_tracker(stack: Stack) -> int:
    with sqlite3.connect(stack.workdir / "tracker.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE data LIKE '%query_vector%'").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200, help="turns per variant")
    args = parser.parse_args()
    questions = [q for q in load_questions(ROOT / "eval" / "dev.yaml") if q.topic][: args.turns]
    with tempfile.TemporaryDirectory() as tmp:
        stacks: dict[str, Stack] = {}
        try:
            for n, (name, flag) in enumerate(VARIANTS.items()):
                (Path(tmp) / str(n)).mkdir()
                stacks[name] = start(Path(tmp) / str(n), flag)
            clients = {name: httpx.Client(base_url=s.api_url, timeout=30) for name, s in stacks.items()}
            samples: dict[str, list[float]] = {name: [] for name in stacks}
            for i, q in enumerate([*questions[:20], *questions]):
                for name, client in clients.items():
                    body = {"session_id": f"bench-{i // 10}", "message": q.q, "locale": q.locale}
                    started = time.perf_counter()
                    response = client.post("/api/v1/chat", json=body)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200 and not response.json()["degraded"], response.text
                    if i >= 20:  # the first 20 warm up
                        samples[name].append(elapsed)
            for name, values in samples.items():
                print(f"chat turn, {name:26s} {percentiles(values)}")
            for name, stack in stacks.items():
                print(f"user turns with a vector in the tracker, {name:26s} {vectors_in_tracker(stack)}")
        finally:
            for stack in stacks.values():
                stack.stop_all()


if __name__ == "__main__":
    main()
