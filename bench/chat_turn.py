"""A full chat turn, warm: API -> Rasa -> action server -> knowledge search -> answer, on loopback.

    .venv/bin/python -m bench.chat_turn

Starts the real product on free ports (as the end-to-end tests do), sends the development questions one by
one (a new session every 10 turns), and prints latency percentiles and each process's resident memory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from bench.common import percentiles, rss_mb, timed_chat_turn
from knowledge.question_sets import load_questions
from tests.stack import start_stack

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    questions = [q for q in load_questions(ROOT / "eval" / "dev.yaml") if q.topic][:300]
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            with httpx.Client(base_url=stack.api_url, timeout=30) as client:
                for q in questions[:20]:
                    client.post("/api/v1/chat", json={"session_id": "warmup", "message": q.q, "locale": q.locale})
                samples = [timed_chat_turn(client, f"bench-{i // 10}", q) for i, q in enumerate(questions)]
            print(f"chat turn (warm, loopback): {percentiles(samples)}")
            for name, process in stack.processes.items():
                print(f"resident memory {name:8s} {rss_mb(process.pid):6.0f} MB")
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
