"""Warm search latency on this machine, with the query embedding measured apart, and process memory.

    make bench   (or: .venv/bin/python -m bench.search)

Uses the served index (var/index) and the questions of eval/dev.yaml, one at a time as in production.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import percentiles, rss_mb
from knowledge.config import KnowledgeSettings
from knowledge.question_sets import load_questions
from knowledge.service import KnowledgeService

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    started = time.perf_counter()
    service = KnowledgeService(KnowledgeSettings())
    assert service.reload_if_changed(), service.error
    searcher = service.searcher
    print(
        f"index: {len(searcher.index.entries)} entries, {searcher.index.faiss_index.ntotal} vectors, "
        f"loaded in {time.perf_counter() - started:.1f}s"
    )
    questions = load_questions(ROOT / "eval" / "dev.yaml")
    for q in questions[:20]:  # warm up
        searcher.search(q.q, q.locale)

    embed_ms, search_ms, total_ms, vote_ms = [], [], [], []
    for q in questions:
        t0 = time.perf_counter()
        vector = searcher.embedder.encode_queries([q.q])[0]
        t1 = time.perf_counter()
        searcher.search(q.q, q.locale, query_vector=vector)
        t2 = time.perf_counter()
        embed_ms.append((t1 - t0) * 1000)
        search_ms.append((t2 - t1) * 1000)
        total_ms.append((t2 - t0) * 1000)
        searcher.neighbours.signals(vector)  # the vote again, alone: what it adds to the search
        vote_ms.append((time.perf_counter() - t2) * 1000)
    print(f"query embedding:             {percentiles(embed_ms)}")
    print(f"search without embedding:    {percentiles(search_ms)}")
    print(f"… of which the neighbour vote: {percentiles(vote_ms)}")
    print(f"warm search (total):         {percentiles(total_ms)}")
    print(f"process resident memory:     {rss_mb():.0f} MB")
    votes = searcher.neighbours.index
    print(f"… of which the vote's index:  {votes.ntotal * votes.code_size / 2**20:.0f} MiB ({votes.ntotal} questions)")


if __name__ == "__main__":
    main()
