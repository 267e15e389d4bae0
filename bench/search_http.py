"""Warm search over HTTP as a client sees it: GET /api/v1/search on the real API process, one OpenMP thread.

    .venv/bin/python -m bench.search_http

Starts the API (and the action server) on free loopback ports without Rasa, as the end-to-end tests do, and
sends every in-scope question of the newest blind set one at a time: realistic lengths, from a few words to
voice-typed messages of 70 words. Prints latency percentiles overall and for the long questions.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import percentiles
from knowledge.question_sets import blind_sets, load_questions
from tests.stack import start_stack

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    newest = blind_sets(ROOT / "eval")[-1]
    questions = load_questions(newest)
    os.environ.setdefault("LOTSE_RATE_LIMIT_IP", "100000/minute")  # one client sends everything
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), with_rasa=False)
        try:
            with httpx.Client(base_url=stack.api_url, timeout=30) as client:
                for q in questions[:30]:
                    client.get("/api/v1/search", params={"q": q.q, "locale": q.locale})
                samples: list[float] = []
                long_samples: list[float] = []
                for q in questions:
                    started = time.perf_counter()
                    response = client.get("/api/v1/search", params={"q": q.q, "locale": q.locale, "k": 3})
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    samples.append(elapsed)
                    if len(q.q.split()) >= 30:
                        long_samples.append(elapsed)
            words = sorted(len(q.q.split()) for q in questions)
            print(f"{newest.name}: {len(questions)} questions, words per question median {words[len(words) // 2]}")
            print(f"search over HTTP (warm, loopback, one thread): {percentiles(samples)}")
            print(f"… questions of 30 words or more: {percentiles(long_samples)}")
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
