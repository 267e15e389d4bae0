"""The topic classifier trained at build time: probabilities, the binary case, storage without pickle."""

import numpy as np

from knowledge.classifier import TopicClassifier


def _clusters(labels: list[str], per_label: int = 12, dim: int = 8) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    centres = np.eye(dim)[: len(labels)] * 3
    vectors = np.vstack([centre + rng.normal(0, 0.3, (per_label, dim)) for centre in centres])
    return vectors.astype(np.float32), [label for label in labels for _ in range(per_label)]


def test_predicts_the_cluster_a_vector_belongs_to(tmp_path):
    vectors, labels = _clusters(["arrival.registration", "kita.costs", "work.minijob"])
    classifier = TopicClassifier.fit(vectors, labels)
    probabilities = classifier.probabilities(np.eye(8, dtype=np.float32)[1] * 3)
    assert max(probabilities, key=probabilities.get) == "kita.costs"
    assert abs(sum(probabilities.values()) - 1.0) < 1e-5

    classifier.save(tmp_path)
    loaded = TopicClassifier.load(tmp_path)
    assert loaded.classes == classifier.classes
    assert loaded.probabilities(vectors[0]) == classifier.probabilities(vectors[0])


def test_two_entries_give_two_probabilities():
    vectors, labels = _clusters(["a", "b"])
    classifier = TopicClassifier.fit(vectors, labels)
    first, second = classifier.probabilities(vectors[0])["a"], classifier.probabilities(vectors[-1])["b"]
    assert first > 0.9 and second > 0.9


def test_one_entry_needs_no_classifier(tmp_path):
    vectors, labels = _clusters(["only"])
    assert TopicClassifier.fit(vectors, labels) is None
    assert TopicClassifier.load(tmp_path) is None
