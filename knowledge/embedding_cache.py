"""Vectors of texts embedded before, kept in the repository, so that a build from nothing embeds only new texts.

A build embeds about 95,000 texts: the entries' chunks and every labelled question. On two slow cores that takes
more than an hour, and the vectors depend only on the text and the model. The cache keeps them in
``knowledge/embeddings/<model>/``: append-only shards (``shard-<n>.npz``: 64-bit keys of kind and text,
float16 vectors), so git stores each vector once and a new shard adds only what the others lack.
``make embeddings`` (``python -m knowledge embeddings``) writes one from the served build.

Every vector a build uses passes through float16, whether embedded now or read from a shard (the rounding moves
a cosine by about 1e-4), so a build from the cache and a build that embeds everything are the same build.
A missing, stale or unreadable cache only makes the build slower: it is never a source of truth.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from knowledge.embedding import Embedder

SHARD = re.compile(r"^shard-(\d+)\.npz$")
QUERY, PASSAGE = "query", "passage"


def key(kind: str, text: str) -> int:
    """64 bits of SHA-256 over kind and text: at a million texts the chance of one collision is about 3e-8."""
    return int.from_bytes(hashlib.sha256(f"{kind}\n{text}".encode()).digest()[:8], "little")


def rounded(vectors: np.ndarray) -> np.ndarray:
    """What the cache stores, back as float32: every build vector takes this form (module docstring)."""
    return np.asarray(vectors, dtype=np.float16).astype(np.float32)


def model_directory(root: Path, model_id: str) -> Path:
    return root / re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


class EmbeddingCache:
    """The shards of one model, read into memory (float16: about 75 MB for 100,000 texts)."""

    def __init__(self, directory: Path | None) -> None:  # None: an empty cache
        self.directory = directory
        self._rows: dict[int, int] = {}
        self._vectors = np.zeros((0, 0), np.float16)
        readable = [shard for path in self._shards() if (shard := _read_shard(path)) is not None]
        if readable:  # one model, one width: a shard of another width is damaged, however early it sorts
            widths = [vectors.shape[1] for _, vectors in readable]
            width = max(set(widths), key=lambda w: sum(len(v) for _, v in readable if v.shape[1] == w))
            kept = [shard for shard in readable if shard[1].shape[1] == width]
            self._append(np.concatenate([keys for keys, _ in kept]), np.vstack([vectors for _, vectors in kept]))

    def _append(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        start = len(self._vectors)
        self._rows.update((int(k), start + i) for i, k in enumerate(keys))
        self._vectors = np.vstack([self._vectors, vectors]) if start else vectors

    def _shards(self) -> list[Path]:
        if self.directory is None or not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := SHARD.match(p.name))]
        return [p for _, p in sorted(found)]

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item: int) -> bool:
        return item in self._rows

    def get(self, keys: Sequence[int], dim: int) -> tuple[np.ndarray, list[int]]:
        """Vectors for ``keys`` (float32) and the positions the cache does not hold (their rows are zero)."""
        vectors = np.zeros((len(keys), dim), np.float32)
        if self._vectors.shape[1] != dim:  # another model's width: nothing here fits
            return vectors, list(range(len(keys)))
        missing = []
        for i, k in enumerate(keys):
            row = self._rows.get(k)
            if row is None:
                missing.append(i)
            else:
                vectors[i] = self._vectors[row]
        return vectors, missing

    def add_shard(self, items: Iterable[tuple[int, np.ndarray]]) -> Path | None:
        """Store the vectors of keys the cache lacks in a new shard; None when there is nothing new."""
        new: dict[int, np.ndarray] = {}
        for k, vector in items:
            if k not in self._rows and k not in new:
                new[k] = vector
        if not new or self.directory is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in self._shards() if (m := SHARD.match(p.name))]
        path = self.directory / f"shard-{max(numbers, default=0) + 1:04d}.npz"
        keys = np.fromiter(new, dtype=np.uint64, count=len(new))
        vectors = np.vstack(list(new.values())).astype(np.float16)
        partial = path.with_name(f".{path.name}.partial")  # an interrupted write never leaves a shard behind
        with partial.open("wb") as file:
            np.savez(file, keys=keys, vectors=vectors)
        os.replace(partial, path)
        self._append(keys, vectors)
        return path


def _read_shard(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Keys and vectors of a shard; None when it is damaged (a broken shard costs time, never a build)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
    except Exception:  # noqa: BLE001 - truncated zip, wrong members, a file that is not numpy at all
        return None
    if keys.ndim != 1 or vectors.ndim != 2 or len(keys) != len(vectors) or not len(keys):
        return None
    return keys, vectors


class CachedEmbedder:
    """An embedder that reads the cache first and embeds only what it lacks; every vector comes back rounded."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self._embedder = embedder
        self._cache = cache
        self.model_id = embedder.model_id
        self.dim = embedder.dim
        self.from_cache = 0
        self.embedded = 0

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        vectors, missing = self._cache.get([key(kind, t) for t in texts], self.dim)
        if missing:
            encode = self._embedder.encode_queries if kind == QUERY else self._embedder.encode_passages
            vectors[missing] = encode([texts[i] for i in missing])
        self.from_cache += len(texts) - len(missing)
        self.embedded += len(missing)
        return rounded(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, PASSAGE)
