"""What the labelled questions nearest to a message say about it: did a topic answer them, or none?

The topic classifier draws one linear boundary per class in the embedding space. Questions outside the catalogue
sit in many small pockets beside the topics (an exact fee next to the general rule, a named theatre next to
leisure time), and a vote of the nearest labelled questions can follow such pockets where a linear class cannot.
On the free sets, each group scored by a model fitted without it, the vote raised out-of-scope abstention at 3 %
false abstention from 0.60 to 0.66 (round 33 in docs/benchmarks.md).
"""

from __future__ import annotations

import math
import mmap

import faiss
import numpy as np

VOTE_SIZES = (10, 30)  # two neighbourhoods: a close one, and a wider one that is steadier
# Without labelled questions there is no vote: "not measured", which adds no effect (``search.in_scope_probability``).
NO_NEIGHBOURS = (math.nan, math.nan, math.nan)


class NeighbourVote:
    """The labelled questions' vectors and whether each lies outside the catalogue. Every vector is compared with
    the question (no approximate search), rounded to half precision: half the memory of full precision, and about
    half its time here (3.3 against 7.6 ms per question at 104,000 questions, one thread)."""

    def __init__(self, vectors: np.ndarray, outside: np.ndarray) -> None:
        if len(vectors) != len(outside):
            raise ValueError(f"{len(vectors)} vectors for {len(outside)} labels")
        self.outside = np.asarray(outside, dtype=bool)
        dim = vectors.shape[1] if vectors.ndim == 2 else 1
        self.index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            _release(vectors)

    def signals(self, query_vector: np.ndarray) -> tuple[float, float, float]:
        k = min(max(VOTE_SIZES), self.index.ntotal)
        if k == 0:
            return NO_NEIGHBOURS
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        similarities, ids = self.index.search(query, k)
        found = ids[0] >= 0
        return vote(similarities[0][found], self.outside[ids[0][found]])


def _release(vectors: np.ndarray) -> None:
    """Let a memory-mapped file's pages go once copied: read once, they would otherwise count in the serving
    process's memory for its lifetime (about 150 MB at 107,000 questions) beside the half-precision copy."""
    mapped = getattr(vectors, "_mmap", None)  # numpy.memmap's own mapping; an array in memory has none
    read_only = getattr(vectors, "mode", None) == "r"  # dropping a copy-on-write page would lose what was written
    if isinstance(mapped, mmap.mmap) and read_only and hasattr(mmap, "MADV_DONTNEED"):  # not on every system
        mapped.madvise(mmap.MADV_DONTNEED)


def vote(similarities: np.ndarray, outside: np.ndarray) -> tuple[float, float, float]:
    """For neighbours in order of similarity: the similarity-weighted share outside the catalogue among the
    nearest ``VOTE_SIZES``, and how much nearer the nearest outside one is than the nearest inside one (a side
    with none among them counts at the farthest neighbour's similarity, the most it could have)."""
    if len(similarities) == 0:
        return NO_NEIGHBOURS
    weights = np.maximum(similarities, 0.0)
    shares = []
    for size in VOTE_SIZES:
        total = float(weights[:size].sum())
        share = float((weights[:size] * outside[:size]).sum()) / total if total > 0 else float(outside[:size].mean())
        shares.append(share)
    farthest = float(similarities[-1])
    nearest_outside = float(similarities[outside][0]) if outside.any() else farthest
    nearest_inside = float(similarities[~outside][0]) if (~outside).any() else farthest
    return shares[0], shares[1], nearest_outside - nearest_inside
