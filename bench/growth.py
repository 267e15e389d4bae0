"""How search scales: synthetic corpora of 100k and 1M chunks, exact (flat) vs approximate (HNSW) FAISS.

    .venv/bin/python -m bench.growth [--sizes 100000 1000000]

Synthetic vectors follow the statistics of the real index (Gaussian with the mean and covariance of the
knowledge base's chunk vectors, then normalised), so they are as hard to search as real embeddings; queries
are real question embeddings from eval/dev.yaml. Prints build time, memory, latency for single queries (as the API
searches) and recall@10 of HNSW against exact search; knowledge/index.py switches to HNSW above
APPROXIMATE_ABOVE vectors.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import faiss
import numpy as np

from bench.common import percentiles, rss_mb
from knowledge.config import KnowledgeSettings
from knowledge.index import APPROXIMATE_ABOVE, HNSW_EF_SEARCH, HNSW_M, ef_search_for, make_faiss_index
from knowledge.question_sets import load_questions
from knowledge.service import KnowledgeService

ROOT = Path(__file__).resolve().parent.parent


def like_real(real: np.ndarray, n: int, rng: np.random.Generator, batch: int = 100_000) -> np.ndarray:
    mean = real.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(real - mean, rowvar=False))
    basis = (vectors * np.sqrt(np.clip(values, 0, None))).T.astype(np.float32)  # rows scaled by std dev
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, batch):
        size = min(batch, n - start)
        out[start : start + size] = mean + rng.standard_normal((size, real.shape[1])).astype(np.float32) @ basis
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def timed_search(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query.reshape(1, -1), k)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return latencies, np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    service = KnowledgeService(KnowledgeSettings())
    assert service.reload_if_changed(), service.error
    real = np.load(service.searcher.index.path / "vectors.npy")
    questions = [q.q for q in load_questions(ROOT / "eval" / "dev.yaml")][: args.queries]
    queries = service.embedder.encode_queries(questions)
    print(
        f"threads: {faiss.omp_get_max_threads()}, HNSW above {APPROXIMATE_ABOVE:,} vectors "
        f"(M={HNSW_M}, efSearch={HNSW_EF_SEARCH})"
    )
    for n in args.sizes:
        vectors = like_real(real, n, rng)
        before = rss_mb()
        started = time.perf_counter()
        exact, _ = make_faiss_index(vectors, approximate_above=n + 1)
        print(f"\n{n:,} vectors ({vectors.nbytes / 2**20:.0f} MB of float32)")
        print(f"  flat: built in {time.perf_counter() - started:.1f}s, +{rss_mb() - before:.0f} MB")
        flat_ms, truth = timed_search(exact, queries)
        print(f"  flat: {percentiles(flat_ms)}")
        del exact
        before = rss_mb()
        started = time.perf_counter()
        approx, kind = make_faiss_index(vectors, approximate_above=0)
        print(f"  {kind}: built in {time.perf_counter() - started:.1f}s, +{rss_mb() - before:.0f} MB")
        for ef in sorted({128, 256, 512, 1024, 2048, ef_search_for(n)}):
            approx.hnsw.efSearch = ef
            hnsw_ms, found = timed_search(approx, queries)
            recall = np.mean([len(set(t) & set(f)) / len(t) for t, f in zip(truth, found)])
            print(f"  {kind} efSearch={ef}: {percentiles(hnsw_ms)}, recall@10 {recall:.3f}")
        del approx, vectors


if __name__ == "__main__":
    main()
