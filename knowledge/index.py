"""The served index: vectors in FAISS, metadata beside it, a manifest that says what built it.

Layout of ``LOTSE_INDEX_DIR``::

    current -> builds/<name>        symlink, swapped atomically after a complete build
    builds/<name>/manifest.json     model id, dimension, content hash per entry file, counts
    builds/<name>/entries.json      the validated entries (the only ones ever served)
    builds/<name>/chunks.json       one row per vector: file, entry id, locale, kind
    builds/<name>/vectors.npy       float32, L2-normalised (reused by incremental builds)
    builds/<name>/faiss.index       inner-product index over the vectors

A rebuild embeds only the files whose content hash changed; everything else is copied from the current
build. Readers never see a half-written build.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from knowledge.chunks import CHUNKER_VERSION, Chunk, chunk_entry
from knowledge.embedding import Embedder
from knowledge.models import Entry

if TYPE_CHECKING:
    from knowledge.validation import Report

# Above this many vectors exact search gets slow; HNSW keeps recall@10 >= 0.95 (see docs/benchmarks.md).
APPROXIMATE_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_SEARCH = 256  # measured recall@10 0.97 at 100k vectors; larger corpora need a wider search


def ef_search_for(vectors: int) -> int:
    """HNSW search width that keeps recall@10 >= 0.95 at this size (bench/growth.py)."""
    return HNSW_EF_SEARCH if vectors <= 300_000 else 1024 if vectors <= 1_500_000 else 2048


KEEP_BUILDS = 3
QUERY_BATCH = 64
PASSAGE_BATCH = 16


@dataclass(frozen=True)
class SourceFile:
    """A validated entry file ready to be indexed."""

    path: str
    content_hash: str
    entry: Entry


def servable_sources(report: Report, root: Path) -> list[SourceFile]:
    """The validated files an index may be built from: an entry with any error is left out."""
    servable = {e.key for e in report.entries}
    return [
        SourceFile(str(f.path.relative_to(root)), f.content_hash, f.entry)
        for f in report.files
        if f.entry is not None and f.entry.key in servable
    ]


@dataclass
class Manifest:
    model_id: str
    dim: int
    chunker_version: int
    faiss_kind: str
    created: str
    files: dict[str, str]
    entries: int
    chunks: int
    embedded_chunks: int = 0
    build_seconds: float = 0.0


@dataclass(frozen=True)
class ChunkRow:
    file: str
    entry_id: str
    locale: str
    kind: str


@dataclass
class KnowledgeIndex:
    path: Path
    manifest: Manifest
    entries: dict[tuple[str, str], Entry]
    rows: list[ChunkRow]
    faiss_index: faiss.Index

    def search_vectors(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.faiss_index.ntotal)
        scores, ids = self.faiss_index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], ids[0]


def make_faiss_index(vectors: np.ndarray, approximate_above: int = APPROXIMATE_ABOVE) -> tuple[faiss.Index, str]:
    """Exact inner product for small corpora, HNSW above ``approximate_above`` vectors."""
    dim = vectors.shape[1]
    if len(vectors) > approximate_above:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = ef_search_for(len(vectors))
        kind = "hnsw"
    else:
        index, kind = faiss.IndexFlatIP(dim), "flat"
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def current_build(index_dir: Path) -> Path | None:
    link = index_dir / "current"
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def _read_previous(index_dir: Path, model_id: str) -> tuple[dict[str, str], list[ChunkRow], np.ndarray | None]:
    build = current_build(index_dir)
    if build is None:
        return {}, [], None
    try:
        manifest = json.loads((build / "manifest.json").read_text())
        if manifest["model_id"] != model_id or manifest.get("chunker_version") != CHUNKER_VERSION:
            return {}, [], None
        rows = [ChunkRow(**r) for r in json.loads((build / "chunks.json").read_text())]
        return manifest["files"], rows, np.load(build / "vectors.npy")
    except (OSError, KeyError, ValueError):
        return {}, [], None  # an unreadable previous build means a full rebuild, never a failure


def build_index(
    files: Iterable[SourceFile],
    embedder: Embedder,
    index_dir: Path,
    progress: Callable[[int], None] | None = None,  # called with the number of chunks just embedded
    approximate_above: int = APPROXIMATE_ABOVE,
    on_plan: Callable[[int], None] | None = None,  # called once with the number of chunks to embed
) -> Manifest:
    """Build a new index beside the current one and switch to it atomically."""
    started = time.perf_counter()
    files = sorted(files, key=lambda f: f.path)
    old_files, old_rows, old_vectors = _read_previous(index_dir, embedder.model_id)
    if old_vectors is not None and old_files == {f.path: f.content_hash for f in files}:
        return load_index(index_dir).manifest  # nothing changed: keep serving the current build
    old_by_file: dict[str, list[int]] = {}
    for i, row in enumerate(old_rows):
        old_by_file.setdefault(row.file, []).append(i)

    # Reuse vectors of unchanged files; collect the chunks of changed files to embed them in large batches.
    rows: list[ChunkRow] = []
    parts: list[np.ndarray] = []
    pending: list[tuple[int, list[Chunk], str]] = []  # (position in parts, chunks, file)
    for source in files:
        reusable = (
            old_vectors is not None and old_files.get(source.path) == source.content_hash and source.path in old_by_file
        )
        if reusable:
            picked = old_by_file[source.path]
            rows += [old_rows[i] for i in picked]
            parts.append(old_vectors[picked])
        else:
            chunks = chunk_entry(source.entry)
            chunks = [c for c in chunks if c.as_query] + [c for c in chunks if not c.as_query]
            rows += [ChunkRow(source.path, c.entry_id, c.locale, c.kind) for c in chunks]
            pending.append((len(parts), chunks, source.path))
            parts.append(np.zeros((len(chunks), embedder.dim), np.float32))

    flat = [(slot, offset, chunk) for slot, chunks, _ in pending for offset, chunk in enumerate(chunks)]
    if on_plan:
        on_plan(len(flat))
    for as_query, batch_size in ((True, QUERY_BATCH), (False, PASSAGE_BATCH)):
        todo = [item for item in flat if item[2].as_query == as_query]
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            texts = [chunk.text for _, _, chunk in batch]
            vectors = embedder.encode_queries(texts) if as_query else embedder.encode_passages(texts)
            for (slot, offset, _), vector in zip(batch, vectors):
                parts[slot][offset] = vector
            if progress:
                progress(len(batch))
    embedded = len(flat)

    vectors = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)
    faiss_index, kind = make_faiss_index(vectors, approximate_above)
    manifest = Manifest(
        model_id=embedder.model_id,
        dim=embedder.dim,
        chunker_version=CHUNKER_VERSION,
        faiss_kind=kind,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        files={f.path: f.content_hash for f in files},
        entries=len(files),
        chunks=len(rows),
        embedded_chunks=embedded,
    )

    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    staging = builds / f".{name}.tmp"
    staging.mkdir()
    np.save(staging / "vectors.npy", vectors)
    faiss.write_index(faiss_index, str(staging / "faiss.index"))
    (staging / "chunks.json").write_text(json.dumps([asdict(r) for r in rows]))
    (staging / "entries.json").write_text(
        json.dumps([f.entry.model_dump(mode="json") for f in files], ensure_ascii=False)
    )
    manifest.build_seconds = round(time.perf_counter() - started, 3)
    (staging / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
    final = builds / name
    staging.rename(final)
    _switch_current(index_dir, final)
    _prune(builds, keep=KEEP_BUILDS, protect=final)
    return manifest


def _switch_current(index_dir: Path, target: Path) -> None:
    tmp_link = index_dir / f".current.{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(target.relative_to(index_dir))
    os.replace(tmp_link, index_dir / "current")  # atomic on POSIX


def _prune(builds: Path, keep: int, protect: Path) -> None:
    finished = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    for old in finished[keep:]:
        if old != protect:
            shutil.rmtree(old, ignore_errors=True)


def load_index(index_dir: Path) -> KnowledgeIndex:
    """Load the current build; raises FileNotFoundError when none exists yet."""
    build = current_build(index_dir)
    if build is None:
        raise FileNotFoundError(f"no index in {index_dir}; run `make index`")
    stored = json.loads((build / "manifest.json").read_text())
    manifest = Manifest(**{"chunker_version": 0, **stored})
    entries = [Entry.model_validate(e) for e in json.loads((build / "entries.json").read_text(encoding="utf-8"))]
    rows = [ChunkRow(**r) for r in json.loads((build / "chunks.json").read_text())]
    faiss_index = faiss.read_index(str(build / "faiss.index"))
    if manifest.faiss_kind == "hnsw":
        faiss_index.hnsw.efSearch = ef_search_for(faiss_index.ntotal)
    return KnowledgeIndex(build, manifest, {e.key: e for e in entries}, rows, faiss_index)
