"""The served index: vectors in FAISS, metadata beside it, a manifest that says what built it.

Layout of ``LOTSE_INDEX_DIR``::

    current -> builds/<name>        symlink, swapped atomically after a complete build
    builds/<name>/manifest.json     model id, dimension, content hash per entry file, counts
    builds/<name>/entries.json      the validated entries (the only ones ever served)
    builds/<name>/chunks.json       one row per vector: file, entry id, locale, kind
    builds/<name>/vectors.npy       float32, L2-normalised, then rounded through float16 (reused by incremental builds)
    builds/<name>/faiss.index       inner-product index over the vectors
    builds/<name>/classifier.npz    topic classifier trained on the question vectors (``knowledge.classifier``)
    builds/<name>/training.json     labelled questions: topic questions, boundaries (``knowledge.boundaries``) and
                                    the learned question sets (``knowledge.question_sets``)
    builds/<name>/training_vectors.npy  their vectors (classifier training, tuning and ``knowledge.neighbours``)

A rebuild embeds only the files whose content hash changed; everything else is copied from the current
build. Readers never see a half-written build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from knowledge.boundaries import EMPTY, LabelledQuestion, TrainingSet
from knowledge.chunks import CHUNKER_VERSION, Chunk, chunk_entry
from knowledge.classifier import FILE_NAME as CLASSIFIER_FILE
from knowledge.classifier import VERSION as CLASSIFIER_VERSION
from knowledge.classifier import TopicClassifier
from knowledge.embedding import Embedder
from knowledge.embedding_cache import PASSAGE, QUERY, CachedEmbedder, EmbeddingCache, key
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


# Bump when the files of a build change; a build of another format is rebuilt. Its vectors are reused from
# format 6 on; format 6 rounds every vector through float16 (``knowledge.embedding_cache``), so older vectors are not.
FORMAT_VERSION = 6
ROUNDED_SINCE = 6
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
    embedded_chunks: int = 0  # texts the previous build could not lend: read from the cache or embedded
    embedded_from_cache: int = 0
    build_seconds: float = 0.0
    training: str = ""  # content hash of the labelled question files (knowledge files and development sets)
    training_questions: int = 0
    format: int = 1
    classifier_examples: str = ""  # fingerprint of what the classifier learned from (``examples_fingerprint``)


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
    training: list[LabelledQuestion] = field(default_factory=list)
    training_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32))
    classifier: TopicClassifier | None = None

    def classifier_examples(self) -> tuple[np.ndarray, list[str], list[str]]:
        """What the classifier learns from: the entries' questions and titles, and the labelled questions."""
        return classifier_examples(
            self.rows,
            self.entries,
            lambda picked: self.faiss_index.reconstruct_batch(np.array(picked, dtype=np.int64)),
            self.training,
            self.training_vectors,
        )

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


@dataclass
class _Previous:
    """What the current build can lend to the next one."""

    files: dict[str, str] = field(default_factory=dict)
    rows: list[ChunkRow] = field(default_factory=list)
    vectors: np.ndarray | None = None
    training: str = ""
    training_rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (locale, text) -> row of the vectors
    training_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32))
    format: int = 0
    classifier: TopicClassifier | None = None
    classifier_examples: str = ""
    build: Path | None = None
    training_questions: list[LabelledQuestion] = field(default_factory=list)


def examples_fingerprint(labels: list[str], texts: list[str]) -> str:
    """What a classifier learned from and how, in one hash: the same labels and texts under the same embedding
    model give the same vectors, and with the same classifier version and build format the same model, so a build
    whose examples have this fingerprint can keep the previous classifier."""
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
    examples = json.dumps([CLASSIFIER_VERSION, FORMAT_VERSION, labels, texts], ensure_ascii=False)
    return hashlib.sha256(examples.encode()).hexdigest()


def _read_previous(index_dir: Path, model_id: str) -> _Previous:
    build = current_build(index_dir)
    if build is None:
        return _Previous()
    try:
        manifest = json.loads((build / "manifest.json").read_text())
        if manifest["model_id"] != model_id or manifest.get("chunker_version") != CHUNKER_VERSION:
            return _Previous()
        if manifest.get("format", 1) < ROUNDED_SINCE:
            return _Previous(classifier=TopicClassifier.load(build))  # a warm start still helps the fit
        rows = [ChunkRow(**r) for r in json.loads((build / "chunks.json").read_text())]
        old_training, old_training_vectors = _read_training(build)
        if len(old_training) != len(old_training_vectors):
            raise ValueError("labelled questions and their vectors differ in number")  # a damaged build
        return _Previous(
            manifest["files"],
            rows,
            np.load(build / "vectors.npy"),
            manifest.get("training", ""),
            {(q.locale, q.text): row for row, q in enumerate(old_training)},
            old_training_vectors,
            manifest.get("format", 1),
            TopicClassifier.load(build),
            manifest.get("classifier_examples", ""),
            build,
            old_training,
        )
    except (OSError, KeyError, TypeError, ValueError):
        return _Previous()  # an unreadable previous build means a full rebuild, never a failure


def _read_training(build: Path) -> tuple[list[LabelledQuestion], np.ndarray]:
    if not (build / "training.json").exists():
        return [], np.zeros((0, 1), np.float32)
    known = {f.name for f in fields(LabelledQuestion)}  # a build written by another version may lack or add fields
    stored = json.loads((build / "training.json").read_text(encoding="utf-8"))
    questions = [LabelledQuestion(**{k: v for k, v in q.items() if k in known}) for q in stored]
    # Mapped, not read: a serving process holds them once, at half precision, in its neighbour vote's index.
    return questions, np.load(build / "training_vectors.npy", mmap_mode="r")


def classifier_examples(
    rows: list[ChunkRow],
    entries: Mapping[tuple[str, str], Entry],
    chunk_vectors: Callable[[list[int]], np.ndarray],  # the vectors of these rows
    training: list[LabelledQuestion],
    training_vectors: np.ndarray,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Vectors, labels and texts the topic classifier is trained on: the entries' question and title chunks,
    then the labelled questions."""
    picked = [i for i, row in enumerate(rows) if row.kind in ("question", "title")]
    parts = [chunk_vectors(picked)] if picked else []
    if training:
        parts.append(training_vectors)
    labels = [rows[i].entry_id for i in picked] + [q.label for q in training]
    texts = _chunk_texts([rows[i] for i in picked], entries) + [q.text for q in training]
    return (np.vstack(parts) if parts else np.zeros((0, 1), np.float32)), labels, texts


def _chunk_texts(rows: list[ChunkRow], entries: Mapping[tuple[str, str], Entry]) -> list[str]:
    """The text of question and title rows: an entry's question rows follow the order of its ``questions``."""
    seen: dict[tuple[str, str], int] = {}
    texts = []
    for row in rows:
        entry = entries[(row.entry_id, row.locale)]
        if row.kind == "title":
            texts.append(entry.title)
        else:
            position = seen.get(entry.key, 0)
            texts.append(entry.questions[position])
            seen[entry.key] = position + 1
    return texts


def _training_vectors(
    questions: list[LabelledQuestion],
    embedder: Embedder,
    previous: _Previous,
    todo: list[int],
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    """Vectors for the labelled questions: reused where the text is unchanged, embedded for ``todo``."""
    vectors = np.zeros((len(questions), embedder.dim), np.float32)
    reused = [
        (i, row) for i, q in enumerate(questions) if (row := previous.training_rows.get((q.locale, q.text))) is not None
    ]
    if reused:
        mine, theirs = (list(side) for side in zip(*reused, strict=True))
        vectors[mine] = previous.training_vectors[theirs]  # one gather from the mapped file, not a row at a time
    for start in range(0, len(todo), QUERY_BATCH):
        batch = todo[start : start + QUERY_BATCH]
        vectors[batch] = embedder.encode_queries([questions[i].text for i in batch])
        if progress:
            progress(len(batch))
    return vectors


def build_index(
    files: Iterable[SourceFile],
    embedder: Embedder,
    index_dir: Path,
    progress: Callable[[int], None] | None = None,  # called with the number of chunks just embedded
    approximate_above: int = APPROXIMATE_ABOVE,
    on_plan: Callable[[int], None] | None = None,  # called once with the number of chunks to embed
    training: TrainingSet = EMPTY,
    cache: EmbeddingCache | None = None,  # vectors embedded before (``knowledge.embedding_cache``)
) -> Manifest:
    """Build a new index beside the current one and switch to it atomically."""
    started = time.perf_counter()
    files = sorted(files, key=lambda f: f.path)
    previous = _read_previous(index_dir, embedder.model_id)
    old_files, old_rows, old_vectors = previous.files, previous.rows, previous.vectors
    unchanged = (
        old_files == {f.path: f.content_hash for f in files}
        and previous.training == training.content_hash
        and previous.format == FORMAT_VERSION
    )
    if old_vectors is not None and unchanged:
        return load_index(index_dir).manifest  # nothing changed: keep serving the current build
    embedder = CachedEmbedder(embedder, cache or EmbeddingCache(None))
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
            chunks = _ordered_chunks(source.entry)
            rows += [ChunkRow(source.path, c.entry_id, c.locale, c.kind) for c in chunks]
            pending.append((len(parts), chunks, source.path))
            parts.append(np.zeros((len(chunks), embedder.dim), np.float32))

    flat = [(slot, offset, chunk) for slot, chunks, _ in pending for offset, chunk in enumerate(chunks)]
    new_training = [i for i, q in enumerate(training.questions) if (q.locale, q.text) not in previous.training_rows]
    if on_plan:
        on_plan(len(flat) + len(new_training))
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
    training_vectors = _training_vectors(training.questions, embedder, previous, new_training, progress)
    embedded = len(flat) + len(new_training)

    vectors = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)
    faiss_index, kind = make_faiss_index(vectors, approximate_above)
    entries = {f.entry.key: f.entry for f in files}
    examples = classifier_examples(rows, entries, lambda picked: vectors[picked], training.questions, training_vectors)
    fingerprint = examples_fingerprint(examples[1], examples[2])
    if previous.classifier is not None and fingerprint == previous.classifier_examples:
        classifier = previous.classifier  # only bodies changed (the usual edit): nothing new to learn
    else:
        classifier = TopicClassifier.fit(*examples, previous=previous.classifier)
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
        embedded_from_cache=embedder.from_cache,
        training=training.content_hash,
        training_questions=len(training.questions),
        format=FORMAT_VERSION,
        classifier_examples=fingerprint,
    )

    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    staging = builds / f".{name}.tmp"
    staging.mkdir()
    np.save(staging / "vectors.npy", vectors)
    faiss.write_index(faiss_index, str(staging / "faiss.index"))
    (staging / "chunks.json").write_text(json.dumps([asdict(r) for r in rows]))
    # What did not change is linked from the current build, not written again (about 170 MB with the sets).
    # The same questions (not only the same files: a topic leaving the catalogue drops its questions) have the
    # same vectors, since the embedding model is the same or ``previous`` would be empty.
    same_training = previous.training_questions == training.questions and previous.format == FORMAT_VERSION
    if not (same_training and _linked(previous.build, staging, "training.json", "training_vectors.npy")):
        np.save(staging / "training_vectors.npy", training_vectors)
        (staging / "training.json").write_text(json.dumps([asdict(q) for q in training.questions], ensure_ascii=False))
    kept = classifier is not None and classifier is previous.classifier
    if classifier is not None and not (kept and _linked(previous.build, staging, CLASSIFIER_FILE)):
        classifier.save(staging)
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


def _ordered_chunks(entry: Entry) -> list[Chunk]:
    """An entry's chunks in the order of its rows: those embedded as queries first, then the passages."""
    chunks = chunk_entry(entry)
    return [c for c in chunks if c.as_query] + [c for c in chunks if not c.as_query]


def cache_items(index: KnowledgeIndex) -> Iterator[tuple[int, np.ndarray]]:
    """(cache key, vector) for every text of a build, its chunks and its labelled questions, for
    ``EmbeddingCache.add_shard``. A build of another chunker gives none: its rows' texts cannot be told again, and a
    wrong vector in an append-only cache would stay."""
    if index.manifest.chunker_version != CHUNKER_VERSION:
        raise ValueError(f"the build was chunked by chunker {index.manifest.chunker_version}: run make index first")
    vectors = np.load(index.path / "vectors.npy", mmap_mode="r")
    by_file: dict[str, list[int]] = {}
    for i, row in enumerate(index.rows):
        by_file.setdefault(row.file, []).append(i)
    for positions in by_file.values():
        first = index.rows[positions[0]]
        chunks = _ordered_chunks(index.entries[(first.entry_id, first.locale)])
        if [c.kind for c in chunks] == [index.rows[i].kind for i in positions]:  # always, with the same chunker
            for i, chunk in zip(positions, chunks, strict=True):
                yield key(QUERY if chunk.as_query else PASSAGE, chunk.text), vectors[i]
    for question, vector in zip(index.training, index.training_vectors, strict=True):
        yield key(QUERY, question.text), vector


def _linked(previous: Path | None, staging: Path, *names: str) -> bool:
    """Hard-link unchanged files of the previous build into the new one (a copy where links are impossible);
    False, with nothing linked, when one of them is missing (the caller writes them). Builds never change a file
    after the switch, so sharing one is safe, and pruning removes only a link."""
    if previous is None or not all((previous / name).is_file() for name in names):
        return False
    for name in names:
        try:
            os.link(previous / name, staging / name)
        except OSError:
            shutil.copyfile(previous / name, staging / name)
    return True


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
    known = {f.name for f in fields(Manifest)}
    manifest = Manifest(**{"chunker_version": 0, **{k: v for k, v in stored.items() if k in known}})
    entries = [Entry.model_validate(e) for e in json.loads((build / "entries.json").read_text(encoding="utf-8"))]
    rows = [ChunkRow(**r) for r in json.loads((build / "chunks.json").read_text())]
    faiss_index = faiss.read_index(str(build / "faiss.index"))
    if manifest.faiss_kind == "hnsw":
        faiss_index.hnsw.efSearch = ef_search_for(faiss_index.ntotal)
    training, training_vectors = _read_training(build)
    return KnowledgeIndex(
        build,
        manifest,
        {e.key: e for e in entries},
        rows,
        faiss_index,
        training,
        training_vectors,
        TopicClassifier.load(build),
    )
