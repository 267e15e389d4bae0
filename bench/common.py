"""Helpers for the benchmark scripts: the served search, a question set, a timed chat turn, percentiles and
resident memory."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import numpy as np

from knowledge.config import KnowledgeSettings
from knowledge.question_sets import Question, load_questions
from knowledge.search import Searcher
from knowledge.service import KnowledgeService


def served_searcher() -> Searcher:
    """The search on the built index, as the API serves it; exits with the reason when there is no index."""
    service = KnowledgeService(KnowledgeSettings())
    if not service.reload_if_changed():
        raise SystemExit(f"knowledge index not available: {service.error}")
    return service.searcher


def read_set(path: Path) -> list[Question]:
    """A question set's questions; exits with the problem when the file is missing, invalid or empty."""
    try:
        questions = load_questions(path)
    except (OSError, ValueError) as problem:
        raise SystemExit(f"{path}: {problem}") from None
    if not questions:
        raise SystemExit(f"{path}: no questions")
    return questions


def timed_chat_turn(client: httpx.Client, session_id: str, question: Question) -> float:
    """One chat turn on the API (``client`` has the API's base URL), in milliseconds. Anything but a full
    answer (an error, or the knowledge-only path because Rasa failed) stops the benchmark."""
    body = {"session_id": session_id, "message": question.q, "locale": question.locale}
    started = time.perf_counter()
    response = client.post("/api/v1/chat", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200 and not response.json()["degraded"], response.text
    return elapsed


def percentiles(samples_ms: list[float]) -> str:
    values = np.asarray(samples_ms)
    return (
        f"p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms, "
        f"max {values.max():.1f} ms (n={len(values)})"
    )


def rss_mb(pid: int | None = None) -> float:
    """Resident set size from /proc (Linux)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024
